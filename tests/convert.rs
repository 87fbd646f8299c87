//! The opt-in conversions (features `ndarray` and `geo-types`) on the bundled Taizhou scene:
//! stacks and rasters through ndarray bit for bit, patch polygons and GeoJSON polygons
//! through geo-types with their areas and holes intact, and the README's examples.
#![cfg(all(feature = "ndarray", feature = "geo-types"))]

mod patch_support;

use geo_types::{LineString, MultiPolygon, Polygon as GeoPolygon};
use landwatch::convert::Sample;
use landwatch::io::{Feature, Polygon, ReadLimits, read_geojson, read_geotiff};
use landwatch::patch::{Connectivity, label_codes, polygonize};
use landwatch::{
    BandData, BandRole, BandStack, DataType, Engine, Error, GeoReference, GeoTransform, Raster,
    Sensor, SpectralIndex,
};
use ndarray::{Array2, Array3, s};
use patch_support::{data, real_change};

/// Taizhou t1 read as the README reads it: Landsat DN roles and radiometry.
fn taizhou_t1() -> BandStack {
    let sensor = Sensor::landsat_dn();
    let path = data("landsat_taizhou/Taizhou_t1.tif");
    let mut stack = read_geotiff(path, &ReadLimits::default())
        .unwrap()
        .into_stack(&sensor.bands)
        .unwrap();
    stack.set_radiometry(sensor.radiometry).unwrap();
    stack
}

/// The stack through `Array3<T>` and back, with its roles, nodata, radiometry and
/// georeference restored by the caller, as the conversion asks.
fn round_trip<T: Sample + PartialEq + std::fmt::Debug>(stack: &BandStack) -> BandStack {
    let array: Array3<T> = stack.to_array3().unwrap();
    let (w, h) = (stack.width(), stack.height());
    assert_eq!(array.dim(), (stack.bands().len(), h, w));
    for (b, band) in stack.bands().iter().enumerate() {
        let samples = T::samples(&band.data).unwrap();
        for (r, c) in [
            (0, 0),
            (0, w - 1),
            (h - 1, 0),
            (h - 1, w - 1),
            (h / 2, w / 3),
        ] {
            assert_eq!(array[[b, r, c]], samples[r * w + c], "band {b} ({r}, {c})");
        }
        let view = stack.band_view::<T>(b).unwrap();
        assert_eq!(view, array.slice(s![b, .., ..]));
    }
    let roles: Vec<BandRole> = stack.bands().iter().map(|b| b.role.unwrap()).collect();
    let mut back = BandStack::from_array3(array, &roles).unwrap();
    assert!(back.bands().iter().all(|b| b.nodata.is_none()));
    assert_eq!(back.georef, None);
    back.set_nodata(stack.bands()[0].nodata);
    back.set_radiometry(stack.radiometry).unwrap();
    back.georef = stack.georef;
    back
}

#[test]
fn the_real_stack_round_trips_through_array3_bit_for_bit() {
    let stack = taizhou_t1();
    assert!(stack.bands().iter().all(|b| b.role.is_some()));
    let back = match stack.bands()[0].data.data_type() {
        DataType::U8 => round_trip::<u8>(&stack),
        DataType::U16 => round_trip::<u16>(&stack),
        DataType::I16 => round_trip::<i16>(&stack),
        DataType::U32 => round_trip::<u32>(&stack),
        DataType::F32 => round_trip::<f32>(&stack),
        other => unimplemented!("{other:?} samples"),
    };
    assert_eq!(back, stack);
    // Asking for another type names the band; the f32 array takes any type, exactly.
    let other = if stack.bands()[0].data.data_type() == DataType::F32 {
        stack.to_array3::<u8>().map(|_| ())
    } else {
        stack.to_array3::<f32>().map(|_| ())
    };
    let e = other.unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { reason, .. } if reason.contains("band 0")),
        "{e}"
    );
    let wide = stack.to_array3_f32();
    let w = stack.width();
    for (b, band) in stack.bands().iter().enumerate() {
        for i in [0, 1, w, stack.len() / 2, stack.len() - 1] {
            let v = wide[[b, i / w, i % w]];
            assert_eq!(v.to_bits(), band.data.get_f32(i).to_bits());
        }
    }
}

#[test]
fn ndvi_as_array2_holds_the_raster_row_major() {
    let stack = taizhou_t1();
    let ndvi = Engine::cpu()
        .index(&stack, SpectralIndex::Ndvi)
        .unwrap()
        .output;
    let (w, h) = (ndvi.width, ndvi.height);
    let positions = [
        (0, 0),
        (0, w - 1),
        (h - 1, 0),
        (h - 1, w - 1),
        (h / 2, w / 2),
        (7, 11),
    ];
    let view = ndvi.view().unwrap();
    assert_eq!(view.dim(), (h, w));
    for &(r, c) in &positions {
        assert_eq!(view[[r, c]].to_bits(), ndvi.data[r * w + c].to_bits());
    }
    let array: Array2<f32> = ndvi.clone().try_into().unwrap();
    assert_eq!(array.dim(), (h, w));
    for &(r, c) in &positions {
        assert_eq!(array[[r, c]].to_bits(), ndvi.data[r * w + c].to_bits());
        // The same value computed from the bands themselves.
        let (red, nir) = (stack.band(BandRole::Red), stack.band(BandRole::Nir));
        let i = r * w + c;
        let (red, nir) = (red.unwrap().data.get_f32(i), nir.unwrap().data.get_f32(i));
        if red + nir > 0.0 && ndvi.data[i] != landwatch::INDEX_NODATA {
            let expected = (nir - red) / (nir + red);
            assert!((array[[r, c]] - expected).abs() < 1e-6, "({r}, {c})");
        }
    }
    let back = Raster::from_array(array, ndvi.nodata);
    assert_eq!(back.georef, None);
    assert_eq!(
        Raster {
            georef: ndvi.georef,
            ..back
        },
        ndvi
    );
}

#[test]
fn arrays_of_any_layout_become_row_major_rasters() {
    let a = Array2::from_shape_fn((4, 6), |(r, c)| (10 * r + c) as u16);
    let expect = |a: &Array2<u16>| -> Vec<u16> { a.iter().copied().collect() };
    for array in [
        a.clone(),
        a.t().to_owned(),
        a.clone().reversed_axes(),
        a.slice(s![1..3, 2..5]).to_owned(),
        a.clone().slice_move(s![1..3, ..]),
        a.clone().slice_move(s![.., 1..4]),
        a.clone().slice_move(s![..;-1, ..;2]),
    ] {
        let (h, w) = array.dim();
        let r = Raster::from_array(array.clone(), 0);
        assert_eq!((r.width, r.height), (w, h));
        assert_eq!(r.data, expect(&array));
        assert_eq!(r.view().unwrap(), array);
    }
    // Stacks too: a stack built from a transposed (column-major) array.
    let cube = Array3::from_shape_fn((3, 2, 5), |(b, r, c)| (100 * b + 10 * r + c) as f32);
    let flipped = cube.clone().reversed_axes().reversed_axes();
    let stack = BandStack::from_array3(flipped, &[BandRole::Red]).unwrap();
    assert_eq!(stack.to_array3::<f32>().unwrap(), cube);
    assert_eq!(stack.bands()[0].role, Some(BandRole::Red));
    assert_eq!(stack.bands()[1].role, None);
}

#[test]
fn shape_mismatches_are_typed_errors() {
    let mut bad = Raster {
        width: 3,
        height: 2,
        data: vec![0u8; 5],
        nodata: 0,
        georef: None,
    };
    assert!(matches!(
        bad.view(),
        Err(Error::BandLength {
            len: 5,
            expected: 6,
            ..
        })
    ));
    assert!(matches!(bad.view_mut(), Err(Error::BandLength { .. })));
    assert!(matches!(
        Array2::try_from(bad.clone()),
        Err(Error::BandLength { .. })
    ));
    bad.width = usize::MAX;
    assert!(matches!(bad.view(), Err(Error::TooLarge { .. })));
    let roles = [BandRole::Red, BandRole::Nir, BandRole::Blue];
    let two = Array3::<u16>::zeros((2, 3, 4));
    assert!(matches!(
        BandStack::from_array3(two.clone(), &roles),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        BandStack::from_array3(two.clone(), &[BandRole::Red, BandRole::Red]),
        Err(Error::DuplicateRole { .. })
    ));
    assert!(matches!(
        BandStack::from_array3(Array3::<u16>::zeros((0, 3, 4)), &[]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        BandStack::from_array3(Array3::<u16>::zeros((2, 0, 4)), &[]),
        Err(Error::EmptyRaster { .. })
    ));
    let stack = BandStack::from_array3(two, &roles[..2]).unwrap();
    assert!(matches!(
        stack.band_view::<u16>(2),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        stack.band_view::<i16>(1),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Array3::<u8>::try_from(&stack),
        Err(Error::InvalidParameter { .. })
    ));
    assert_eq!(stack.bands()[1].data, BandData::U16(vec![0; 12]));
}

/// Twice the signed area of a closed ring (shoelace, relative to the first vertex).
fn area2(ring: &LineString<f64>) -> f64 {
    let p: Vec<_> = ring.coords().collect();
    let o = p[0];
    p.windows(2)
        .map(|w| (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y))
        .sum()
}

/// Twice the signed area of a closed lattice ring, exactly.
fn area2_i64(ring: &LineString<i64>) -> i64 {
    ring.lines()
        .map(|l| l.start.x * l.end.y - l.end.x * l.start.y)
        .sum()
}

/// The area of a multipolygon whose exteriors are counter-clockwise and holes clockwise.
fn oriented_area(m: &MultiPolygon<f64>) -> f64 {
    m.0.iter()
        .map(|p| {
            let holes: f64 = p.interiors().iter().map(area2).sum();
            assert!(area2(p.exterior()) > 0.0, "exterior counter-clockwise");
            assert!(
                p.interiors().iter().all(|h| area2(h) < 0.0),
                "holes clockwise"
            );
            (area2(p.exterior()) + holes) / 2.0
        })
        .sum()
}

/// A window of `raster` with its georeference moved to the window's origin.
fn crop(raster: &Raster<u8>, col: usize, row: usize, w: usize, h: usize) -> Raster<u8> {
    let data = (row..row + h)
        .flat_map(|r| raster.data[r * raster.width + col..][..w].iter().copied())
        .collect();
    let georef = raster.georef.map(|g| {
        let (x, y) = g.transform.apply(col as f64, row as f64);
        let t = g.transform.0;
        GeoReference {
            transform: GeoTransform([x, t[1], t[2], y, t[4], t[5]]),
            ..g
        }
    });
    Raster {
        width: w,
        height: h,
        data,
        nodata: raster.nodata,
        georef,
    }
}

/// Checks every patch of `change`: the map-coordinate multipolygon has the area of its
/// pixels and the rings of `to_crs`, the lattice one is exact; returns the holes seen.
fn check_patches(change: &Raster<u8>, conn: Connectivity) -> usize {
    let georef = change.georef.expect("a georeferenced change raster");
    let t = georef.transform.0;
    let pixel = (t[1] * t[5] - t[2] * t[4]).abs();
    let labels = label_codes(&change.data, change.width, change.height, conn).unwrap();
    let polys = polygonize(&labels).unwrap();
    let mut counts = vec![0i64; labels.count as usize + 1];
    labels.ids.iter().for_each(|&id| counts[id as usize] += 1);
    let mut holes = 0;
    for p in &polys {
        let pixels = counts[p.id as usize];
        let map = p.to_multi_polygon(&georef.transform);
        let expected = pixels as f64 * pixel;
        let area = oriented_area(&map);
        assert!(
            ((area - expected) / expected).abs() < 1e-9,
            "patch {}",
            p.id
        );
        // The same rings as patches.geojson's native CRS layer.
        let native: Vec<Polygon> = p.to_crs(&georef.transform);
        assert_eq!(Feature::from(&map).polygons, native);
        let lattice = MultiPolygon::<i64>::from(p);
        let exact: i64 = lattice
            .0
            .iter()
            .map(|q| area2_i64(q.exterior()) + q.interiors().iter().map(area2_i64).sum::<i64>())
            .sum();
        assert_eq!(exact, 2 * pixels, "patch {}", p.id);
        assert_eq!(lattice.0.len(), p.polygons.len());
        for (g, l) in map.0.iter().zip(&p.polygons) {
            assert_eq!(g.interiors().len(), l.holes.len());
            holes += l.holes.len();
        }
    }
    holes
}

#[test]
fn patch_polygons_keep_their_area_and_holes_in_geo_types() {
    let change = real_change();
    let (w, h) = (change.width.min(300), change.height.min(300));
    let small = crop(
        &change,
        (change.width - w) / 2,
        (change.height - h) / 2,
        w,
        h,
    );
    for conn in [Connectivity::Four, Connectivity::Eight] {
        let holes = check_patches(&small, conn);
        assert!(holes > 0, "the real crop has patches with holes ({conn:?})");
    }
    // A ring with a hole, and a hole touching its shell at a corner.
    #[rustfmt::skip]
    let codes = vec![
        1, 1, 1, 1, 0, 0,
        1, 0, 1, 1, 0, 2,
        1, 1, 1, 2, 2, 2,
        0, 0, 0, 2, 0, 2,
        0, 0, 0, 2, 2, 0,
    ];
    let made = Raster {
        width: 6,
        height: 5,
        data: codes,
        nodata: 255,
        georef: change.georef,
    };
    assert_eq!(check_patches(&made, Connectivity::Eight), 2);
}

#[test]
fn geojson_polygons_round_trip_through_geo_types() {
    let layer = read_geojson(data("landsat_taizhou/illustrative/counties.geojson")).unwrap();
    assert!(!layer.features.is_empty());
    for f in &layer.features {
        let m = MultiPolygon::from(f);
        assert_eq!(m.0.len(), f.polygons.len());
        let back = Feature::from(m);
        assert!(back.properties.is_empty());
        for (a, b) in f.polygons.iter().zip(&back.polygons) {
            let closed = |r: &Vec<[f64; 2]>| {
                let mut r = r.clone();
                if r.first() != r.last() {
                    r.push(r[0]);
                }
                r
            };
            assert_eq!(closed(&a.exterior), b.exterior);
            assert_eq!(a.holes.iter().map(closed).collect::<Vec<_>>(), b.holes);
            assert_eq!(Polygon::from(GeoPolygon::from(b)), *b);
        }
    }
    // An open ring is closed by geo-types.
    let open = Polygon {
        exterior: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]],
        holes: vec![],
    };
    assert_eq!(GeoPolygon::from(&open).exterior().0.len(), 4);
}

/// The README's examples are the convert module's doctests, line for line.
#[test]
fn the_readme_examples_are_the_tested_ones() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let module =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/convert/mod.rs"));
    let (readme, module) = (readme.unwrap(), module.unwrap());
    let doc: String = module
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .filter(|l| !(l.starts_with("# ") || *l == "#"))
        .map(|l| format!("{l}\n"))
        .collect();
    let blocks: Vec<&str> = doc.split("```").skip(1).step_by(2).collect();
    assert_eq!(blocks.len(), 2);
    for b in blocks {
        assert!(readme.contains(&format!("```{b}```")), "README lacks:\n{b}");
    }
}
