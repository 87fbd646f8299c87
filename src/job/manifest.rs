//! The shard manifest: a job cut into shards of rows for batch engines (Slurm job arrays,
//! Kubernetes Indexed Jobs), with everything every shard must agree on fixed once.
//!
//! [`Job::plan_shards`] writes `OUT/manifest.json`; [`Job::run_shard`] runs one shard into
//! `OUT/shards/<id>/`; [`Job::merge_shards`] joins them into the outputs of [`Job::run`],
//! the same to the pixel and byte. The manifest holds:
//! - each shard's id, index and rows, and the rows it reads (its rows and the contextual
//!   detector's halo around them): a shard is a run of whole strips of the single run;
//! - the input files, with their sizes and modification times (a shard refuses inputs that
//!   changed since the plan);
//! - the job-wide plan: the date relation (radiometric model) and the threshold, estimated
//!   once on the whole scene's sample, so that every shard takes the same decisions;
//! - the job's digest (its settings), its arguments for the program that rebuilds it, and
//!   a schema version.

use super::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version of the manifest's layout; a manifest of another version is refused.
pub const MANIFEST_SCHEMA: u32 = 1;
/// The manifest's file name in the output folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The folder of the shards' outputs in the output folder.
pub const SHARDS_DIR: &str = "shards";

/// How to cut a job into shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardCount {
    /// About this many shards of equal rows (fewer when the scene has fewer strips).
    Shards(usize),
    /// Shards of about this many rows each (a whole number of strips).
    Rows(usize),
}

/// A job cut into shards for a batch engine, written by [`Job::plan_shards`] as
/// `OUT/manifest.json`: the shards (runs of whole strips), the inputs as the plan found
/// them, and the plan every shard applies, so that [`Job::run_shard`] and
/// [`Job::merge_shards`] give the outputs of [`Job::run`] (`docs/SCALE-OUT.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_SCHEMA`] when written.
    pub schema_version: u32,
    /// The landwatch version that planned it; shards and merge must run the same.
    pub landwatch_version: String,
    /// The digest of the job's settings and inputs: shards and the merge of another job
    /// are refused.
    pub job_digest: String,
    /// What the program that runs the shards rebuilds the job from (`landwatch` stores the
    /// arguments of `enforce`); the library does not read it.
    pub job_arguments: Vec<String>,
    /// The folder the plan ran in: relative input paths are relative to it, so shards and
    /// the merge run there too.
    pub working_dir: PathBuf,
    /// When the plan was made (seconds since 1970; [`Job::timestamp`] when set): the time
    /// the merged outputs record, so that a merge run twice writes the same bytes.
    pub created_unix_s: u64,
    /// The input files as the plan found them.
    pub inputs: Vec<InputFile>,
    /// The imagery's size in pixels.
    pub width: usize,
    /// The imagery's height in rows.
    pub height: usize,
    /// Rows per strip of every shard's change stage.
    pub strip_rows: usize,
    /// Rows each shard reads above and below its own for the contextual detector's
    /// neighbourhood kernels. The clean-up opening, labelling and the patches run in the
    /// merge over the whole scene, so they need no halo here.
    pub halo_rows: usize,
    /// The plan every shard applies.
    pub plan: JobPlan,
    /// The shards, in row order.
    pub shards: Vec<ShardWindow>,
    /// Where the manifest was read from (not stored).
    #[serde(skip)]
    pub location: PathBuf,
    /// The SHA-256 of the manifest's bytes, hex (not stored): shards record it.
    #[serde(skip)]
    pub digest: String,
}

/// What the plan fixed for every shard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JobPlan {
    /// The radiometric relation between the dates (and the contextual detector's model).
    pub relation: DateRelation,
    /// The change threshold (the seed level of the contextual detector, in 1/256 σ).
    pub threshold: u32,
    /// The nominal ground size of a pixel, in metres.
    pub pixel_m: f64,
}

/// One shard: a run of whole strips.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardWindow {
    /// Its place in the manifest, from 0 (the array task index).
    pub index: usize,
    /// Its id, from its index and rows: `sNNNNN-rFIRST-LAST`.
    pub id: String,
    /// The rows it computes, `[first, end)`.
    pub rows: [usize; 2],
    /// The rows it reads, `[first, end)`: its rows and the halo around them.
    pub read_rows: [usize; 2],
    /// The strips of the single run it computes, `[first, end)`.
    pub strips: [usize; 2],
}

/// An input file as the plan found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Its path, as the job names it.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its modification time, in nanoseconds since 1970.
    pub modified_unix_ns: u64,
}

impl InputFile {
    /// The file at `path` as it is now.
    fn now(path: &Path) -> Result<InputFile> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        Ok(InputFile {
            path: path.to_path_buf(),
            bytes: meta.len(),
            modified_unix_ns: modified,
        })
    }
}

impl Manifest {
    /// Reads and checks the manifest at `path`: its schema, and that this landwatch planned it.
    pub fn read(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let refuse = |reason: String| Error::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let mut manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| refuse(format!("not a landwatch shard manifest: {e}")))?;
        if manifest.schema_version != MANIFEST_SCHEMA {
            return Err(refuse(format!(
                "manifest schema {} where this landwatch reads {MANIFEST_SCHEMA}; plan again \
                 with this version",
                manifest.schema_version
            )));
        }
        if manifest.landwatch_version != env!("CARGO_PKG_VERSION") {
            return Err(refuse(format!(
                "planned by landwatch {} and run by {}: shards, plan and merge must run the \
                 same version",
                manifest.landwatch_version,
                env!("CARGO_PKG_VERSION")
            )));
        }
        let shards_in_order = manifest.shards.iter().enumerate().all(|(i, s)| {
            s.index == i
                && s.rows[0] < s.rows[1]
                && s.rows[1] <= manifest.height
                && (i == 0 || manifest.shards[i - 1].rows[1] == s.rows[0])
        });
        let covered = manifest.shards.first().map(|s| s.rows[0]) == Some(0)
            && manifest.shards.last().map(|s| s.rows[1]) == Some(manifest.height);
        if !shards_in_order || !covered {
            return Err(refuse(
                "its shards do not cover the scene's rows in order; plan again".into(),
            ));
        }
        manifest.location = std::path::absolute(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        manifest.digest = sha256_hex(&bytes);
        Ok(manifest)
    }

    /// The output folder: the manifest's own.
    pub fn out_dir(&self) -> &Path {
        match self.location.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// The folder of shard `shard`'s outputs.
    pub fn shard_dir(&self, shard: &ShardWindow) -> PathBuf {
        self.out_dir().join(SHARDS_DIR).join(&shard.id)
    }

    /// The shard with index `index`, or an error naming the manifest and the range.
    pub fn shard(&self, index: usize) -> Result<&ShardWindow> {
        self.shards.get(index).ok_or_else(|| Error::Manifest {
            path: self.location.clone(),
            reason: format!(
                "there is no shard {index}: the plan has {} (indices 0 to {})",
                self.shards.len(),
                self.shards.len().saturating_sub(1)
            ),
        })
    }

    /// The time the merged outputs record: the plan's.
    pub(super) fn created(&self) -> SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.created_unix_s)
    }

    /// The plan as the change stage takes it.
    pub(super) fn stage_plan(&self) -> Plan {
        Plan {
            relation: self.plan.relation,
            threshold: self.plan.threshold,
            choice: None,
            pixel_m: self.plan.pixel_m,
        }
    }

    /// The strips of the single run that the shards are made of.
    pub(super) fn strips(&self) -> Strips {
        Strips::new(self.height, self.strip_rows, self.halo_rows)
    }
}

/// The SHA-256 of `bytes`, as lowercase hex.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Groups the `strips` strips of a scene into shards: `count` shards of about equal strips,
/// or shards of `rows` rows (rounded to whole strips of `strip_rows`).
fn shard_strips(strips: usize, strip_rows: usize, count: ShardCount) -> Vec<Range<usize>> {
    let shards = match count {
        ShardCount::Shards(n) => n.clamp(1, strips),
        ShardCount::Rows(rows) => strips.div_ceil((rows / strip_rows).max(1)),
    };
    (0..shards)
        .map(|k| k * strips / shards..(k + 1) * strips / shards)
        .collect()
}

impl Job {
    /// Plans the job in shards: checks everything [`Job::run`] checks before work (the
    /// dates' headers, the zone and region layers, the output folder), estimates the date
    /// relation and the threshold on the whole scene's sample, cuts the scene into shards of
    /// whole strips and writes `out/manifest.json` (atomically). `job_arguments` is stored as
    /// it is, for the program that rebuilds this job in each shard. The strips are made
    /// shorter than [`Job::run`]'s where the shards asked for are shorter than a strip
    /// (results do not depend on the strip height).
    pub fn plan_shards(
        &self,
        engine: &Engine,
        out: impl AsRef<Path>,
        count: ShardCount,
        job_arguments: Vec<String>,
    ) -> Result<Manifest> {
        let out = out.as_ref();
        if matches!(count, ShardCount::Shards(0) | ShardCount::Rows(0)) {
            return Err(Error::InvalidParameter {
                name: "shards".into(),
                value: "0".into(),
                reason: "a plan needs at least one shard of at least one row".into(),
            });
        }
        self.check_settings()?;
        let dates = self.open_dates()?;
        self.layers(&dates.grid)?;
        preflight::check_output_folder(out)?;
        let plan = self.plan_stage(&dates, engine)?;
        let TargetGrid { width, height, .. } = dates.grid;
        let halo = self.halo_rows(&plan);
        let mut strip_rows = self.strip_rows(width, height, dates.block_rows);
        // Strips no taller than the shards asked for, where the scene has the rows; whole
        // blocks of the files where that still makes as many shards (a shard that ends
        // inside a block makes the next one inflate that block again).
        let wanted = match count {
            ShardCount::Shards(n) => height.saturating_sub(halo).div_ceil(n),
            ShardCount::Rows(rows) => rows,
        }
        .max(1);
        let aligned = wanted.next_multiple_of(dates.block_rows.clamp(1, MAX_TILE_ROWS));
        let enough = match count {
            ShardCount::Shards(n) => Strips::new(height, aligned, halo).count() >= n,
            ShardCount::Rows(_) => true,
        };
        strip_rows = strip_rows.min(if enough { aligned } else { wanted });
        let cut = Strips::new(height, strip_rows, halo);
        let shards = shard_strips(cut.count(), strip_rows, count)
            .into_iter()
            .enumerate()
            .map(|(index, strips)| {
                let first = cut.output(strips.start).start;
                let end = cut.output(strips.end - 1).end;
                ShardWindow {
                    index,
                    id: format!("s{index:05}-r{first}-{end}"),
                    rows: [first, end],
                    read_rows: [cut.read(strips.start).start, cut.read(strips.end - 1).end],
                    strips: [strips.start, strips.end],
                }
            })
            .collect();
        let created_unix_s = self
            .timestamp
            .unwrap_or_else(SystemTime::now)
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let manifest = Manifest {
            schema_version: MANIFEST_SCHEMA,
            landwatch_version: env!("CARGO_PKG_VERSION").into(),
            job_digest: self.digest(),
            job_arguments,
            working_dir: std::env::current_dir().map_err(|source| Error::Io {
                path: ".".into(),
                source,
            })?,
            created_unix_s,
            inputs: self
                .input_files()
                .iter()
                .map(|p| InputFile::now(p))
                .collect::<Result<_>>()?,
            width,
            height,
            strip_rows,
            halo_rows: halo,
            plan: JobPlan {
                relation: plan.relation,
                threshold: plan.threshold,
                pixel_m: plan.pixel_m,
            },
            shards,
            location: out.join(MANIFEST_FILE),
            digest: String::new(),
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Manifest {
            path: manifest.location.clone(),
            reason: format!("cannot be written: {e}"),
        })?;
        std::fs::create_dir_all(out).map_err(|source| Error::Io {
            path: out.to_path_buf(),
            source,
        })?;
        crate::io::write_atomically(&manifest.location, |w| {
            std::io::Write::write_all(w, &json).map_err(|source| Error::Io {
                path: manifest.location.clone(),
                source,
            })
        })?;
        // The plan must read back as it was decided, to the last bit of every float.
        let written = Manifest::read(&manifest.location)?;
        if written.plan != manifest.plan {
            return Err(Error::Manifest {
                path: manifest.location,
                reason: "the plan did not read back to the same values".into(),
            });
        }
        Ok(written)
    }

    /// Every file the job reads: both dates, the zone and region layers.
    pub(super) fn input_files(&self) -> Vec<PathBuf> {
        let dates = [&self.before, &self.after]
            .into_iter()
            .flat_map(|s| s.input_files())
            .map(Path::to_path_buf);
        let zones = self.zones.iter().map(|(_, source)| match source {
            ZoneSource::GeoJson(p) | ZoneSource::Raster(p) => p.clone(),
        });
        let regions = self.regions.iter().map(|(p, _)| p.clone());
        dates.chain(zones).chain(regions).collect()
    }

    /// The digest of everything that decides the job's results: its settings and the names
    /// of its inputs.
    fn digest(&self) -> String {
        let settings = format!(
            "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}",
            self.before.name(),
            self.after.name(),
            self.sensor,
            self.bands,
            self.scale_offset,
            self.options,
            self.zones,
            self.regions,
            self.min_area_m2,
            self.opening,
            self.connectivity,
            self.warning_share,
            self.raw_change,
            self.max_pixels,
        );
        sha256_hex(settings.as_bytes())
    }

    /// Refuses a manifest planned for another job, or whose inputs changed since.
    pub(super) fn check_manifest(&self, manifest: &Manifest) -> Result<()> {
        let refuse = |reason: String| Error::Manifest {
            path: manifest.location.clone(),
            reason,
        };
        if manifest.job_digest != self.digest() {
            return Err(refuse(
                "planned for another job (other inputs or settings); plan again".into(),
            ));
        }
        for planned in &manifest.inputs {
            let now = InputFile::now(&planned.path)?;
            if now != *planned {
                return Err(refuse(format!(
                    "the input {} changed since the plan ({} bytes, modified at {} ns, \
                     where the plan saw {} bytes at {} ns); plan again",
                    planned.path.display(),
                    now.bytes,
                    now.modified_unix_ns,
                    planned.bytes,
                    planned.modified_unix_ns
                )));
            }
        }
        Ok(())
    }

    /// Opens both dates and checks that their grid is the manifest's.
    pub(super) fn open_planned_dates(&self, manifest: &Manifest) -> Result<Dates> {
        self.check_settings()?;
        self.check_manifest(manifest)?;
        let dates = self.open_dates()?;
        if (dates.grid.width, dates.grid.height) != (manifest.width, manifest.height) {
            return Err(Error::Manifest {
                path: manifest.location.clone(),
                reason: format!(
                    "planned for a {}×{} scene, and the dates are {}×{}; plan again",
                    manifest.width, manifest.height, dates.grid.width, dates.grid.height
                ),
            });
        }
        Ok(dates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shards cover the strips in order, without gaps, as many as asked where there are
    /// enough strips.
    #[test]
    fn shards_cover_the_strips_in_order() {
        for strips in [1, 2, 7, 9, 16, 100] {
            for count in [
                ShardCount::Shards(1),
                ShardCount::Shards(9),
                ShardCount::Shards(16),
                ShardCount::Rows(64),
                ShardCount::Rows(1000),
            ] {
                let shards = shard_strips(strips, 64, count);
                assert_eq!(shards[0].start, 0, "{strips} {count:?}");
                assert_eq!(shards.last().unwrap().end, strips, "{strips} {count:?}");
                for pair in shards.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "{strips} {count:?}");
                }
                assert!(shards.iter().all(|s| !s.is_empty()), "{strips} {count:?}");
                if let ShardCount::Shards(n) = count {
                    assert_eq!(shards.len(), n.min(strips));
                }
            }
        }
        assert_eq!(shard_strips(10, 64, ShardCount::Rows(128)).len(), 5);
    }
}
