//! CPU labelling against an independent flood fill, and against scipy.ndimage.label.

mod patch_support;

use landwatch::io::write_geotiff;
use landwatch::patch::{Connectivity, label, label_codes};
use patch_support::*;
use std::path::PathBuf;

const BOTH: [Connectivity; 2] = [Connectivity::Four, Connectivity::Eight];

fn check(codes: &[u8], w: usize, h: usize, what: &str) {
    for conn in BOTH {
        let ours = label_codes(codes, w, h, conn).unwrap();
        let (ids, n) = bfs_label(codes, w, h, conn);
        assert_eq!(ours.count, n, "{what} {conn:?}: patch count");
        // Canonical numbering makes the rasters themselves comparable.
        assert!(ours.ids == ids, "{what} {conn:?}: label rasters differ");
    }
}

#[test]
fn random_masks_match_flood_fill() {
    let mut rng = Rng(7);
    for &(w, h) in &[(1, 1), (1, 37), (41, 1), (64, 64), (200, 150), (1000, 700)] {
        for density in [0.05, 0.3, 0.5, 0.7, 0.95] {
            for types in [1, 3] {
                let c = random_codes(&mut rng, w, h, density, types);
                check(&c, w, h, &format!("{w}×{h} p={density} types={types}"));
            }
        }
    }
    let c = blobby_codes(&mut rng, 300, 500, 900);
    check(&c, 300, 500, "blobs");
}

#[test]
fn shapes_match_flood_fill() {
    check(&spiral(61), 61, 61, "spiral");
    assert_eq!(
        label_codes(&spiral(61), 61, 61, Connectivity::Four)
            .unwrap()
            .count,
        1
    );
    let s = snake(33, 65);
    check(&s, 33, 65, "snake");
    assert_eq!(
        label_codes(&s, 33, 65, Connectivity::Four).unwrap().count,
        1
    );
    // A tall snake crosses every parallel strip border many times.
    check(&snake(40, 5000), 40, 5000, "tall snake");
    check(&[3], 1, 1, "single pixel");
    let mut one = vec![0u8; 25];
    one[12] = 2;
    let l = label_codes(&one, 5, 5, Connectivity::Eight).unwrap();
    assert_eq!((l.count, l.ids[12]), (1, 1));
    // Diagonal neighbours: one patch with 8, two with 4; different codes never join.
    let diag = [1, 0, 0, 1];
    assert_eq!(
        label_codes(&diag, 2, 2, Connectivity::Eight).unwrap().count,
        1
    );
    assert_eq!(
        label_codes(&diag, 2, 2, Connectivity::Four).unwrap().count,
        2
    );
    assert_eq!(
        label_codes(&[1, 2, 2, 1], 2, 2, Connectivity::Eight)
            .unwrap()
            .count,
        2
    );
    assert_eq!(
        label_codes(&[0, 255, 255, 0], 2, 2, Connectivity::Eight)
            .unwrap()
            .count,
        0
    );
}

#[test]
fn real_mask_matches_flood_fill() {
    let change = real_change();
    check(&change.data, change.width, change.height, "Taizhou change");
    let l = label(&change, Connectivity::Eight).unwrap();
    assert!(l.count > 50, "{} patches", l.count);
}

#[test]
fn bad_input_is_an_error() {
    assert!(label_codes(&[], 0, 3, Connectivity::Four).is_err());
    assert!(label_codes(&[1, 2, 3], 2, 2, Connectivity::Four).is_err());
}

/// The peer's Python, when present.
fn peer_python() -> Option<PathBuf> {
    let p = std::env::var_os("LANDWATCH_PEER_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".venvs/peer/bin/python"))
        })?;
    p.exists().then_some(p)
}

/// Per code: patch count and sorted sizes, as scripts/label_reference.py prints them.
fn summary(codes: &[u8], ids: &[u32], count: u32) -> serde_json::Value {
    let mut by_code: std::collections::BTreeMap<u8, Vec<u64>> = Default::default();
    let mut sizes = vec![0u64; count as usize + 1];
    let mut code_of = vec![0u8; count as usize + 1];
    for (&c, &id) in codes.iter().zip(ids) {
        sizes[id as usize] += 1;
        code_of[id as usize] = c;
    }
    for id in 1..=count as usize {
        by_code.entry(code_of[id]).or_default().push(sizes[id]);
    }
    let obj: serde_json::Map<String, serde_json::Value> = by_code
        .into_iter()
        .map(|(c, mut s)| {
            s.sort_unstable();
            (
                c.to_string(),
                serde_json::json!({"count": s.len(), "sizes": s}),
            )
        })
        .collect();
    serde_json::Value::Object(obj)
}

#[test]
fn matches_scipy_ndimage_label() {
    let Some(python) = peer_python() else {
        eprintln!("SKIPPED scipy comparison: no peer Python (set LANDWATCH_PEER_PYTHON)");
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/label_reference.py");
    let dir = std::env::temp_dir().join(format!("landwatch_label_ref_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(99);
    let random = raster(300, 200, random_codes(&mut rng, 300, 200, 0.45, 3), utm30());
    for (name, codes) in [("real", real_change()), ("random", random)] {
        let path = dir.join(format!("{name}.tif"));
        write_geotiff(&path, &codes).unwrap();
        for (conn, flag) in [(Connectivity::Four, "4"), (Connectivity::Eight, "8")] {
            let out = std::process::Command::new(&python)
                .arg(&script)
                .arg(&path)
                .arg(flag)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let l = label(&codes, conn).unwrap();
            let ours = summary(&codes.data, &l.ids, l.count);
            assert_eq!(ours, theirs, "{name} {conn:?}: differs from scipy");
            eprintln!("{name} {conn:?}: {} patches, same as scipy", l.count);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
