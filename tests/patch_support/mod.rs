//! Shared helpers of the patch tests: an independent flood-fill labelling, synthetic and
//! real change masks, and a geometry validity checker.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)] // each test uses part of it
pub use common::{Rng, assert_ran_on_gpu, data, gpu_engine};

use landwatch::io::{ReadLimits, read_geotiff};
use landwatch::patch::polygon::{Corner, PatchPolygons};
use landwatch::patch::{Connectivity, is_background};
use landwatch::{
    Backend, BandStack, ChangeOptions, Engine, GeoReference, GeoTransform, Raster, Sensor,
};
use std::collections::{HashMap, HashSet, VecDeque};

/// Reference labelling by breadth-first flood fill from each unlabelled pixel in raster
/// order (so its numbering is canonical by construction).
pub fn bfs_label(codes: &[u8], w: usize, h: usize, conn: Connectivity) -> (Vec<u32>, u32) {
    let mut ids = vec![0u32; w * h];
    let mut n = 0;
    let nbrs: &[(i64, i64)] = match conn {
        Connectivity::Four => &[(1, 0), (-1, 0), (0, 1), (0, -1)],
        Connectivity::Eight => &[
            (1, 0),
            (-1, 0),
            (0, 1),
            (0, -1),
            (1, 1),
            (1, -1),
            (-1, 1),
            (-1, -1),
        ],
    };
    for start in 0..w * h {
        if ids[start] != 0 || is_background(codes[start]) {
            continue;
        }
        n += 1;
        ids[start] = n;
        let mut q = VecDeque::from([start]);
        while let Some(p) = q.pop_front() {
            let (x, y) = ((p % w) as i64, (p / w) as i64);
            for (dx, dy) in nbrs {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                let np = ny as usize * w + nx as usize;
                if ids[np] == 0 && codes[np] == codes[start] {
                    ids[np] = n;
                    q.push_back(np);
                }
            }
        }
    }
    (ids, n)
}

/// A UTM 30 m georeference (EPSG:32651, Taizhou).
pub fn utm30() -> GeoReference {
    GeoReference {
        transform: GeoTransform([300_000.0, 30.0, 0.0, 3_200_000.0, 0.0, -30.0]),
        crs: Some(landwatch::geo::Crs::epsg(32651)),
    }
}

/// A raster of codes on `georef`.
pub fn raster(w: usize, h: usize, data: Vec<u8>, georef: GeoReference) -> Raster<u8> {
    Raster {
        width: w,
        height: h,
        data,
        nodata: 255,
        georef: Some(georef),
    }
}

/// Random codes: changed with probability `density`, codes 1..=`types`, some nodata.
pub fn random_codes(rng: &mut Rng, w: usize, h: usize, density: f64, types: u64) -> Vec<u8> {
    (0..w * h)
        .map(|_| {
            if rng.unit() < density {
                1 + rng.below(types) as u8
            } else if rng.below(10) == 0 {
                255
            } else {
                0
            }
        })
        .collect()
}

/// Random blobs: sums of rectangles, so patches have holes, pinches and long borders.
pub fn blobby_codes(rng: &mut Rng, w: usize, h: usize, rects: usize) -> Vec<u8> {
    let mut c = vec![0u8; w * h];
    for _ in 0..rects {
        let (x0, y0) = (rng.below(w as u64) as usize, rng.below(h as u64) as usize);
        let (rw, rh) = (1 + rng.below(12) as usize, 1 + rng.below(12) as usize);
        let v = [0u8, 1, 2][rng.below(3) as usize];
        for y in y0..(y0 + rh).min(h) {
            for x in x0..(x0 + rw).min(w) {
                c[y * w + x] = v;
            }
        }
    }
    c
}

/// A square spiral of code 1, one pixel wide with one-pixel gaps.
pub fn spiral(n: usize) -> Vec<u8> {
    let mut c = vec![0u8; n * n];
    let inside = |x: i64, y: i64| x >= 0 && y >= 0 && x < n as i64 && y < n as i64;
    let (mut x, mut y, mut d, mut stuck) = (0i64, 0i64, 0usize, 0);
    let dirs = [(1, 0), (0, 1), (-1, 0), (0, -1)];
    c[0] = 1;
    while stuck < 2 {
        let (dx, dy) = dirs[d];
        let (nx, ny) = (x + dx, y + dy);
        let set = |x: i64, y: i64, c: &[u8]| inside(x, y) && c[y as usize * n + x as usize] == 1;
        if inside(nx, ny) && !set(nx, ny, &c) && !set(nx + dx, ny + dy, &c) {
            (x, y) = (nx, ny);
            c[y as usize * n + x as usize] = 1;
            stuck = 0;
        } else {
            d = (d + 1) % 4;
            stuck += 1;
        }
    }
    c
}

/// A snake: full rows joined alternately at the right and left ends.
pub fn snake(w: usize, h: usize) -> Vec<u8> {
    let mut c = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let on = match y % 4 {
                0 | 2 => true,
                1 => x == w - 1,
                _ => x == 0,
            };
            c[y * w + x] = u8::from(on);
        }
    }
    c
}

/// The real change mask of the bundled Taizhou Landsat pair, computed on the CPU.
pub fn real_change() -> Raster<u8> {
    let sensor = Sensor::landsat_dn();
    let load = |name: &str| -> BandStack {
        let mut s = read_geotiff(
            data(&format!("landsat_taizhou/{name}")),
            &ReadLimits::default(),
        )
        .unwrap()
        .into_stack(&sensor.bands)
        .unwrap();
        s.set_radiometry(sensor.radiometry).unwrap();
        s
    };
    let (before, after) = (load("Taizhou_t1.tif"), load("Taizhou_t2.tif"));
    Engine::new(Backend::Cpu)
        .detect_change(&before, &after, &ChangeOptions::new())
        .unwrap()
        .output
        .change
}

/// Unit steps of a ring (closed implicitly).
fn unit_steps(ring: &[Corner]) -> Vec<(Corner, Corner)> {
    let mut out = Vec::new();
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        assert!(
            a[0] == b[0] || a[1] == b[1],
            "edge {a:?}→{b:?} is not axis-parallel"
        );
        let d = [(b[0] - a[0]).signum(), (b[1] - a[1]).signum()];
        let mut p = a;
        while p != b {
            let q = [p[0] + d[0], p[1] + d[1]];
            out.push((p, q));
            p = q;
        }
    }
    out
}

fn inside_doubled(ring: &[Corner], p: [i64; 2]) -> bool {
    let mut inside = false;
    for (a, b) in unit_steps(ring) {
        if a[0] == b[0] && ((2 * a[1] > p[1]) != (2 * b[1] > p[1])) && 2 * a[0] > p[0] {
            inside = !inside;
        }
    }
    inside
}

/// Checks one patch's lattice geometry against its pixels `cells`: every ring simple,
/// closed-able, axis-parallel, vertices only at turns; exteriors positive, holes negative;
/// holes inside their shell; rings meet only at turning corners; no edge used twice; and
/// the boundary edges are exactly those of the pixel set.
pub fn check_patch(p: &PatchPolygons, cells: &HashSet<(i64, i64)>) {
    let mut all_edges = HashSet::new();
    let mut visits: HashMap<Corner, Vec<bool>> = HashMap::new();
    for poly in &p.polygons {
        let rings =
            std::iter::once((&poly.exterior, true)).chain(poly.holes.iter().map(|h| (h, false)));
        for (ring, exterior) in rings {
            assert!(
                ring.len() >= 4,
                "patch {}: ring of {} vertices",
                p.id,
                ring.len()
            );
            let area2 = landwatch::patch::polygon::ring_area2(ring);
            assert_eq!(area2 > 0, exterior, "patch {}: ring orientation", p.id);
            let turns: HashSet<Corner> = ring.iter().copied().collect();
            assert_eq!(turns.len(), ring.len(), "patch {}: ring not simple", p.id);
            for i in 0..ring.len() {
                let (a, b, c) = (
                    ring[i],
                    ring[(i + 1) % ring.len()],
                    ring[(i + 2) % ring.len()],
                );
                let collinear = (b[0] - a[0]) * (c[1] - b[1]) == (b[1] - a[1]) * (c[0] - b[0]);
                assert!(!collinear, "patch {}: vertex {b:?} is not a turn", p.id);
            }
            let mut seen = HashSet::new();
            for (a, b) in unit_steps(ring) {
                assert!(seen.insert(a), "patch {}: ring passes {a:?} twice", p.id);
                let key = if a < b { (a, b) } else { (b, a) };
                assert!(
                    all_edges.insert(key),
                    "patch {}: edge {key:?} used twice",
                    p.id
                );
                visits.entry(a).or_default().push(turns.contains(&a));
                // The patch lies on the right of every edge (row down).
                let d = [b[0] - a[0], b[1] - a[1]];
                let right = match d {
                    [1, 0] => (a[0], a[1]),
                    [0, 1] => (a[0] - 1, a[1]),
                    [-1, 0] => (a[0] - 1, a[1] - 1),
                    _ => (a[0], a[1] - 1),
                };
                assert!(
                    cells.contains(&right),
                    "patch {}: edge {a:?}→{b:?} has no pixel on its right",
                    p.id
                );
                if !exterior {
                    // A hole's other side must lie inside the shell.
                    let out = match d {
                        [1, 0] => (a[0], a[1] - 1),
                        [0, 1] => (a[0], a[1]),
                        [-1, 0] => (a[0] - 1, a[1]),
                        _ => (a[0] - 1, a[1] - 1),
                    };
                    assert!(
                        inside_doubled(&poly.exterior, [2 * out.0 + 1, 2 * out.1 + 1]),
                        "patch {}: hole outside its shell",
                        p.id
                    );
                }
            }
        }
    }
    for (v, passes) in &visits {
        if passes.len() > 1 {
            assert!(
                passes.iter().all(|&t| t),
                "patch {}: rings cross at {v:?}",
                p.id
            );
        }
    }
    let mut expected = HashSet::new();
    for &(x, y) in cells {
        for (n, e) in [
            ((x, y - 1), ([x, y], [x + 1, y])),
            ((x, y + 1), ([x, y + 1], [x + 1, y + 1])),
            ((x - 1, y), ([x, y], [x, y + 1])),
            ((x + 1, y), ([x + 1, y], [x + 1, y + 1])),
        ] {
            if !cells.contains(&n) {
                expected.insert(e);
            }
        }
    }
    assert_eq!(
        all_edges, expected,
        "patch {}: boundary differs from the pixel edges",
        p.id
    );
}

/// Pixel sets of every patch (index = id - 1).
pub fn cells_by_patch(ids: &[u32], w: usize, count: u32) -> Vec<HashSet<(i64, i64)>> {
    let mut out = vec![HashSet::new(); count as usize];
    for (i, &id) in ids.iter().enumerate() {
        if id != 0 {
            out[id as usize - 1].insert(((i % w) as i64, (i / w) as i64));
        }
    }
    out
}

/// Checks a closed float ring: closure, no repeated consecutive points, orientation.
pub fn check_float_ring(ring: &[[f64; 2]], ccw: bool) {
    assert!(ring.len() >= 5, "ring of {} positions", ring.len());
    assert_eq!(ring.first(), ring.last(), "ring not closed");
    for w in ring.windows(2) {
        assert_ne!(w[0], w[1], "repeated consecutive position");
    }
    let a = landwatch::patch::polygon::signed_area2(ring);
    assert_eq!(a > 0.0, ccw, "ring orientation");
}

/// Shoelace area of a float polygon (exterior minus holes).
pub fn polygon_area(p: &landwatch::io::Polygon) -> f64 {
    let a = landwatch::patch::polygon::signed_area2;
    (a(&p.exterior).abs() - p.holes.iter().map(|h| a(h).abs()).sum::<f64>()) / 2.0
}
