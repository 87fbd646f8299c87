//! One shard of a planned job ([`Job::run_shard`]): the change stage over the shard's
//! strips, written into `OUT/shards/<id>/` as zstd-compressed planes with a completion
//! record (`shard.json`) that carries each file's SHA-256.
//!
//! A shard is written into a private staging folder next to its final one, then renamed into
//! place whole, so a reader sees all of it or none. Its files depend only on the manifest
//! and the inputs, so a shard run twice (a retry, a speculative duplicate, a rerun after a
//! crash) writes the same bytes: a run that finds the shard complete stops at once, and a
//! run that loses the race to publish keeps the winner's files.

use super::detect::StripSink;
use super::manifest::{Manifest, ShardWindow, hex};
use super::*;
use crate::io::atomic::{
    create_locked, io_err, is_unlocked, register_in_flight, remove_abandoned_inits,
    unpredictable_suffix, unregister_in_flight,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};

/// The version of the completion record's layout.
const RECORD_SCHEMA: u32 = 1;
/// The completion record's file name in a shard's folder, written last.
pub const SHARD_RECORD: &str = "shard.json";
/// The zstd level of a shard's planes: fast, and the planes are mostly runs.
const ZSTD_LEVEL: i32 = 3;
/// The planes of a shard, by file name (row-major, one byte a pixel of the shard's rows).
const CLASS_FILES: [&str; 2] = ["class_before.u8.zst", "class_after.u8.zst"];
const CODES_FILE: &str = "codes.u8.zst";
const FLAGS_FILE: &str = "flags.u8.zst";
/// The changed pixels' classes and NDVI, and the quicklook's samples.
const CHANGED_FILE: &str = "changed.bin.zst";
const QUICKLOOK_FILE: &str = "quicklook.bin.zst";
/// The suffix of a staging folder's lock file, held by the live run that writes it.
const STAGING_LOCK: &str = ".lock";

/// A shard's completion record: what the shard computed and the checksums of its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// The record's layout version.
    pub schema_version: u32,
    /// The SHA-256 of the manifest the shard ran under.
    pub manifest_sha256: String,
    /// The shard's index and id in the manifest.
    pub index: usize,
    /// The shard's id.
    pub id: String,
    /// The rows it computed, `[first, end)`.
    pub rows: [usize; 2],
    /// Whether any of its pixels was valid on both dates.
    pub valid: bool,
    /// How many of its pixels were changed before the scene-wide steps.
    pub changed_pixels: u64,
    /// Its files, in the order written.
    pub files: Vec<ShardFile>,
    /// The device that computed it, as people read it (as `summary.json`'s
    /// `backend.device`); `None` when none of its pixels was valid.
    #[serde(default)]
    pub device: Option<String>,
    /// Why the CPU computed it when a GPU was asked for or available.
    #[serde(default)]
    pub fallback: Option<String>,
}

/// Where one shard of a merged run was computed, as its record says: listed in the merge's
/// [`JobReport::shards`] and `summary.json`, since the merge's own device is not theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardExecution {
    /// The shard's id.
    pub id: String,
    /// The device that computed it; `None` when none of its pixels was valid.
    pub device: Option<String>,
    /// Why the CPU computed it when a GPU was asked for or available.
    pub fallback: Option<String>,
}

impl From<&ShardRecord> for ShardExecution {
    fn from(record: &ShardRecord) -> ShardExecution {
        ShardExecution {
            id: record.id.clone(),
            device: record.device.clone(),
            fallback: record.fallback.clone(),
        }
    }
}

/// A file of a shard, with its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFile {
    /// Its name in the shard's folder.
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// What [`Job::run_shard`] did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ShardOutcome {
    /// The shard was computed and published; where its kernels ran (`None` when it held no
    /// valid pixel).
    Written {
        /// The completion record.
        record: ShardRecord,
        /// Where the first strip with valid pixels ran.
        execution: Option<Execution>,
    },
    /// The shard was complete already (an earlier run, or a duplicate that published first).
    AlreadyComplete {
        /// The completion record found.
        record: ShardRecord,
    },
}

impl ShardOutcome {
    /// The completion record.
    pub fn record(&self) -> &ShardRecord {
        match self {
            ShardOutcome::Written { record, .. } | ShardOutcome::AlreadyComplete { record } => {
                record
            }
        }
    }
}

impl Job {
    /// Runs shard `index` of `manifest`: checks that this job is the one planned and that
    /// its inputs did not change, computes the change stage over the shard's strips with
    /// the plan's relation and threshold, and publishes the shard's folder whole. A shard
    /// found complete (its record and every checksum) is not computed again.
    pub fn run_shard(
        &self,
        engine: &Engine,
        manifest: &Manifest,
        index: usize,
    ) -> Result<ShardOutcome> {
        let shard = manifest.shard(index)?;
        let dates = self.open_planned_dates(manifest)?;
        let dir = manifest.shard_dir(shard);
        if let Ok(record) = verify_shard(&dir, manifest, shard) {
            return Ok(ShardOutcome::AlreadyComplete { record });
        }
        let parent = dir
            .parent()
            .expect("a shard folder is in the shards folder");
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        remove_abandoned_staging(parent, Some(&shard.id));
        let staging = Staging::begin(parent, &shard.id)?;
        let plan = manifest.stage_plan();
        let sink = ShardSink::create(staging.path(), plan.relation.context.is_some())?;
        let rows = shard.rows[0]..shard.rows[1];
        let mut pass = ChangePass::new(
            self,
            engine,
            &dates.grid,
            &plan,
            manifest.strip_rows,
            rows,
            sink,
        );
        let strips = shard.strips[0]..shard.strips[1];
        self.run_strips(&mut pass, &dates, &manifest.strips(), strips)?;
        let output = pass.output();
        let mut files = output.sink.finish()?;
        let at = staging.path();
        files.push(write_plane(at, CODES_FILE, &output.raw)?);
        files.push(write_plane(at, CHANGED_FILE, &output.changed.to_bytes())?);
        let samples = output.quicklook.samples_to_bytes();
        files.push(write_plane(at, QUICKLOOK_FILE, &samples)?);
        let execution = output.execution.as_ref();
        let record = ShardRecord {
            schema_version: RECORD_SCHEMA,
            manifest_sha256: manifest.digest.clone(),
            index,
            id: shard.id.clone(),
            rows: shard.rows,
            valid: output.execution.is_some(),
            changed_pixels: output.changed.len() as u64,
            files,
            device: execution.map(|e| e.device.to_string()),
            fallback: execution.and_then(|e| e.fallback.as_ref().map(ToString::to_string)),
        };
        let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
        let record_path = at.join(SHARD_RECORD);
        write_synced(&record_path, |w| w.write_all(&json))?;
        self.check_cancel()?;
        match staging.publish(&dir, manifest, shard)? {
            true => Ok(ShardOutcome::Written {
                record,
                execution: output.execution,
            }),
            false => {
                let record =
                    verify_shard(&dir, manifest, shard).map_err(|reason| Error::Manifest {
                        path: dir.clone(),
                        reason,
                    })?;
                Ok(ShardOutcome::AlreadyComplete { record })
            }
        }
    }
}

/// A shard's sink: the class planes and the contextual detector's flags, zstd-compressed
/// as the strips come.
pub(super) struct ShardSink {
    dir: PathBuf,
    classes: [zstd::stream::write::Encoder<'static, BufWriter<File>>; 2],
    flags: Option<zstd::stream::write::Encoder<'static, BufWriter<File>>>,
}

impl ShardSink {
    /// Opens the planes in `dir`; the flags plane with `context`.
    fn create(dir: &Path, context: bool) -> Result<ShardSink> {
        let open = |name: &str| -> Result<_> {
            let path = dir.join(name);
            let file = File::create_new(&path).map_err(io_err(&path))?;
            zstd::stream::write::Encoder::new(BufWriter::new(file), ZSTD_LEVEL)
                .map_err(io_err(&path))
        };
        Ok(ShardSink {
            dir: dir.to_path_buf(),
            classes: [open(CLASS_FILES[0])?, open(CLASS_FILES[1])?],
            flags: context.then(|| open(FLAGS_FILE)).transpose()?,
        })
    }

    /// Closes the planes, synced, and gives their checksums.
    fn finish(self) -> Result<Vec<ShardFile>> {
        let [before, after] = self.classes;
        let planes = [
            (CLASS_FILES[0], Some(before)),
            (CLASS_FILES[1], Some(after)),
        ];
        let flags = [(FLAGS_FILE, self.flags)];
        let mut files = Vec::new();
        for (name, encoder) in planes.into_iter().chain(flags) {
            let Some(encoder) = encoder else { continue };
            let path = self.dir.join(name);
            let writer = encoder.finish().map_err(io_err(&path))?;
            let file = writer
                .into_inner()
                .map_err(|e| io_err(&path)(e.into_error()))?;
            file.sync_all().map_err(io_err(&path))?;
            files.push(checksum(&self.dir, name)?);
        }
        Ok(files)
    }
}

impl StripSink for ShardSink {
    fn classes(&mut self, before: &[u8], after: &[u8]) -> Result<()> {
        let planes = [before, after].into_iter().zip(CLASS_FILES);
        for (encoder, (rows, name)) in self.classes.iter_mut().zip(planes) {
            encoder
                .write_all(rows)
                .map_err(io_err(&self.dir.join(name)))?;
        }
        Ok(())
    }

    fn context_rows(&mut self, _precodes: &[u8], flags: &[u8]) -> Result<()> {
        match &mut self.flags {
            Some(encoder) => encoder
                .write_all(flags)
                .map_err(io_err(&self.dir.join(FLAGS_FILE))),
            None => Ok(()),
        }
    }
}

/// A shard's staging folder, `.<id>.tmp-<random>` next to its final one, removed unless
/// published. Its lock file `.<id>.tmp-<random>.lock` beside it is locked before the folder
/// exists and removed only after the folder was renamed or removed, so a folder whose lock
/// is missing or free belongs to no live run.
struct Staging {
    path: PathBuf,
    lock_path: PathBuf,
    _lock: File,
    published: bool,
}

impl Staging {
    fn begin(parent: &Path, id: &str) -> Result<Staging> {
        let path = parent.join(format!(".{id}.tmp-{}", unpredictable_suffix()));
        let lock_path = staging_lock(&path);
        let lock = create_locked(&lock_path).map_err(io_err(&lock_path))?;
        register_in_flight(&lock_path);
        let staging = Staging {
            path,
            lock_path,
            _lock: lock,
            published: false,
        };
        std::fs::create_dir(&staging.path).map_err(io_err(&staging.path))?;
        register_in_flight(&staging.path);
        Ok(staging)
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the staging folder to `dir`. `Ok(false)` when another run published a
    /// complete shard there first (its files are kept: they are the same).
    fn publish(mut self, dir: &Path, manifest: &Manifest, shard: &ShardWindow) -> Result<bool> {
        for _ in 0..3 {
            match std::fs::rename(&self.path, dir) {
                Ok(()) => {
                    self.published = true;
                    unregister_in_flight(&self.path);
                    sync_dir(dir.parent().unwrap_or(dir));
                    return Ok(true);
                }
                Err(_) if verify_shard(dir, manifest, shard).is_ok() => return Ok(false),
                Err(_) if dir.exists() => {
                    // An incomplete or stale shard (another plan's): set aside, then removed.
                    let aside = dir.with_file_name(format!(
                        ".{}.stale-{}",
                        shard.id,
                        unpredictable_suffix()
                    ));
                    if std::fs::rename(dir, &aside).is_ok() {
                        let _ = std::fs::remove_dir_all(&aside);
                    }
                }
                Err(e) => return Err(io_err(dir)(e)),
            }
        }
        Err(io_err(dir)(std::io::Error::other(
            "another run keeps replacing this shard's folder",
        )))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.path);
            unregister_in_flight(&self.path);
        }
        let _ = std::fs::remove_file(&self.lock_path);
        unregister_in_flight(&self.lock_path);
    }
}

/// The lock file of the staging folder `path`.
fn staging_lock(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(STAGING_LOCK);
    path.with_file_name(name)
}

/// Removes the staging folders (and their lock files) that killed runs left in `parent`, of
/// shard `id` or of every shard: a live run holds the lock of its own.
pub(super) fn remove_abandoned_staging(parent: &Path, id: Option<&str>) {
    remove_abandoned_inits(parent);
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = id.map_or_else(|| ".".to_string(), |id| format!(".{id}."));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(kind) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.contains("stale-") && file_type.is_dir() {
            let _ = std::fs::remove_dir_all(&path);
        } else if kind.contains("tmp-") && file_type.is_dir() {
            let lock = staging_lock(&path);
            // A live run's lock exists and is held; a run that ended released it.
            if std::fs::symlink_metadata(&lock).is_err() || is_unlocked(&lock) {
                let _ = std::fs::remove_dir_all(&path);
                let _ = std::fs::remove_file(&lock);
            }
        } else if kind.contains("tmp-") && name.ends_with(STAGING_LOCK) && is_unlocked(&path) {
            // A lock whose run was killed before its folder was made or after it went.
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The record of the shard in `dir`, checked: written for this manifest and this shard,
/// every file present with its size and SHA-256. `Err` names what is missing or wrong.
pub(super) fn verify_shard(
    dir: &Path,
    manifest: &Manifest,
    shard: &ShardWindow,
) -> std::result::Result<ShardRecord, String> {
    let path = dir.join(SHARD_RECORD);
    let bytes = std::fs::read(&path).map_err(|e| format!("no completion record ({e})"))?;
    let record: ShardRecord =
        serde_json::from_slice(&bytes).map_err(|e| format!("an unreadable record ({e})"))?;
    if record.schema_version != RECORD_SCHEMA
        || record.manifest_sha256 != manifest.digest
        || record.index != shard.index
        || record.id != shard.id
        || record.rows != shard.rows
    {
        return Err("a record of another plan".into());
    }
    for file in &record.files {
        let found = checksum(dir, &file.name).map_err(|e| format!("{e}"))?;
        if found != *file {
            return Err(format!("{} does not match its checksum", file.name));
        }
    }
    Ok(record)
}

/// Compresses `bytes` into `dir/name`, synced, and gives its checksum.
fn write_plane(dir: &Path, name: &str, bytes: &[u8]) -> Result<ShardFile> {
    let path = dir.join(name);
    write_synced(&path, |w| {
        let mut encoder = zstd::stream::write::Encoder::new(w, ZSTD_LEVEL)?;
        encoder.write_all(bytes)?;
        encoder.finish().map(drop)
    })?;
    checksum(dir, name)
}

/// Creates `path` (new), fills it with `write` and syncs it.
fn write_synced(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let file = File::create_new(path).map_err(io_err(path))?;
    let mut writer = BufWriter::new(file);
    write(&mut writer)
        .and_then(|()| writer.flush())
        .and_then(|()| writer.get_ref().sync_all())
        .map_err(io_err(path))
}

/// The size and SHA-256 of `dir/name`.
fn checksum(dir: &Path, name: &str) -> Result<ShardFile> {
    let path = dir.join(name);
    let mut file = File::open(&path).map_err(io_err(&path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io_err(&path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(ShardFile {
        name: name.to_string(),
        bytes,
        sha256: hex(&hasher.finalize()),
    })
}

/// Syncs a folder's entries (the rename that published a shard), best effort.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Reads shard files for the merge.
pub(super) struct ShardReader {
    dir: PathBuf,
}

impl ShardReader {
    /// The shard in `dir`, verified already.
    pub(super) fn new(dir: PathBuf) -> ShardReader {
        ShardReader { dir }
    }

    /// A decoder of the plane `name`.
    fn plane(&self, name: &str) -> Result<impl Read> {
        let path = self.dir.join(name);
        let file = File::open(&path).map_err(io_err(&path))?;
        zstd::stream::read::Decoder::new(file).map_err(io_err(&path))
    }

    /// Fills `out` from the plane `name`, which must hold exactly that many bytes.
    fn read_exact(reader: &mut impl Read, path: &Path, out: &mut [u8]) -> Result<()> {
        reader.read_exact(out).map_err(io_err(path))
    }

    /// Replays the shard into the scene's collection: its rows `rows` of codes into `raw`
    /// (the scene's rows from `rows.start`), its class planes and flags into `sink` in
    /// chunks of `chunk_rows` rows, its changed pixels and quicklook samples appended.
    pub(super) fn replay(
        &self,
        width: usize,
        rows: Range<usize>,
        chunk_rows: usize,
        collected: &mut Collected,
    ) -> Result<()> {
        let codes = &mut collected.raw[rows.start * width..rows.end * width];
        let codes_path = self.dir.join(CODES_FILE);
        Self::read_exact(&mut self.plane(CODES_FILE)?, &codes_path, codes)?;
        let mut classes = [self.plane(CLASS_FILES[0])?, self.plane(CLASS_FILES[1])?];
        let mut flags = match self.dir.join(FLAGS_FILE).exists() {
            true => Some(self.plane(FLAGS_FILE)?),
            false => None,
        };
        let chunk = chunk_rows.max(1) * width;
        let mut planes = [vec![0u8; chunk], vec![0u8; chunk], vec![0u8; chunk]];
        for start in (0..codes.len()).step_by(chunk) {
            let len = chunk.min(codes.len() - start);
            for (k, reader) in classes.iter_mut().enumerate() {
                let path = self.dir.join(CLASS_FILES[k]);
                Self::read_exact(reader, &path, &mut planes[k][..len])?;
            }
            collected
                .sink
                .classes(&planes[0][..len], &planes[1][..len])?;
            if let Some(reader) = &mut flags {
                let path = self.dir.join(FLAGS_FILE);
                Self::read_exact(reader, &path, &mut planes[2][..len])?;
                collected
                    .sink
                    .context_rows(&codes[start..start + len], &planes[2][..len])?;
            }
        }
        let whole = |name: &str| -> Result<Vec<u8>> {
            let mut bytes = Vec::new();
            self.plane(name)?
                .read_to_end(&mut bytes)
                .map_err(io_err(&self.dir.join(name)))?;
            Ok(bytes)
        };
        let damaged = |name: &str| Error::Manifest {
            path: self.dir.join(name),
            reason: "not the file a shard writes (damaged after its checksum?)".into(),
        };
        collected
            .changed
            .append_bytes(&whole(CHANGED_FILE)?)
            .ok_or_else(|| damaged(CHANGED_FILE))?;
        collected
            .quicklook
            .append_samples(&whole(QUICKLOOK_FILE)?)
            .ok_or_else(|| damaged(QUICKLOOK_FILE))?;
        Ok(())
    }
}
