//! GPU morphology against its CPU twin bit for bit, the twin against a naive by-definition
//! implementation written here, and hand-checked cases.

mod common;

use common::{Rng, assert_ran_on_gpu, gpu_engine};
use landwatch::patch::is_background;
use landwatch::patch::morphology::{
    ElementShape, MorphOp, MorphScope, Morphology, StructuringElement, morphology,
};
use landwatch::{Device, Engine, GpuOptions, Raster};

fn raster(width: usize, height: usize, data: Vec<u8>) -> Raster<u8> {
    Raster {
        width,
        height,
        data,
        nodata: 255,
        georef: None,
    }
}

fn parse(rows: &[&str]) -> Raster<u8> {
    let data = rows
        .iter()
        .flat_map(|r| {
            r.bytes().map(|b| match b {
                b'.' => 0,
                b'N' => 255,
                d => d - b'0',
            })
        })
        .collect();
    raster(rows[0].len(), rows.len(), data)
}

/// Random codes: isolated pixels at `density`, plus rectangles of random types and sizes so
/// that openings keep something, plus 2% nodata.
fn random_codes(rng: &mut Rng, w: usize, h: usize, density: f64, codes: u64) -> Raster<u8> {
    let mut data: Vec<u8> = (0..w * h)
        .map(|_| match rng.unit() {
            u if u < density => 1 + rng.below(codes) as u8,
            _ if rng.below(50) == 0 => 255,
            _ => 0,
        })
        .collect();
    let rects = (w * h / 60).max(1);
    for _ in 0..rects {
        let (x0, y0) = (rng.below(w as u64) as usize, rng.below(h as u64) as usize);
        let (rw, rh) = (1 + rng.below(9) as usize, 1 + rng.below(9) as usize);
        let code = if rng.below(3) == 0 {
            0
        } else {
            1 + rng.below(codes) as u8
        };
        for y in y0..(y0 + rh).min(h) {
            for x in x0..(x0 + rw).min(w) {
                data[y * w + x] = code;
            }
        }
    }
    raster(w, h, data)
}

fn elements() -> Vec<StructuringElement> {
    vec![
        StructuringElement::square(3).unwrap(),
        StructuringElement::square(5).unwrap(),
        StructuringElement::cross(3).unwrap(),
        StructuringElement::cross(5).unwrap(),
    ]
}

fn all_ops() -> Vec<Morphology> {
    let mut ops = Vec::new();
    for element in elements() {
        for op in [MorphOp::Open, MorphOp::Close] {
            for scope in [MorphScope::PerType, MorphScope::WholeMask] {
                ops.push(Morphology { op, element, scope });
            }
        }
    }
    ops
}

/// Morphology by definition: one boolean mask per class, erosion and dilation as "all" and
/// "any" over the element, then the documented composition.
fn naive(r: &Raster<u8>, m: &Morphology) -> Vec<u8> {
    let (w, h) = (r.width as isize, r.height as isize);
    let rad = m.element.radius() as isize;
    let mut offsets = Vec::new();
    for dy in -rad..=rad {
        for dx in -rad..=rad {
            if m.element.shape() == ElementShape::Square || dx == 0 || dy == 0 {
                offsets.push((dx, dy));
            }
        }
    }
    let at = |p: usize, (dx, dy): (isize, isize)| {
        let (x, y) = (p as isize % w + dx, p as isize / w + dy);
        (x >= 0 && y >= 0 && x < w && y < h).then(|| (y * w + x) as usize)
    };
    let erode = |mask: &[bool]| -> Vec<bool> {
        (0..mask.len())
            .map(|p| offsets.iter().all(|&o| at(p, o).is_some_and(|q| mask[q])))
            .collect()
    };
    let dilate = |mask: &[bool]| -> Vec<bool> {
        (0..mask.len())
            .map(|p| offsets.iter().any(|&o| at(p, o).is_some_and(|q| mask[q])))
            .collect()
    };
    let classes: Vec<Vec<u8>> = match m.scope {
        MorphScope::WholeMask => vec![(1..=254).collect()],
        MorphScope::PerType => (1..=254).map(|c| vec![c]).collect(),
    };
    let mut out = r.data.clone();
    let mut claims: Vec<Vec<u8>> = vec![Vec::new(); r.data.len()];
    for class in &classes {
        let mask: Vec<bool> = r.data.iter().map(|c| class.contains(c)).collect();
        if !mask.iter().any(|&b| b) {
            continue;
        }
        match m.op {
            MorphOp::Open => {
                let opened = dilate(&erode(&mask));
                for p in 0..mask.len() {
                    if mask[p] && !opened[p] {
                        out[p] = 0;
                    }
                }
            }
            MorphOp::Close => {
                let closed = erode(&dilate(&mask));
                for p in 0..mask.len() {
                    if r.data[p] == 0 && closed[p] {
                        claims[p].push(class[0]);
                    }
                }
            }
        }
    }
    if m.op == MorphOp::Close {
        for p in 0..out.len() {
            if claims[p].is_empty() {
                continue;
            }
            out[p] = match m.scope {
                MorphScope::PerType => *claims[p].iter().min().unwrap(),
                MorphScope::WholeMask => offsets
                    .iter()
                    .filter_map(|&o| at(p, o))
                    .map(|q| r.data[q])
                    .filter(|&c| !is_background(c))
                    .min()
                    .unwrap(),
            };
        }
    }
    out
}

#[test]
fn cpu_twin_matches_the_naive_definition() {
    let mut rng = Rng(0x0BE4);
    for (w, h) in [(1, 1), (5, 1), (1, 9), (17, 15), (40, 33)] {
        for density in [0.1, 0.5] {
            for codes in [1, 4] {
                let r = random_codes(&mut rng, w, h, density, codes);
                for m in all_ops() {
                    let twin = morphology(&r, &m).unwrap();
                    assert_eq!(twin.data, naive(&r, &m), "{w}x{h} {density} {codes} {m:?}");
                }
            }
        }
    }
}

#[test]
fn gpu_matches_cpu_twin_bit_for_bit() {
    let Some(gpu) = gpu_engine(GpuOptions::default()) else {
        return;
    };
    let cpu = Engine::cpu();
    let mut rng = Rng(0x3A7);
    for (w, h) in [(1, 1), (3, 1), (17, 15), (256, 1), (257, 3), (301, 233)] {
        for density in [0.05, 0.3, 0.6] {
            for codes in [1, 5] {
                let r = random_codes(&mut rng, w, h, density, codes);
                for m in all_ops() {
                    let g = gpu.morphology(&r, m.op, m.element, m.scope).unwrap();
                    assert_ran_on_gpu(&g.execution);
                    let c = cpu.morphology(&r, m.op, m.element, m.scope).unwrap();
                    assert!(matches!(c.execution.device, Device::Cpu { .. }));
                    assert_eq!(
                        g.output.data, c.output.data,
                        "{w}x{h} {density} {codes} {m:?}"
                    );
                    assert_eq!((g.output.width, g.output.height), (w, h));
                }
            }
        }
    }
}

#[test]
fn many_codes_close_in_rounds_on_both_backends() {
    // 200 distinct codes: per-type closing takes seven rounds of 32.
    let mut rng = Rng(99);
    let r = random_codes(&mut rng, 97, 61, 0.4, 200);
    let cpu = Engine::cpu();
    let gpu = gpu_engine(GpuOptions::default());
    for element in elements() {
        for op in [MorphOp::Open, MorphOp::Close] {
            let m = Morphology {
                op,
                element,
                scope: MorphScope::PerType,
            };
            let c = cpu.morphology(&r, op, element, m.scope).unwrap();
            assert_eq!(c.output.data, naive(&r, &m), "{m:?}");
            if let Some(gpu) = &gpu {
                let g = gpu.morphology(&r, op, element, m.scope).unwrap();
                assert_ran_on_gpu(&g.execution);
                assert_eq!(g.output.data, c.output.data, "{m:?}");
            }
        }
    }
}

fn run_both(
    r: &Raster<u8>,
    op: MorphOp,
    element: StructuringElement,
    scope: MorphScope,
) -> Vec<u8> {
    let c = Engine::cpu()
        .morphology(r, op, element, scope)
        .unwrap()
        .output;
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        let g = gpu.morphology(r, op, element, scope).unwrap();
        assert_ran_on_gpu(&g.execution);
        assert_eq!(g.output.data, c.data);
    }
    c.data
}

#[test]
fn hand_checked_cases() {
    let sq3 = StructuringElement::square(3).unwrap();
    let cross3 = StructuringElement::cross(3).unwrap();
    // A two-pixel-wide line vanishes under a 3×3 opening; a three-pixel-wide one stays.
    let r = parse(&[
        "..........",
        ".11111111.",
        ".11111111.",
        "..........",
        ".22222222.",
        ".22222222.",
        ".22222222.",
        "..........",
    ]);
    let out = run_both(&r, MorphOp::Open, sq3, MorphScope::PerType);
    let expected = parse(&[
        "..........",
        "..........",
        "..........",
        "..........",
        ".22222222.",
        ".22222222.",
        ".22222222.",
        "..........",
    ]);
    assert_eq!(out, expected.data);

    // A one-pixel hole fills under a 3×3 closing; nodata stays nodata.
    let r = parse(&[
        "......", //
        ".333N.", ".3.33.", ".333..", "......",
    ]);
    let out = run_both(&r, MorphOp::Close, sq3, MorphScope::PerType);
    let expected = parse(&[
        "......", //
        ".333N.", ".3333.", ".333..", "......",
    ]);
    assert_eq!(out, expected.data);

    // Two types side by side: per type each 2-wide half is too thin for a 3×3 opening, while
    // the whole mask (4 wide) survives with its codes.
    let r = parse(&[
        "......", //
        ".1122.", ".1122.", ".1122.", "......",
    ]);
    let per_type = run_both(&r, MorphOp::Open, sq3, MorphScope::PerType);
    assert!(per_type.iter().all(|&c| c == 0));
    let whole = run_both(&r, MorphOp::Open, sq3, MorphScope::WholeMask);
    assert_eq!(whole, r.data);

    // A gap between two types: per type nobody's closing reaches it (each needs the element
    // covered by its own dilation); over the whole mask it fills with the lower code.
    let r = parse(&[
        ".......", //
        ".11.22.", ".11.22.", ".11.22.", ".......",
    ]);
    let per_type = run_both(&r, MorphOp::Close, sq3, MorphScope::PerType);
    assert_eq!(per_type, r.data);
    let whole = run_both(&r, MorphOp::Close, sq3, MorphScope::WholeMask);
    let expected = parse(&[
        ".......", //
        ".11122.", ".11122.", ".11122.", ".......",
    ]);
    assert_eq!(whole, expected.data);

    // A cross opening keeps a plus sign that a square opening removes.
    let r = parse(&[
        ".....", //
        "..4..", ".444.", "..4..", ".....",
    ]);
    assert_eq!(
        run_both(&r, MorphOp::Open, cross3, MorphScope::PerType),
        r.data
    );
    let sq = run_both(&r, MorphOp::Open, sq3, MorphScope::PerType);
    assert!(sq.iter().all(|&c| c == 0));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(StructuringElement::square(4).is_err());
    assert!(StructuringElement::cross(0).is_err());
    assert!(StructuringElement::new(ElementShape::Square, 1001).is_err());
    let bad = raster(4, 4, vec![1; 15]);
    let sq3 = StructuringElement::square(3).unwrap();
    assert!(
        Engine::cpu()
            .morphology(&bad, MorphOp::Open, sq3, MorphScope::PerType)
            .is_err()
    );
    let empty = raster(0, 0, vec![]);
    let out = Engine::cpu()
        .morphology(&empty, MorphOp::Close, sq3, MorphScope::WholeMask)
        .unwrap();
    assert!(out.output.data.is_empty());
    if let Some(gpu) = gpu_engine(GpuOptions::default()) {
        assert!(
            gpu.morphology(&bad, MorphOp::Open, sq3, MorphScope::PerType)
                .is_err()
        );
        let out = gpu
            .morphology(&empty, MorphOp::Open, sq3, MorphScope::PerType)
            .unwrap();
        assert!(out.output.data.is_empty());
    }
}

#[test]
fn gpu_2d_dispatch_and_binding_limit() {
    let mut rng = Rng(5);
    let r = random_codes(&mut rng, 60, 50, 0.3, 4);
    let cpu = Engine::cpu();
    // Four workgroups per dimension: 12 groups of pixels force a 2-D grid.
    if let Some(gpu) = gpu_engine(GpuOptions::default().with_max_workgroups_per_dim(Some(4))) {
        for m in all_ops() {
            let g = gpu.morphology(&r, m.op, m.element, m.scope).unwrap();
            assert_ran_on_gpu(&g.execution);
            let c = cpu.morphology(&r, m.op, m.element, m.scope).unwrap();
            assert_eq!(g.output.data, c.output.data, "{m:?}");
        }
    }
    // The 4-byte intermediate of 3,000 pixels does not fit 4 KiB: the CPU takes over.
    if let Some(gpu) = gpu_engine(GpuOptions::default().with_max_binding_bytes(Some(4096))) {
        let sq3 = StructuringElement::square(3).unwrap();
        let g = gpu
            .morphology(&r, MorphOp::Open, sq3, MorphScope::PerType)
            .unwrap();
        assert!(matches!(g.execution.device, Device::Cpu { .. }));
        let why = g.execution.fallback.expect("a fallback reason");
        assert_eq!(why.kind, landwatch::GpuFailureKind::LimitExceeded, "{why}");
        let c = cpu
            .morphology(&r, MorphOp::Open, sq3, MorphScope::PerType)
            .unwrap();
        assert_eq!(g.output.data, c.output.data);
    }
}
