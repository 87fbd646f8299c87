//! Labelling (on the CPU, and on a real GPU when there is one; polygonizing is vector work and
//! stays on the CPU) and polygonizing a real change mask, mirror-tiled to 64 Mpx
//! (8192 × 8192), with the peer pipeline's scipy.ndimage.label and rasterio.features.shapes
//! on the same mask when its Python is present (`~/.venvs/peer/bin/python` or
//! `LANDWATCH_PEER_PYTHON`).
//!
//! Run: `cargo bench --bench patches` (`LANDWATCH_BENCH_SIDE=4096` for a smaller mask).

use landwatch::io::{ReadLimits, read_geotiff, write_geotiff};
use landwatch::patch::{Connectivity, PatchLayers, attributes, label, polygonize};
use landwatch::{Backend, ChangeOptions, Engine, Raster, Sensor};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn real_change() -> Raster<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/landsat_taizhou");
    let sensor = Sensor::landsat_dn();
    let load = |name: &str| {
        let mut s = read_geotiff(root.join(name), &ReadLimits::default())
            .and_then(|t| t.into_stack(&sensor.bands))
            .expect("bundled Landsat pair");
        s.set_radiometry(sensor.radiometry).expect("radiometry");
        s
    };
    Engine::new(Backend::Cpu)
        .detect_change(
            &load("Taizhou_t1.tif"),
            &load("Taizhou_t2.tif"),
            &ChangeOptions::new(),
        )
        .expect("change detection")
        .output
        .change
}

/// `src` mirrored (reflected at every edge) to `side × side`.
fn mirror(src: &Raster<u8>, side: usize) -> Raster<u8> {
    let fold = |i: usize, n: usize| {
        let m = i % (2 * n);
        if m < n { m } else { 2 * n - 1 - m }
    };
    let data = (0..side * side)
        .map(|i| src.data[fold(i / side, src.height) * src.width + fold(i % side, src.width)])
        .collect();
    Raster {
        width: side,
        height: side,
        data,
        nodata: src.nodata,
        georef: src.georef,
    }
}

/// Best wall time of `runs` calls, in seconds, and the last result.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        out = Some(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, out.expect("at least one run"))
}

fn peer_python() -> Option<PathBuf> {
    let p = std::env::var_os("LANDWATCH_PEER_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".venvs/peer/bin/python"))
        })?;
    p.exists().then_some(p)
}

fn main() {
    let side: usize = std::env::var("LANDWATCH_BENCH_SIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8192);
    let mask = mirror(&real_change(), side);
    let mpx = (side * side) as f64 / 1e6;
    let changed = mask
        .data
        .iter()
        .filter(|&&c| !landwatch::patch::is_background(c))
        .count();
    println!(
        "mask: Taizhou change mirrored to {side}×{side} ({mpx:.1} Mpx, {:.1}% changed), {} threads",
        100.0 * changed as f64 / (side * side) as f64,
        rayon::current_num_threads()
    );
    let rate = |s: f64| mpx / s;
    for conn in [Connectivity::Four, Connectivity::Eight] {
        let (t, labels) = best(5, || label(&mask, conn).expect("label"));
        println!(
            "  label {conn:?}: {:.3} s, {:.0} Mpx/s, {} patches",
            t,
            rate(t),
            labels.count
        );
    }
    let gpu = Engine::new(Backend::Auto);
    match gpu.gpu_adapter() {
        Some(adapter) => {
            let (t, run) = best(5, || gpu.label(&mask, Connectivity::Eight).expect("label"));
            println!(
                "  label Eight on GPU {adapter}: {t:.3} s, {:.0} Mpx/s, {} patches{}",
                rate(t),
                run.output.count,
                run.execution
                    .fallback
                    .map(|f| format!(" (ran on the CPU: {f})"))
                    .unwrap_or_default()
            );
        }
        None => println!(
            "  GPU labelling skipped: {}",
            gpu.gpu_unavailable()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
    }
    let labels = label(&mask, Connectivity::Eight).expect("label");
    let (t, polys) = best(3, || polygonize(&labels).expect("polygonize"));
    let vertices: usize = polys
        .iter()
        .flat_map(|p| &p.polygons)
        .map(|q| q.exterior.len() + q.holes.iter().map(Vec::len).sum::<usize>())
        .sum();
    println!(
        "  polygonize 8: {t:.3} s, {:.0} Mpx/s, {vertices} vertices",
        rate(t)
    );
    let (t, _) = best(3, || {
        attributes(&labels, &PatchLayers::codes(&mask)).expect("attributes")
    });
    println!("  attributes: {t:.3} s, {:.0} Mpx/s", rate(t));

    let Some(python) = peer_python() else {
        println!("peer comparison skipped: no peer Python (set LANDWATCH_PEER_PYTHON)");
        return;
    };
    let path = std::env::temp_dir().join(format!("landwatch_bench_mask_{side}.tif"));
    write_geotiff(&path, &mask).expect("write mask");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_patches_peer.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&path)
        .output()
        .expect("run the peer script");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        println!(
            "peer script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_file(&path).ok();
}
