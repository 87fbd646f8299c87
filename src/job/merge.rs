//! The merge of a sharded job ([`Job::merge_shards`]): every shard checked complete, their
//! planes replayed in row order into the scene exactly as [`Job::run`]'s own strips would
//! be, then the scene-wide stages (the contextual detector's regions, the clean-up opening,
//! labelling with the exact strip-border join of [`patches_tiled`], zones and regions,
//! polygons) and the same outputs as [`Job::run`].

use super::manifest::Manifest;
use super::shard::{
    ShardExecution, ShardReader, ShardRecord, remove_abandoned_staging, verify_shard,
};
use super::*;

impl Job {
    /// Merges the shards of `manifest` into its output folder: the same outputs as
    /// [`Job::run`] on the same inputs and settings, pixel for pixel and byte for byte
    /// (`summary.json` says where the merge ran and how long its stages took; the outputs
    /// record the plan's time unless [`Job::timestamp`] says otherwise). Refused with
    /// [`Error::ShardsIncomplete`], naming them, when a shard has not completed; the output
    /// folder is then left as it was.
    pub fn merge_shards(&self, engine: &Engine, manifest: &Manifest) -> Result<JobReport> {
        let mut timer = Timer::new();
        // Unless the job says otherwise, the outputs record the plan's time, not the merge's.
        timer.started = manifest.created();
        let dates = self.open_planned_dates(manifest)?;
        let records = completed_shards(manifest)?;
        let out = manifest.out_dir();
        let inputs = self.input_files();
        let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        let (layers, set) = self.ready(&dates.grid, out, &inputs)?;
        let staging = set.staging().to_path_buf();
        let plan = manifest.stage_plan();
        let grid = &dates.grid;
        let class_paths = [
            staging.join("class_before.tif"),
            staging.join("class_after.tif"),
        ];
        let mut collected = Collected {
            raw: vec![0u8; grid.width * grid.height],
            changed: ChangedPixels::default(),
            quicklook: Quicklook::new(grid.width, grid.height),
            execution: records.iter().any(|r| r.valid).then(|| Execution {
                device: crate::backend::cpu_device(),
                fallback: None,
            }),
            sink: SceneSink::create(grid, &class_paths, &plan)?,
        };
        for (k, shard) in manifest.shards.iter().enumerate() {
            self.check_cancel()?;
            let reader = ShardReader::new(manifest.shard_dir(shard));
            let rows = shard.rows[0]..shard.rows[1];
            reader.replay(grid.width, rows, manifest.strip_rows, &mut collected)?;
            self.report("gather", k as u64 + 1, manifest.shards.len() as u64);
        }
        timer.lap("gather");
        let cut = manifest.strips();
        let mut pixels = collected.finish(self, &cut, &plan, grid, &class_paths)?;
        pixels.facts.shards = records.iter().map(ShardExecution::from).collect();
        let report = self.finish(engine, &staging, pixels, layers, timer)?;
        self.check_cancel()?;
        let report = publish(set, report)?;
        remove_abandoned_staging(&out.join(super::manifest::SHARDS_DIR), None);
        Ok(report)
    }
}

/// The completion records of every shard of `manifest`, each checked; else
/// [`Error::ShardsIncomplete`] naming every shard that is not complete.
fn completed_shards(manifest: &Manifest) -> Result<Vec<ShardRecord>> {
    let mut records = Vec::with_capacity(manifest.shards.len());
    let mut missing = Vec::new();
    for shard in &manifest.shards {
        match verify_shard(&manifest.shard_dir(shard), manifest, shard) {
            Ok(record) => records.push(record),
            Err(why) => missing.push(format!("{} ({}): {why}", shard.index, shard.id)),
        }
    }
    if missing.is_empty() {
        Ok(records)
    } else {
        Err(Error::ShardsIncomplete {
            manifest: manifest.location.clone(),
            shards: missing,
        })
    }
}
