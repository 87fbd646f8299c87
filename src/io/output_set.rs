//! A folder's set of outputs, written as one transaction: the folder is locked for the run,
//! every file is written into a private staging folder inside it, and the set is published
//! only when the whole run succeeded, its completion record last. A failed, refused,
//! cancelled or killed run leaves the folder's earlier set exactly as it was; what a killed
//! run left behind is removed by the next run.

use crate::error::{Error, Result};
use crate::io::atomic::{io_err, register_in_flight, unpredictable_suffix, unregister_in_flight};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The lock file of an output folder.
pub const LOCK_FILE: &str = ".landwatch.lock";
/// The prefix of staging folders.
const STAGING_PREFIX: &str = ".landwatch-staging-";

/// An output folder locked for one run, with the staging folder the run writes into.
#[derive(Debug)]
pub struct OutputSet {
    dir: PathBuf,
    staging: PathBuf,
    /// Held for the life of the set: the operating system releases the lock when the process
    /// ends, however it ends.
    _lock: File,
    published: bool,
    /// Whether `begin` created the folder: a run that does not publish then removes it.
    created: bool,
}

impl OutputSet {
    /// Creates `dir` if needed, locks it (another run holding it is refused with a message),
    /// removes what killed runs left (staging folders and temporary files), and opens a new
    /// staging folder with an unpredictable name. When the set is dropped unpublished, a
    /// folder that `begin` created is removed again.
    pub fn begin(dir: &Path) -> Result<OutputSet> {
        let created = std::fs::symlink_metadata(dir).is_err();
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        if std::fs::symlink_metadata(&lock_path).is_ok_and(|m| !m.is_file()) {
            return Err(Error::Io {
                path: lock_path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the lock file is a link or a folder; landwatch will not follow it",
                ),
            });
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        // A link planted between the check above and the open is not followed either.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let lock = options.open(&lock_path).map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::OutputBusy {
                    path: dir.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(Error::Io {
                    path: lock_path,
                    source,
                });
            }
        }
        remove_leftovers(dir)?;
        let staging = dir.join(format!("{STAGING_PREFIX}{}", unpredictable_suffix()));
        std::fs::create_dir(&staging).map_err(io_err(&staging))?;
        register_in_flight(&staging);
        Ok(OutputSet {
            dir: dir.to_path_buf(),
            staging,
            _lock: lock,
            published: false,
            created,
        })
    }

    /// The staging folder the run writes into.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The output folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Publishes the staged files: the folder's old completion record `record` is removed
    /// first (so that a publication cut short is visibly incomplete), every staged file but
    /// `record` is renamed into the folder, earlier outputs that `is_output` recognises and
    /// this run did not make are removed, and `record` is renamed last. Returns the final
    /// paths of the published files, `record` last.
    pub fn publish(
        mut self,
        record: &str,
        is_output: impl Fn(&str) -> bool,
    ) -> Result<Vec<PathBuf>> {
        let mut names: Vec<String> = std::fs::read_dir(&self.staging)
            .map_err(io_err(&self.staging))?
            .map(|e| {
                e.map(|e| e.file_name().to_string_lossy().into_owned())
                    .map_err(io_err(&self.staging))
            })
            .collect::<Result<_>>()?;
        names.sort();
        if !names.iter().any(|n| n == record) {
            return Err(Error::Io {
                path: self.staging.join(record),
                source: std::io::Error::other("the run wrote no completion record"),
            });
        }
        remove_if_present(&self.dir.join(record))?;
        let mut published = Vec::new();
        for name in names.iter().filter(|n| *n != record) {
            let to = self.dir.join(name);
            std::fs::rename(self.staging.join(name), &to).map_err(io_err(&to))?;
            published.push(to);
        }
        let stale: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(io_err(&self.dir))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_output(n) && n != record && !names.contains(n))
            .map(|n| self.dir.join(n))
            .collect();
        for path in stale {
            remove_if_present(&path)?;
        }
        let to = self.dir.join(record);
        std::fs::rename(self.staging.join(record), &to).map_err(io_err(&to))?;
        published.push(to);
        self.published = true;
        let _ = std::fs::remove_dir(&self.staging);
        unregister_in_flight(&self.staging);
        Ok(published)
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.published {
            // Best effort: a staging folder that stays is removed by the next run.
            let _ = std::fs::remove_dir_all(&self.staging);
            unregister_in_flight(&self.staging);
            if self.created {
                // The folder this run created goes too (only if nothing else is in it).
                let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
                let _ = std::fs::remove_dir(&self.dir);
            }
        }
    }
}

/// Removes `path` (a file or a link, never what a link points to) if it is there.
fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Removes the staging folders and temporary files of runs that ended without publishing
/// (the caller holds the folder's lock, so no live run owns them).
fn remove_leftovers(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        // The entry's own type: a link is removed as a link, never followed.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let leftover =
            name.starts_with(STAGING_PREFIX) || (name.starts_with('.') && name.contains(".tmp-"));
        if leftover && is_dir {
            std::fs::remove_dir_all(&path).map_err(io_err(&path))?;
        } else if leftover {
            remove_if_present(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("landwatch-set-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_published_set_replaces_the_old_one_whole() {
        let dir = scratch("publish");
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["a.tif", "old.csv", "summary.json", "notes.txt"] {
            std::fs::write(dir.join(name), "old").unwrap();
        }
        let set = OutputSet::begin(&dir).unwrap();
        for name in ["a.tif", "b.tif", "summary.json"] {
            std::fs::write(set.staging().join(name), "new").unwrap();
        }
        let is_output = |n: &str| n.ends_with(".tif") || n.ends_with(".csv");
        let published = set.publish("summary.json", is_output).unwrap();
        assert_eq!(published.last().unwrap(), &dir.join("summary.json"));
        // old.csv is an earlier output this run did not make; notes.txt is not an output.
        assert_eq!(
            listing(&dir),
            [LOCK_FILE, "a.tif", "b.tif", "notes.txt", "summary.json"]
        );
        assert_eq!(std::fs::read_to_string(dir.join("a.tif")).unwrap(), "new");
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
            "old"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unpublished_set_leaves_the_folder_as_it_was() {
        let dir = scratch("drop");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.tif"), "old").unwrap();
        let set = OutputSet::begin(&dir).unwrap();
        std::fs::write(set.staging().join("a.tif"), "new").unwrap();
        drop(set);
        assert_eq!(listing(&dir), [LOCK_FILE, "a.tif"]);
        assert_eq!(std::fs::read_to_string(dir.join("a.tif")).unwrap(), "old");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_run_is_refused_and_leftovers_are_removed() {
        let dir = scratch("lock");
        let first = OutputSet::begin(&dir).unwrap();
        let second = OutputSet::begin(&dir).unwrap_err();
        assert!(matches!(second, Error::OutputBusy { .. }), "{second}");
        // What a killed run leaves: its staging folder and a temporary file.
        let killed = dir.join(format!("{STAGING_PREFIX}dead"));
        std::fs::create_dir(&killed).unwrap();
        std::fs::write(killed.join("a.tif"), "half").unwrap();
        std::fs::write(dir.join(".a.tif.tmp-1234-0"), "half").unwrap();
        drop(first);
        let third = OutputSet::begin(&dir).unwrap();
        let names = listing(&dir);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&LOCK_FILE.to_string()));
        assert!(third.staging().exists());
        drop(third);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_lock_link_is_not_followed() {
        let dir = scratch("link");
        std::fs::create_dir_all(&dir).unwrap();
        let victim = std::env::temp_dir().join(format!("landwatch-victim-{}", std::process::id()));
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(LOCK_FILE)).unwrap();
        assert!(OutputSet::begin(&dir).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let _ = std::fs::remove_file(&victim);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
