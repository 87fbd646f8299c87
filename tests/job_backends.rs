//! The default enforcement job gives byte-identical results on the GPU in small strips and on
//! the CPU in one strip: on Taizhou (30 m pixels, where the contextual kernels need no halo
//! rows) and on the Paris crop (10 m pixels: misregistration and smoothing radii of 1, so
//! every strip reads two rows above and below).

mod common;

use common::{
    assert_ran_on_gpu, assert_same_results, data, gpu_engine, summary_results, taizhou_job,
    temp_dir, test_data,
};
use landwatch::job::{Job, JobReport};
use landwatch::{ContextSettings, Engine, GpuOptions, Sensor};

/// Runs `job` on the CPU in its default strips and on the GPU in strips of `rows` rows, checks
/// every result file and summary field agree, and returns both reports (CPU first), or `None`
/// without a GPU adapter.
fn cpu_and_gpu(name: &str, job: impl Fn() -> Job, rows: usize) -> Option<[JobReport; 2]> {
    let gpu = gpu_engine(GpuOptions::default())?;
    let (cpu_dir, gpu_dir) = (
        temp_dir(&format!("backends_{name}_cpu")),
        temp_dir(&format!("backends_{name}_gpu")),
    );
    let c = job().run(&Engine::cpu(), &cpu_dir).unwrap();
    let g = job().tile_rows(rows).run(gpu, &gpu_dir).unwrap();
    assert_ran_on_gpu(&g.execution);
    assert_eq!(g.strip_rows, rows);
    assert!(
        c.strip_rows > rows,
        "the CPU ran in {}-row strips",
        c.strip_rows
    );
    let what = format!("{name}: CPU in {}-row strips, GPU in {rows}", c.strip_rows);
    assert_same_results(&cpu_dir, &gpu_dir, &what);
    assert_eq!(
        summary_results(&cpu_dir),
        summary_results(&gpu_dir),
        "{what}"
    );
    assert_eq!((c.sky, c.mostly_cloud), (g.sky, g.mostly_cloud), "{what}");
    assert_eq!(c.patch_count, g.patch_count, "{what}");
    let _ = std::fs::remove_dir_all(&cpu_dir);
    let _ = std::fs::remove_dir_all(&gpu_dir);
    Some([c, g])
}

#[test]
fn taizhou_on_the_gpu_in_37_row_strips_equals_the_cpu_run() {
    let taizhou = data("landsat_taizhou");
    let job = || {
        taizhou_job(
            taizhou.join("Taizhou_t1.tif"),
            taizhou.join("Taizhou_t2.tif"),
        )
    };
    let Some([cpu, _]) = cpu_and_gpu("taizhou", job, 37) else {
        return;
    };
    assert_eq!(ContextSettings::default().halo_rows(cpu.pixel_m), 0);
    assert!(cpu.patch_count > 20, "only {} patches", cpu.patch_count);
}

#[test]
fn the_cloudy_paris_crop_on_the_gpu_in_23_row_strips_equals_the_cpu_run() {
    let job = || {
        Job::new(
            test_data("clouds/paris_t1.tif"),
            test_data("clouds/paris_t2.tif"),
        )
        .sensor(Sensor::sentinel2_l1c())
    };
    let Some([cpu, _]) = cpu_and_gpu("paris", job, 23) else {
        return;
    };
    // Two halo rows, and strips that cut through the cloud and the shadow.
    assert_eq!(ContextSettings::default().halo_rows(cpu.pixel_m), 2);
    assert!(cpu.patch_count > 5, "only {} patches", cpu.patch_count);
    assert!(cpu.sky.unwrap().cloud_px[1] > 0 && cpu.sky.unwrap().shadow_px[1] > 0);
}
