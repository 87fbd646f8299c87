//! GPU connected-component labelling against a BFS flood fill written here: canonical ids
//! bit for bit on random masks, spirals, snakes, edge cases, both connectivities, and a fixed
//! number of dispatches whatever the shape.

mod patch_support;

use landwatch::backend::gpu::GPU_LABEL_DISPATCHES;
use landwatch::patch::label as cpu_label;
use landwatch::patch::{Connectivity, Labels};
use landwatch::{Device, Engine, GpuFailureKind, GpuOptions, Raster};
use patch_support::{Rng, assert_ran_on_gpu, gpu_engine};

fn raster(width: usize, height: usize, data: Vec<u8>) -> Raster<u8> {
    Raster {
        width,
        height,
        data,
        nodata: 255,
        georef: None,
    }
}

/// The reference: flood fill from each unlabelled patch pixel in raster order, so ids are
/// canonical by construction.
/// The independent flood-fill reference of the patch tests, as a label raster.
fn bfs(r: &Raster<u8>, connectivity: Connectivity) -> Labels {
    let (ids, count) = patch_support::bfs_label(&r.data, r.width, r.height, connectivity);
    Labels {
        width: r.width,
        height: r.height,
        ids,
        count,
    }
}

fn random_mask(rng: &mut Rng, w: usize, h: usize, density: f64, codes: u64) -> Raster<u8> {
    let data = (0..w * h)
        .map(|_| {
            if rng.unit() < density {
                1 + rng.below(codes) as u8
            } else if rng.below(50) == 0 {
                255
            } else {
                0
            }
        })
        .collect();
    raster(w, h, data)
}

/// A one-pixel-wide boustrophedon: full rows joined by one pixel at alternating ends.
fn snake(w: usize, h: usize) -> Raster<u8> {
    let mut data = vec![0u8; w * h];
    for y in 0..h {
        if y % 2 == 0 {
            data[y * w..(y + 1) * w].fill(1);
        } else {
            let x = if (y / 2) % 2 == 0 { w - 1 } else { 0 };
            data[y * w + x] = 1;
        }
    }
    raster(w, h, data)
}

/// A square spiral one pixel wide with one-pixel gaps, winding inwards from the border.
fn spiral(n: usize) -> Raster<u8> {
    let mut data = vec![0u8; n * n];
    let (mut x0, mut y0, mut x1, mut y1) = (0isize, 0isize, n as isize - 1, n as isize - 1);
    let mut set = |x: isize, y: isize| data[y as usize * n + x as usize] = 3;
    while x0 <= x1 && y0 <= y1 {
        for x in x0..=x1 {
            set(x, y0);
        }
        for y in y0..=y1 {
            set(x1, y);
        }
        if y1 > y0 {
            for x in x0..=x1 {
                set(x, y1);
            }
        }
        // The left side stops short of the top so the next turn stays separate.
        for y in (y0 + 2).min(y1)..=y1 {
            set(x0, y);
        }
        x0 += 2;
        y0 += 2;
        x1 -= 2;
        y1 -= 2;
        if x0 <= x1 && y0 <= y1 {
            set(x0 - 1, y0);
        }
    }
    raster(n, n, data)
}

/// A one-pixel staircase from the top-left corner to the bottom-right one (diagonal steps
/// join only with 8-connectivity).
fn diagonal(w: usize, h: usize) -> Raster<u8> {
    let mut data = vec![0u8; w * h];
    for x in 0..w {
        data[(x * h / w) * w + x] = 2;
    }
    raster(w, h, data)
}

fn cases() -> Vec<(String, Raster<u8>)> {
    let mut rng = Rng(0x1ABE1);
    let mut cases = vec![
        ("single pixel".to_string(), raster(1, 1, vec![4])),
        ("single background".to_string(), raster(1, 1, vec![0])),
        ("single pixel in a field".to_string(), {
            let mut d = vec![0u8; 37 * 29];
            d[17 * 37 + 11] = 1;
            raster(37, 29, d)
        }),
        (
            "all background".to_string(),
            raster(301, 7, vec![0; 301 * 7]),
        ),
        ("all nodata".to_string(), raster(64, 16, vec![255; 64 * 16])),
        ("full".to_string(), raster(257, 33, vec![2; 257 * 33])),
        ("snake 33x65".to_string(), snake(33, 65)),
        ("snake 65x33".to_string(), snake(65, 33)),
        ("long thin snake".to_string(), snake(2049, 9)),
        (
            "horizontal line".to_string(),
            raster(5000, 1, vec![1; 5000]),
        ),
        ("vertical line".to_string(), raster(1, 3000, vec![5; 3000])),
        ("spiral 64".to_string(), spiral(64)),
        ("spiral 101".to_string(), spiral(101)),
        ("diagonal".to_string(), diagonal(700, 300)),
        ("checkerboard".to_string(), {
            let d = (0..45 * 31)
                .map(|i| ((i % 45 + i / 45) % 2) as u8)
                .collect();
            raster(45, 31, d)
        }),
    ];
    for (w, h) in [(1, 7), (7, 1), (17, 15), (257, 3), (301, 233), (1000, 37)] {
        for density in [0.05, 0.3, 0.6] {
            for codes in [1, 4] {
                cases.push((
                    format!("random {w}x{h} {density} {codes} codes"),
                    random_mask(&mut rng, w, h, density, codes),
                ));
            }
        }
    }
    cases
}

#[test]
fn cpu_twin_matches_bfs() {
    for (name, r) in cases() {
        for connectivity in [Connectivity::Four, Connectivity::Eight] {
            let twin = cpu_label(&r, connectivity).unwrap();
            assert_eq!(twin, bfs(&r, connectivity), "{name}, {connectivity:?}");
        }
    }
}

#[test]
fn gpu_matches_bfs_in_a_fixed_number_of_dispatches() {
    let Some(engine) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    for (name, r) in cases() {
        for connectivity in [Connectivity::Four, Connectivity::Eight] {
            let before = engine.gpu_dispatch_count();
            let got = engine.label(&r, connectivity).unwrap();
            let dispatches = engine.gpu_dispatch_count() - before;
            assert_ran_on_gpu(&got.execution);
            assert_eq!(
                got.output,
                bfs(&r, connectivity),
                "{name}, {connectivity:?}"
            );
            let expected = if r.data.is_empty() {
                0
            } else {
                GPU_LABEL_DISPATCHES
            };
            assert_eq!(dispatches, expected, "{name}: dispatches");
        }
    }
}

#[test]
fn gpu_2d_dispatch_matches_bfs() {
    // Two workgroups per dimension force the 2-D grid on every pass.
    let Some(engine) = gpu_engine(GpuOptions::default().with_max_workgroups_per_dim(Some(2)))
    else {
        return;
    };
    let mut rng = Rng(7);
    for r in [random_mask(&mut rng, 61, 50, 0.5, 3), snake(33, 65)] {
        let got = engine.label(&r, Connectivity::Eight).unwrap();
        assert_ran_on_gpu(&got.execution);
        assert_eq!(got.output, bfs(&r, Connectivity::Eight));
    }
}

#[test]
fn too_large_for_a_binding_falls_back_to_the_cpu() {
    let Some(engine) = gpu_engine(GpuOptions::default().with_max_binding_bytes(Some(4096))) else {
        return;
    };
    let r = snake(64, 64);
    let got = engine.label(&r, Connectivity::Four).unwrap();
    assert!(matches!(got.execution.device, Device::Cpu { .. }));
    let why = got.execution.fallback.expect("a fallback reason");
    assert_eq!(why.kind, GpuFailureKind::LimitExceeded, "{why}");
    assert_eq!(got.output, bfs(&r, Connectivity::Four));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let r = raster(10, 10, vec![1; 99]);
    assert!(cpu_label(&r, Connectivity::Eight).is_err());
    assert!(Engine::cpu().label(&r, Connectivity::Eight).is_err());
    // A zero-size raster is refused on every backend, as elsewhere in the crate.
    let empty = raster(0, 0, vec![]);
    assert!(Engine::cpu().label(&empty, Connectivity::Eight).is_err());
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        assert!(gpu.label(&empty, Connectivity::Eight).is_err());
    }
    let cpu = Engine::cpu()
        .label(&snake(33, 65), Connectivity::Four)
        .unwrap();
    assert!(matches!(cpu.execution.device, Device::Cpu { .. }));
    assert_eq!(cpu.output.count, 1);
}

#[test]
fn hard_shapes_are_single_long_patches() {
    for r in [snake(33, 65), snake(2049, 9), spiral(64), spiral(101)] {
        assert_eq!(
            bfs(&r, Connectivity::Four).count,
            1,
            "{}x{}",
            r.width,
            r.height
        );
    }
    assert_eq!(bfs(&diagonal(700, 300), Connectivity::Eight).count, 1);
    assert_eq!(bfs(&diagonal(700, 300), Connectivity::Four).count, 300);
}
