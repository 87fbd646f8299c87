//! The job in shards through the library (`Job::plan_shards`, `run_shard`, `merge_shards`):
//! shards whose halos and cloud regions cross shard borders, computed on a GPU and on the
//! CPU in turn, merge to the single CPU run's bytes; a shard file damaged after it completed
//! is named by the merge and recomputed by a rerun.

mod common;

use common::{assert_same_results, gpu_engine, summary_results, temp_dir, test_data};
use landwatch::job::{Job, Manifest, ShardCount, ShardOutcome, Summary};
use landwatch::{ContextSettings, Engine, Error, GpuOptions, Sensor};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

/// The cloudy Paris crop (Sentinel-2, 10 m: two halo rows, a cloud and its shadow), with the
/// outputs' time fixed.
fn paris() -> Job {
    Job::new(
        test_data("clouds/paris_t1.tif"),
        test_data("clouds/paris_t2.tif"),
    )
    .sensor(Sensor::sentinel2_l1c())
    .timestamp(UNIX_EPOCH + Duration::from_secs(1_764_460_800))
}

/// Plans `job` in `shards` shards into `out`, runs shard i on `engines[i % len]` (checking
/// that those on `gpu` ran on it), merges on the CPU; the manifest.
fn sharded(
    job: &Job,
    out: &Path,
    shards: usize,
    engines: &[&Engine],
    gpu: Option<&Engine>,
) -> Manifest {
    let cpu = Engine::cpu();
    let manifest = job
        .plan_shards(&cpu, out, ShardCount::Shards(shards), Vec::new())
        .unwrap();
    for shard in &manifest.shards {
        let engine = engines[shard.index % engines.len()];
        match job.run_shard(engine, &manifest, shard.index).unwrap() {
            ShardOutcome::Written { execution, .. } => {
                if gpu.is_some_and(|g| std::ptr::eq(g, engine)) {
                    common::assert_ran_on_gpu(&execution.expect("valid pixels"));
                }
            }
            other => panic!("shard {} was not computed: {other:?}", shard.index),
        }
    }
    job.merge_shards(&cpu, &manifest).unwrap();
    manifest
}

/// Seven shards of the Paris crop, every other one on a GPU: halos of two rows and the cloud
/// and shadow regions cross the shard borders, and the merge equals the single CPU run.
#[test]
fn shards_on_a_gpu_and_the_cpu_merge_to_the_single_cpu_run() {
    let root = temp_dir("job_shards_mixed");
    let cpu = Engine::cpu();
    let single = paris().run(&cpu, root.join("single")).unwrap();
    assert_eq!(ContextSettings::default().halo_rows(single.pixel_m), 2);
    assert!(single.sky.unwrap().cloud_px[1] > 0 && single.sky.unwrap().shadow_px[1] > 0);
    let gpu = gpu_engine(GpuOptions::default());
    let engines: Vec<&Engine> = match gpu {
        Some(gpu) => vec![gpu, &cpu],
        None => vec![&cpu],
    };
    let out = root.join("sharded");
    let manifest = sharded(&paris(), &out, 7, &engines, gpu);
    assert_eq!(manifest.shards.len(), 7);
    assert_eq!(manifest.halo_rows, 2);
    // Each shard reads its halo where the scene has rows.
    for s in &manifest.shards {
        assert_eq!(s.read_rows[0], s.rows[0].saturating_sub(2), "{s:?}");
        assert_eq!(
            s.read_rows[1],
            (s.rows[1] + 2).min(manifest.height),
            "{s:?}"
        );
    }
    let what = format!("Paris, 7 shards on {} engines", engines.len());
    assert_same_results(&root.join("single"), &out, &what);
    let same = |f: &str| {
        std::fs::read(root.join("single").join(f)).unwrap() == std::fs::read(out.join(f)).unwrap()
    };
    assert!(same("patches.gpkg") && same("patches.dbf") && same("quicklook.png"));
    assert_eq!(summary_results(&root.join("single")), summary_results(&out));
    // The merged summary says where each shard ran: every other one on the GPU.
    let summary = |dir: &Path| -> Summary {
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
    };
    assert!(summary(&root.join("single")).backend.shards.is_empty());
    let shards = summary(&out).backend.shards;
    assert_eq!(shards.len(), 7);
    for (shard, planned) in shards.iter().zip(&manifest.shards) {
        assert_eq!(shard.id, planned.id);
        let device = shard
            .device
            .as_deref()
            .expect("every shard has valid pixels");
        let on_gpu = gpu.is_some() && planned.index % 2 == 0;
        assert_eq!(
            device.starts_with("GPU"),
            on_gpu,
            "shard {}: {device}",
            shard.id
        );
        assert_eq!(shard.fallback, None, "shard {}", shard.id);
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// A shard file changed after its shard completed: the merge refuses, naming the shard and
/// the file, and leaves the output folder as it was; a rerun of that shard recomputes it and
/// the merge then succeeds.
#[test]
fn a_damaged_shard_is_named_by_the_merge_and_recomputed() {
    let root = temp_dir("job_shards_damaged");
    let cpu = Engine::cpu();
    let out = root.join("sharded");
    let manifest = sharded(&paris(), &out, 3, &[&cpu], None);
    let shard = &manifest.shards[1];
    let codes = manifest.shard_dir(shard).join("codes.u8.zst");
    let mut bytes = std::fs::read(&codes).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&codes, bytes).unwrap();
    let before = common::snapshot(&out);
    match paris().merge_shards(&cpu, &manifest) {
        Err(Error::ShardsIncomplete { shards, .. }) => {
            assert_eq!(shards.len(), 1, "{shards:?}");
            assert!(shards[0].contains(&shard.id), "{shards:?}");
            assert!(shards[0].contains("codes.u8.zst"), "{shards:?}");
        }
        other => panic!("the merge did not refuse: {other:?}"),
    }
    let after = common::snapshot(&out);
    assert!(common::differences(&before, &after).is_empty());
    match paris().run_shard(&cpu, &manifest, shard.index).unwrap() {
        ShardOutcome::Written { .. } => {}
        other => panic!("the damaged shard was not recomputed: {other:?}"),
    }
    paris().merge_shards(&cpu, &manifest).unwrap();
    let single = root.join("single");
    paris().run(&cpu, &single).unwrap();
    assert_same_results(&single, &out, "Paris, 3 shards, one recomputed");
    let _ = std::fs::remove_dir_all(&root);
}
