//! Atomic file output: everything is written to a temporary file in the destination folder,
//! flushed to disk, then renamed over the destination, so that no reader ever sees a
//! half-written file and a failed write leaves the old file (if any) untouched.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
fn temp_path(path: &Path) -> PathBuf {
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
    let tmp = temp_path(path);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    let mut writer = BufWriter::new(file);
    let outcome = write(&mut writer).and_then(|()| {
        writer.flush().map_err(io_err(&tmp))?;
        writer.get_ref().sync_all().map_err(io_err(&tmp))?;
        Ok(())
    });
    drop(writer);
    match outcome.and_then(|()| std::fs::rename(&tmp, path).map_err(io_err(path))) {
        Ok(()) => Ok(()),
        Err(e) => {
            // Best effort: the original error is the one worth reporting.
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
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
    fn missing_folder_is_an_io_error() {
        let path = scratch("no/such/dir/x.txt");
        assert!(matches!(
            write_atomically(&path, |_| Ok(())),
            Err(Error::Io { .. })
        ));
    }
}
