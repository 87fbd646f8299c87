//! Atomic file output: everything is written to a temporary file in the destination folder,
//! flushed to disk, then renamed over the destination, so that no reader ever sees a
//! half-written file and a failed write leaves the old file (if any) untouched.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The temporary files and staging folders this process is writing, for
/// [`remove_in_flight`].
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Notes that `path` (a temporary file or a staging folder) is being written.
pub(crate) fn register_in_flight(path: &Path) {
    IN_FLIGHT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_path_buf());
}

/// Notes that `path` was renamed into place or removed.
pub(crate) fn unregister_in_flight(path: &Path) {
    IN_FLIGHT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| p != path);
}

/// Removes every temporary file and staging folder this process is writing: for a signal
/// handler about to end the process (Ctrl-C, SIGTERM), so that nothing half-written stays.
/// Files already renamed into place are not touched.
pub fn remove_in_flight() {
    let paths = std::mem::take(&mut *IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner()));
    for path in paths {
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        let _ = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// The prefix of the private name [`create_locked`] gives a file until it is locked.
const INIT_PREFIX: &str = ".landwatch-init-";
/// How old an unlocked [`create_locked`] file left at its private name must be before it is
/// taken for abandoned: it keeps that name for microseconds.
const INIT_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// Creates the file `path` new (read and write) and locks it before any other process can
/// find it at that name: it is created and locked under a private name in the same folder,
/// then renamed to `path` (replacing a link planted there, never following it). So a
/// cleaner that finds the file at `path` unlocked knows its writer is gone. Locks are best
/// effort: a file system without them still gets the file.
pub(crate) fn create_locked(path: &Path) -> std::io::Result<File> {
    let private = folder_of(path).join(format!("{INIT_PREFIX}{}", unpredictable_suffix()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&private)?;
    let _ = file.try_lock();
    if let Err(e) = std::fs::rename(&private, path) {
        let _ = std::fs::remove_file(&private);
        return Err(e);
    }
    Ok(file)
}

/// Whether the file at `path` is held by no live writer: it opens and its lock is free.
/// A file that is gone, or a file system without locks, counts as held.
pub(crate) fn is_unlocked(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| f.try_lock().is_ok())
}

/// Removes from `dir` the files that [`create_locked`] calls cut short by a kill left at
/// their private names.
pub(crate) fn remove_abandoned_inits(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > INIT_GRACE);
        if old
            && entry.file_name().to_string_lossy().starts_with(INIT_PREFIX)
            && is_unlocked(&entry.path())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The folder `path` is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Removes the temporary files of `path` that killed writers left (`.NAME.tmp-*` next to
/// it): a live writer holds a lock on its temporary file, so only abandoned ones are taken.
/// Links at those names are removed as links.
fn remove_abandoned_temps(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}.tmp-");
    let dir = folder_of(path);
    remove_abandoned_inits(dir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let temp = entry.path();
        let abandoned = match entry.file_type() {
            Ok(t) if t.is_file() => is_unlocked(&temp),
            Ok(t) => t.is_symlink(),
            Err(_) => false,
        };
        if abandoned {
            let _ = std::fs::remove_file(&temp);
        }
    }
}

/// Wraps an I/O error with the path it happened on.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether two paths name the same file: the same device and inode, links followed (on
/// Unix; the same canonical path elsewhere). A path that does not exist names no file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            (a.dev(), a.ino()) == (b.dev(), b.ino())
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok(),
        _ => false,
    }
}

/// 128 bits no other process can guess, as hex: each `RandomState` is keyed from the
/// operating system's randomness, and the time and a counter are mixed in.
pub(crate) fn unpredictable_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let half = |salt: u64| {
        let mut h = std::hash::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u64(n);
        h.write_u128(now);
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// A temporary path next to `path` with an unpredictable name (`.NAME.tmp-<hex>`).
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = format!(".{name}.tmp-{}", unpredictable_suffix());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(tmp),
        _ => PathBuf::from(tmp),
    }
}

/// Writes `path` atomically: `write` fills a buffered temporary file in the same folder,
/// which is then flushed, synced and renamed over `path`. If `write` fails, or anything
/// after it, the temporary file is removed and `path` is left as it was. The temporary file
/// is created new (`O_EXCL`): a link planted at its name is never followed, and renaming
/// over `path` replaces a link there rather than writing through it.
pub fn write_atomically<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<()>,
{
    remove_abandoned_temps(path);
    let tmp = temp_path(path);
    // Locked until the file is closed: tells a later writer that this temporary is not
    // abandoned.
    let file = create_locked(&tmp).map_err(io_err(&tmp))?;
    register_in_flight(&tmp);
    let mut writer = BufWriter::new(file);
    let outcome = write(&mut writer).and_then(|()| {
        writer.flush().map_err(io_err(&tmp))?;
        writer.get_ref().sync_all().map_err(io_err(&tmp))?;
        Ok(())
    });
    // Renamed while still open and locked, so that no other writer takes it for abandoned.
    let renamed = outcome.and_then(|()| std::fs::rename(&tmp, path).map_err(io_err(path)));
    drop(writer);
    if renamed.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = std::fs::remove_file(&tmp);
    }
    unregister_in_flight(&tmp);
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("landwatch-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn success_replaces_and_failure_keeps_old_file() {
        let path = scratch("a.txt");
        write_atomically(&path, |w| w.write_all(b"first").map_err(io_err(&path))).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let err = write_atomically(&path, |w| {
            w.write_all(b"half").map_err(io_err(&path))?;
            Err(Error::EmptyRaster {
                width: 0,
                height: 0,
            })
        });
        assert!(matches!(err, Err(Error::EmptyRaster { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert!(leftovers(path.parent().unwrap()).is_empty());
    }

    #[test]
    fn a_locked_file_is_held_from_its_first_appearance_until_closed() {
        let dir = scratch("locked");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.lock");
        let file = create_locked(&path).unwrap();
        assert!(
            !is_unlocked(&path),
            "a live writer's file was taken for free"
        );
        drop(file);
        assert!(is_unlocked(&path));
        // Nothing stays at a private name.
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["x.lock"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_folder_is_an_io_error() {
        let path = scratch("no/such/dir/x.txt");
        assert!(matches!(
            write_atomically(&path, |_| Ok(())),
            Err(Error::Io { .. })
        ));
    }
}
