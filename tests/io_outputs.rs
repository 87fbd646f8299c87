//! PNG quicklooks, class maps, CSV and GeoJSON outputs: their content as read back.

use landwatch::io::geojson::feature_collection;
use landwatch::io::{
    Feature, Polygon, ReadLimits, class_map_png, false_colour_png, read_geotiff, true_colour_png,
    write_csv, write_geojson,
};
use landwatch::{BandRole, Raster};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("io_outputs");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn decode(path: &Path) -> image::RgbaImage {
    image::open(path).unwrap().to_rgba8()
}

#[test]
fn quicklooks_stretch_each_band_and_hide_nodata() {
    let mut img = read_geotiff(
        data("sentinel2_arid/s2_10m_B02_B03_B04_B08.tif"),
        &ReadLimits::default(),
    )
    .unwrap();
    // Mark pixel (0, 0) nodata in band 1 (green).
    let landwatch::BandData::U16(g) = &mut img.bands[1] else {
        panic!()
    };
    let nodata_value = 0u16;
    g[0] = nodata_value;
    img.nodata = Some(0.0);
    let stack = img
        .into_stack(&[
            BandRole::Blue,
            BandRole::Green,
            BandRole::Red,
            BandRole::Nir,
        ])
        .unwrap();
    let tc = scratch("true.png");
    true_colour_png(&tc, &stack).unwrap();
    let png = decode(&tc);
    assert_eq!(png.dimensions(), (300, 200));
    assert_eq!(png.get_pixel(0, 0).0, [0, 0, 0, 0]);
    for channel in 0..3 {
        // After a 2–98 % stretch about 2 % of pixels saturate at each end.
        let values: Vec<u8> = png.pixels().skip(1).map(|p| p.0[channel]).collect();
        let zeros = values.iter().filter(|&&v| v == 0).count() as f64 / values.len() as f64;
        let full = values.iter().filter(|&&v| v == 255).count() as f64 / values.len() as f64;
        assert!((0.005..0.05).contains(&zeros), "channel {channel}: {zeros}");
        assert!((0.005..0.05).contains(&full), "channel {channel}: {full}");
        assert!(png.pixels().skip(1).all(|p| p.0[3] == 255));
    }
    // Pixel (1, 0) is a real sample: red channel of true colour is the red band stretched.
    let fc = scratch("false.png");
    false_colour_png(&fc, &stack).unwrap();
    let f = decode(&fc);
    assert_eq!(
        f.get_pixel(5, 5).0[1],
        png.get_pixel(5, 5).0[0],
        "red band moves to green"
    );
    // A stack without NIR cannot make a false-colour image.
    let rgb = read_geotiff(
        data("sentinel2_arid/s2_10m_B02_B03_B04_B08.tif"),
        &ReadLimits::default(),
    )
    .unwrap()
    .into_stack(&[BandRole::Blue, BandRole::Green, BandRole::Red])
    .unwrap();
    let err = false_colour_png(scratch("nonir.png"), &rgb)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nir"), "{err}");
}

#[test]
fn class_map_uses_the_palette() {
    let reference = read_geotiff(
        data("landsat_taizhou/Taizhou_reference_0unlabelled_1unchanged_2changed.tif"),
        &ReadLimits::default(),
    )
    .unwrap();
    let landwatch::BandData::U8(classes) = reference.bands[0].clone() else {
        panic!()
    };
    let raster = Raster {
        width: 400,
        height: 400,
        data: classes.clone(),
        nodata: 0u8,
        georef: reference.georef,
    };
    let palette = [(1u8, [200, 200, 200, 255]), (2u8, [255, 0, 0, 255])];
    let path = scratch("classes.png");
    class_map_png(&path, &raster, &palette).unwrap();
    let png = decode(&path);
    for (i, p) in png.pixels().enumerate() {
        let want = match classes[i] {
            1 => [200, 200, 200, 255],
            2 => [255, 0, 0, 255],
            _ => [0, 0, 0, 0],
        };
        assert_eq!(p.0, want, "pixel {i}");
    }
    assert!(classes.contains(&2) && classes.contains(&1));
}

#[test]
fn csv_rows_are_quoted_and_checked() {
    let path = scratch("table.csv");
    write_csv(
        &path,
        &["index", "note"],
        [
            vec!["NDVI".to_string(), "plain".into()],
            vec!["BSI".into(), "has, comma and \"quotes\"".into()],
        ],
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "index,note\nNDVI,plain\nBSI,\"has, comma and \"\"quotes\"\"\"\n"
    );
    // A short row fails and leaves the previous file intact.
    let err = write_csv(&path, &["a", "b"], [["only one"]]);
    assert!(err.is_err());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("index,note")
    );
}

#[test]
fn geojson_feature_collection() {
    let square = Polygon {
        exterior: vec![[120.0, 32.0], [120.1, 32.0], [120.1, 32.1], [120.0, 32.1]],
        holes: vec![],
    };
    let mut props = serde_json::Map::new();
    props.insert("area_m2".into(), serde_json::json!(1234.5));
    props.insert("class".into(), serde_json::json!("changed"));
    let features = vec![
        Feature {
            polygons: vec![square.clone()],
            properties: props,
        },
        Feature {
            polygons: vec![square.clone(), square],
            properties: Default::default(),
        },
        Feature::default(),
    ];
    let path = scratch("changes.geojson");
    write_geojson(&path, &features).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v, feature_collection(&features).unwrap());
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(v["features"][0]["geometry"]["type"], "Polygon");
    assert_eq!(
        v["features"][0]["geometry"]["coordinates"][0]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(v["features"][0]["properties"]["area_m2"], 1234.5);
    assert_eq!(v["features"][1]["geometry"]["type"], "MultiPolygon");
    assert!(v["features"][2]["geometry"].is_null());
}
