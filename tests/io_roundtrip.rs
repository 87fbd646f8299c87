//! Round trips: every GeoTIFF under `data/` is read (checked against what `gdalinfo` and
//! `gdallocationinfo` report for it), written by landwatch and read back identically; small
//! synthetic files cover every sample type and layout; windowed reads equal cuts of full reads.

use landwatch::io::{
    BigTiff, GeoTiff, GeoTiffStripWriter, ReadLimits, WriteOptions, read_geotiff, read_info,
    read_window, write_geotiff, write_geotiff_with, write_image, write_stack,
};
use landwatch::{BandData, BandRole, DataType, GeoReference, GeoTransform, Raster};
use std::path::{Path, PathBuf};
use tiff::encoder::TiffEncoder;
use tiff::tags::Tag;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("io_roundtrip");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn lim() -> ReadLimits {
    ReadLimits::default()
}

/// What GDAL 3.6 reports for a bundled file.
struct Expect {
    file: &'static str,
    size: (usize, usize),
    bands: usize,
    data_type: DataType,
    transform: Option<[f64; 6]>,
    epsg: Option<u32>,
    /// (col, row, values of every band) from `gdallocationinfo -valonly`.
    pixels: &'static [(usize, usize, &'static [f64])],
}

const TAIZHOU_GT: [f64; 6] = [203325.0, 30.0, 0.0, 3604935.0, 0.0, -30.0];
const ARID10_GT: [f64; 6] = [600000.0, 10.0, 0.0, 4700020.0, 0.0, -10.0];

fn expectations() -> Vec<Expect> {
    vec![
        Expect {
            file: "landsat_taizhou/Taizhou_t1.tif",
            size: (400, 400),
            bands: 6,
            data_type: DataType::U8,
            transform: Some(TAIZHOU_GT),
            epsg: Some(32651),
            pixels: &[
                (0, 0, &[96.0, 75.0, 68.0, 68.0, 75.0, 52.0]),
                (123, 77, &[96.0, 74.0, 68.0, 66.0, 77.0, 53.0]),
                (299, 199, &[107.0, 86.0, 90.0, 57.0, 87.0, 72.0]),
            ],
        },
        Expect {
            file: "landsat_taizhou/Taizhou_t2.tif",
            size: (400, 400),
            bands: 6,
            data_type: DataType::U8,
            transform: Some(TAIZHOU_GT),
            epsg: Some(32651),
            pixels: &[],
        },
        Expect {
            file: "landsat_taizhou/Taizhou_reference_0unlabelled_1unchanged_2changed.tif",
            size: (400, 400),
            bands: 1,
            data_type: DataType::U8,
            transform: Some(TAIZHOU_GT),
            epsg: Some(32651),
            pixels: &[(0, 0, &[0.0])],
        },
        Expect {
            file: "rgbn_5m/rgbn.tif",
            size: (515, 403),
            bands: 4,
            data_type: DataType::U8,
            transform: Some([792988.0, 5.0, 0.0, 2050382.0, 0.0, -5.0]),
            epsg: Some(32618),
            pixels: &[
                (0, 0, &[61.0, 44.0, 44.0, 24.0]),
                (123, 77, &[74.0, 65.0, 68.0, 49.0]),
                (299, 199, &[142.0, 147.0, 146.0, 110.0]),
            ],
        },
        Expect {
            file: "sentinel2_arid/s2_10m_B02_B03_B04_B08.tif",
            size: (300, 200),
            bands: 4,
            data_type: DataType::U16,
            transform: Some(ARID10_GT),
            epsg: Some(32719),
            pixels: &[
                (0, 0, &[1271.0, 1154.0, 1382.0, 1637.0]),
                (123, 77, &[1304.0, 1180.0, 1323.0, 1616.0]),
                (299, 199, &[1484.0, 1429.0, 1724.0, 2039.0]),
            ],
        },
        Expect {
            file: "sentinel2_arid/s2_10m_6band_B02_B03_B04_B08_B11nn_B12nn.tif",
            size: (300, 200),
            bands: 6,
            data_type: DataType::U16,
            transform: Some(ARID10_GT),
            epsg: Some(32719),
            pixels: &[],
        },
        Expect {
            file: "sentinel2_arid/s2_20m_B11_B12.tif",
            size: (300, 200),
            bands: 2,
            data_type: DataType::U16,
            transform: Some([600000.0, 20.0, 0.0, 4700020.0, 0.0, -20.0]),
            epsg: Some(32719),
            pixels: &[],
        },
        Expect {
            file: "sentinel2_spyndex/s2_10m_B02_B03_B04_B08_nogeo.tif",
            size: (300, 300),
            bands: 4,
            data_type: DataType::U16,
            transform: None,
            epsg: None,
            pixels: &[
                (0, 0, &[299.0, 469.0, 319.0, 2164.0]),
                (123, 77, &[670.0, 871.0, 1112.0, 1748.0]),
                (299, 199, &[639.0, 888.0, 1200.0, 2049.0]),
            ],
        },
        Expect {
            file: "oscd_beihai_bands/T49QCD_20161209T031122_B04.tif",
            size: (772, 902),
            bands: 1,
            data_type: DataType::U16,
            transform: Some([
                109.4839096069336,
                9.339090456e-05,
                0.0,
                21.615940981653758,
                0.0,
                -9.34452151559e-05,
            ]),
            epsg: Some(4326),
            pixels: &[(0, 0, &[632.0]), (123, 77, &[870.0]), (299, 199, &[723.0])],
        },
        Expect {
            file: "oscd_beihai_bands/T49QCD_20161209T031122_B11.tif",
            size: (386, 451),
            bands: 1,
            data_type: DataType::U16,
            transform: Some([
                109.4839096069336,
                0.00018678180912,
                0.0,
                21.615940981653758,
                0.0,
                -0.0001868904303119,
            ]),
            epsg: Some(4326),
            pixels: &[
                (0, 0, &[1340.0]),
                (123, 77, &[3163.0]),
                (299, 199, &[3389.0]),
                (61, 38, &[2206.0]),
            ],
        },
    ]
}

fn assert_transform_close(got: &GeoTransform, want: &[f64; 6], what: &str) {
    for (g, w) in got.0.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "{what}: {:?} vs {want:?}",
            got.0
        );
    }
}

#[test]
fn bundled_files_match_gdal_and_round_trip() {
    for e in expectations() {
        let img =
            read_geotiff(data(e.file), &lim()).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!((img.width, img.height), e.size, "{}", e.file);
        assert_eq!(img.bands.len(), e.bands, "{}", e.file);
        assert_eq!(img.data_type(), Some(e.data_type), "{}", e.file);
        assert_eq!(img.nodata, None, "{}", e.file);
        match (img.georef, e.transform) {
            (Some(g), Some(t)) => {
                assert_transform_close(&g.transform, &t, e.file);
                assert_eq!(g.epsg_code(), e.epsg, "{}", e.file);
            }
            (None, None) => {}
            (g, t) => panic!("{}: georef {g:?}, expected transform {t:?}", e.file),
        }
        for &(c, r, values) in e.pixels {
            for (b, &v) in values.iter().enumerate() {
                assert_eq!(
                    img.bands[b].get_f32(r * img.width + c) as f64,
                    v,
                    "{} ({c},{r}) band {b}",
                    e.file
                );
            }
        }
        let out = scratch(&e.file.replace('/', "_"));
        write_image(&out, &img, &WriteOptions::default()).unwrap();
        let back = read_geotiff(&out, &lim()).unwrap();
        assert_eq!(back, img, "{} did not round trip", e.file);
        let info = read_info(&out).unwrap();
        assert!(info.tiled && !info.planar);
    }
}

#[test]
fn reference_map_has_gdal_statistics() {
    // gdalinfo -stats: min 0, max 2, mean 0.16010625.
    let img = read_geotiff(
        data("landsat_taizhou/Taizhou_reference_0unlabelled_1unchanged_2changed.tif"),
        &lim(),
    )
    .unwrap();
    let BandData::U8(v) = &img.bands[0] else {
        panic!("not u8")
    };
    let sum: u64 = v.iter().map(|&x| u64::from(x)).sum();
    assert_eq!(sum as f64 / v.len() as f64, 0.16010625);
    assert_eq!(v.iter().max(), Some(&2));
}

#[test]
fn into_stack_assigns_roles_nodata_and_georef() {
    let mut img = read_geotiff(data("sentinel2_arid/s2_10m_B02_B03_B04_B08.tif"), &lim()).unwrap();
    img.nodata = Some(0.0);
    let georef = img.georef;
    let roles = [BandRole::Blue, BandRole::Green, BandRole::Red];
    let stack = img.clone().into_stack(&roles).unwrap();
    assert_eq!(stack.georef, georef);
    assert_eq!(stack.bands().len(), 4);
    assert_eq!(stack.bands()[2].role, Some(BandRole::Red));
    assert_eq!(stack.bands()[3].role, None);
    assert!(stack.bands().iter().all(|b| b.nodata == Some(0.0)));
    assert_eq!(stack.band(BandRole::Red).unwrap().data.get_f32(0), 1382.0);
    let too_many = [
        BandRole::Blue,
        BandRole::Green,
        BandRole::Red,
        BandRole::Nir,
        BandRole::Swir1,
    ];
    assert!(img.clone().into_stack(&too_many).is_err());
    // A stack writes back to the same file content.
    let out = scratch("stack.tif");
    write_stack(&out, &stack, &WriteOptions::default()).unwrap();
    assert_eq!(read_geotiff(&out, &lim()).unwrap(), img);
}

/// Deterministic pseudo-random samples.
fn noise(n: usize, seed: u64) -> impl Iterator<Item = u64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n).map(move |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 11
    })
}

fn synthetic(data_type: DataType, bands: usize, w: usize, h: usize) -> Vec<BandData> {
    (0..bands)
        .map(|b| {
            let n = noise(w * h, b as u64 + 7);
            match data_type {
                DataType::U8 => BandData::U8(n.map(|v| v as u8).collect()),
                DataType::U16 => BandData::U16(n.map(|v| v as u16).collect()),
                DataType::I16 => BandData::I16(n.map(|v| v as i16).collect()),
                DataType::U32 => BandData::U32(n.map(|v| v as u32).collect()),
                DataType::F32 => BandData::F32(
                    n.map(|v| (v as u32 as f32 - 2e9) / 7.0)
                        .enumerate()
                        .map(|(i, v)| if i == 3 { f32::NAN } else { v })
                        .collect(),
                ),
                other => unimplemented!("synthetic samples of {other:?}"),
            }
        })
        .collect()
}

fn assert_same_bits(a: &GeoTiff, b: &GeoTiff) {
    assert_eq!((a.width, a.height, a.georef), (b.width, b.height, b.georef));
    assert_eq!(a.nodata.map(f64::to_bits), b.nodata.map(f64::to_bits));
    assert_eq!(a.bands.len(), b.bands.len());
    for (x, y) in a.bands.iter().zip(&b.bands) {
        assert_eq!(x.data_type(), y.data_type());
        assert_eq!(x.as_bytes(), y.as_bytes());
    }
}

const ALL_TYPES: [DataType; 5] = [
    DataType::U8,
    DataType::U16,
    DataType::I16,
    DataType::U32,
    DataType::F32,
];

#[test]
fn every_type_round_trips_through_the_writer() {
    let georef = Some(GeoReference {
        transform: GeoTransform([500000.0, 10.0, 0.0, 4200000.0, 0.0, -10.0]),
        crs: Some(landwatch::geo::Crs::epsg(32633)),
    });
    for (i, t) in ALL_TYPES.into_iter().enumerate() {
        for (bands, compress) in [(1, true), (3, true), (2, false)] {
            let img = GeoTiff {
                width: 300,
                height: 270,
                bands: synthetic(t, bands, 300, 270),
                georef,
                nodata: Some(if t == DataType::F32 { f64::NAN } else { 3.0 }),
            };
            let out = scratch(&format!("type{i}_{bands}_{compress}.tif"));
            let opts = WriteOptions::default().with_compress(compress);
            write_image(&out, &img, &opts).unwrap();
            let back = read_geotiff(&out, &lim()).unwrap();
            assert_same_bits(&img, &back);
        }
    }
}

#[test]
fn raster_writer_keeps_nodata_and_rotated_transforms() {
    let r = Raster {
        width: 40,
        height: 30,
        data: (0..1200).map(|i| i as f32 * 0.25 - 17.0).collect(),
        nodata: -9999.0f32,
        georef: Some(GeoReference {
            transform: GeoTransform([1000.0, 2.0, 0.5, 5000.0, 0.25, -2.0]),
            crs: Some(landwatch::geo::Crs::epsg(3035)),
        }),
    };
    let out = scratch("raster_f32.tif");
    write_geotiff(&out, &r).unwrap();
    let back = read_geotiff(&out, &lim()).unwrap();
    assert_eq!(back.nodata, Some(-9999.0));
    assert_eq!(back.georef, r.georef);
    assert_eq!(back.bands, vec![BandData::F32(r.data.clone())]);

    let classes = Raster {
        width: 17,
        height: 5,
        data: (0..85u32).map(|i| i * 50_000_000).collect(),
        nodata: u32::MAX,
        georef: Some(GeoReference {
            transform: GeoTransform([10.0, 0.001, 0.0, 50.0, 0.0, -0.001]),
            crs: Some(landwatch::geo::Crs::epsg(4326)),
        }),
    };
    let out = scratch("raster_u32.tif");
    write_geotiff_with(&out, &classes, &WriteOptions::default().with_tile_size(16)).unwrap();
    let back = read_geotiff(&out, &lim()).unwrap();
    assert_eq!(back.nodata, Some(u32::MAX as f64));
    assert_eq!(back.georef, classes.georef);
    assert_eq!(back.bands, vec![BandData::U32(classes.data.clone())]);
}

#[test]
fn strip_writer_equals_the_whole_raster_writer_and_leaves_nothing_when_dropped() {
    let (w, h) = (300, 275);
    let r = Raster {
        width: w,
        height: h,
        data: (0..w * h).map(|i| (i * 7 % 251) as u8).collect(),
        nodata: 255u8,
        georef: Some(GeoReference {
            transform: GeoTransform([500_000.0, 10.0, 0.0, 3_500_000.0, 0.0, -10.0]),
            crs: Some(landwatch::geo::Crs::epsg(32650)),
        }),
    };
    let whole = scratch("strips_whole.tif");
    write_geotiff(&whole, &r).unwrap();
    let streamed = scratch("strips_streamed.tif");
    let mut writer = GeoTiffStripWriter::create(
        &streamed,
        w,
        h,
        r.georef.as_ref(),
        Some(255u8),
        &WriteOptions::default(),
    )
    .unwrap();
    // Strips that straddle tile rows, including a one-row strip.
    let mut row = 0;
    for rows in [37, 1, 200, 37] {
        writer
            .write_rows(&r.data[row * w..(row + rows) * w])
            .unwrap();
        row += rows;
    }
    assert!(
        writer.write_rows(&r.data[..w]).is_err(),
        "rows past the height"
    );
    writer.finish().unwrap();
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&streamed).unwrap(),
        "byte-identical files"
    );

    let dropped = scratch("strips_dropped.tif");
    let _ = std::fs::remove_file(&dropped);
    let mut writer =
        GeoTiffStripWriter::create(&dropped, w, h, None, Some(255u8), &WriteOptions::default())
            .unwrap();
    writer.write_rows(&r.data[..10 * w]).unwrap();
    drop(writer);
    assert!(!dropped.exists());
    let leftovers = std::fs::read_dir(dropped.parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("strips_dropped")
        })
        .count();
    assert_eq!(leftovers, 0, "no temporary file is left behind");
}

#[test]
fn bigtiff_round_trips() {
    let img = GeoTiff {
        width: 70,
        height: 90,
        bands: synthetic(DataType::U16, 2, 70, 90),
        georef: Some(GeoReference {
            transform: GeoTransform([0.0, 1.0, 0.0, 0.0, 0.0, -1.0]),
            crs: None,
        }),
        nodata: None,
    };
    let out = scratch("big.tif");
    write_image(
        &out,
        &img,
        &WriteOptions::default()
            .with_bigtiff(BigTiff::Always)
            .with_tile_size(32),
    )
    .unwrap();
    let head = std::fs::read(&out).unwrap();
    assert_eq!(&head[..4], b"II\x2b\x00", "not a BigTIFF header");
    assert_same_bits(&img, &read_geotiff(&out, &lim()).unwrap());
}

/// A hand-laid TIFF (uncompressed) in any layout the tiff crate's image encoder lacks:
/// planar or chunky, stripped (`rows` per strip) or tiled (`tile` × `tile`).
fn write_raw_tiff(path: &Path, img: &GeoTiff, planar: bool, tile: Option<usize>, rows: usize) {
    let (w, h, spp) = (img.width, img.height, img.bands.len());
    let size = img.bands[0].data_type().size();
    let (cw, ch) = match tile {
        Some(t) => (t, t),
        None => (w, rows),
    };
    let (across, down) = (w.div_ceil(cw), h.div_ceil(ch));
    let planes = if planar { spp } else { 1 };
    let per_chunk = if planar { 1 } else { spp };
    let mut chunks = Vec::new();
    for p in 0..planes {
        for cy in 0..down {
            for cx in 0..across {
                // Tiles are padded to full size; strips are not (last strip is short).
                let rows_here = if tile.is_some() {
                    ch
                } else {
                    ch.min(h - cy * ch)
                };
                let mut bytes = Vec::new();
                for y in cy * ch..cy * ch + rows_here {
                    for x in cx * cw..cx * cw + cw {
                        for s in 0..per_chunk {
                            let band = if planar { p } else { s };
                            if x < w && y < h {
                                let i = (y * w + x) * size;
                                bytes.extend_from_slice(&img.bands[band].as_bytes()[i..i + size]);
                            } else {
                                bytes.extend(std::iter::repeat_n(0u8, size));
                            }
                        }
                    }
                }
                chunks.push(bytes);
            }
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut enc = TiffEncoder::new(std::io::BufWriter::new(file)).unwrap();
    let mut dir = enc.image_directory().unwrap();
    let mut offsets = Vec::new();
    let mut counts = Vec::new();
    for c in &chunks {
        offsets.push(dir.write_data(c.as_slice()).unwrap() as u32);
        counts.push(c.len() as u32);
    }
    let (bits, format) = match img.bands[0].data_type() {
        DataType::I16 => (16u16, 2u16),
        DataType::F32 => (32, 3),
        t => (t.size() as u16 * 8, 1),
    };
    dir.write_tag(Tag::ImageWidth, w as u32).unwrap();
    dir.write_tag(Tag::ImageLength, h as u32).unwrap();
    dir.write_tag(Tag::BitsPerSample, &vec![bits; spp][..])
        .unwrap();
    dir.write_tag(Tag::Compression, 1u16).unwrap();
    dir.write_tag(Tag::PhotometricInterpretation, 1u16).unwrap();
    dir.write_tag(Tag::SamplesPerPixel, spp as u16).unwrap();
    dir.write_tag(Tag::PlanarConfiguration, if planar { 2u16 } else { 1u16 })
        .unwrap();
    if let Some(t) = tile {
        dir.write_tag(Tag::TileWidth, t as u32).unwrap();
        dir.write_tag(Tag::TileLength, t as u32).unwrap();
        dir.write_tag(Tag::TileOffsets, offsets.as_slice()).unwrap();
        dir.write_tag(Tag::TileByteCounts, counts.as_slice())
            .unwrap();
    } else {
        dir.write_tag(Tag::RowsPerStrip, rows as u32).unwrap();
        dir.write_tag(Tag::StripOffsets, offsets.as_slice())
            .unwrap();
        dir.write_tag(Tag::StripByteCounts, counts.as_slice())
            .unwrap();
    }
    if spp > 1 {
        dir.write_tag(Tag::ExtraSamples, &vec![0u16; spp - 1][..])
            .unwrap();
    }
    dir.write_tag(Tag::SampleFormat, &vec![format; spp][..])
        .unwrap();
    // PixelIsPoint georeferencing with a tie point at the centre of pixel (0, 0).
    dir.write_tag(Tag::ModelPixelScaleTag, &[2.0f64, 3.0, 0.0][..])
        .unwrap();
    dir.write_tag(
        Tag::ModelTiepointTag,
        &[0.0f64, 0.0, 0.0, 101.0, 198.5, 0.0][..],
    )
    .unwrap();
    dir.write_tag(
        Tag::GeoKeyDirectoryTag,
        &[
            1u16, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 2, 3072, 0, 1, 32632,
        ][..],
    )
    .unwrap();
    dir.write_tag(Tag::GdalNodata, "-1e+20").unwrap();
    dir.finish().unwrap();
}

#[test]
fn planar_chunky_stripped_tiled_layouts_read_identically() {
    let (w, h) = (45, 37);
    for t in ALL_TYPES {
        let img = GeoTiff {
            width: w,
            height: h,
            bands: synthetic(t, 3, w, h),
            // What PixelIsPoint at (101, 198.5) with 2 × 3 pixels means for pixel corners.
            georef: Some(GeoReference {
                transform: GeoTransform([100.0, 2.0, 0.0, 200.0, 0.0, -3.0]),
                crs: Some(landwatch::geo::Crs::epsg(32632)),
            }),
            nodata: Some(-1e20),
        };
        for planar in [false, true] {
            for (tile, rows) in [
                (None, 5),
                (None, 37),
                (None, 100),
                (Some(16), 0),
                (Some(32), 0),
            ] {
                let out = scratch(&format!("raw_{t:?}_{planar}_{tile:?}_{rows}.tif"));
                write_raw_tiff(&out, &img, planar, tile, rows);
                let back = read_geotiff(&out, &lim())
                    .unwrap_or_else(|e| panic!("{t:?} planar={planar} tile={tile:?}: {e}"));
                assert_same_bits(&img, &back);
                let info = read_info(&out).unwrap();
                assert_eq!((info.planar, info.tiled), (planar, tile.is_some()));
                // Windows across chunk borders.
                for (c, r, ww, hh) in [(0, 0, w, h), (7, 3, 20, 30), (44, 36, 1, 1), (15, 16, 2, 2)]
                {
                    let win = read_window(&out, c, r, ww, hh, &lim()).unwrap();
                    assert_same_bits(&cut(&img, c, r, ww, hh), &win);
                }
            }
        }
    }
}

#[test]
fn lzw_predictor_strips_from_the_tiff_encoder() {
    use tiff::encoder::{Compression, Predictor, colortype};
    let (w, h) = (61, 43);
    let samples: Vec<u16> = noise(w * h, 3).map(|v| (v % 5000) as u16).collect();
    let out = scratch("lzw_gray16.tif");
    let file = std::fs::File::create(&out).unwrap();
    let mut enc = TiffEncoder::new(file)
        .unwrap()
        .with_compression(Compression::Lzw)
        .with_predictor(Predictor::Horizontal);
    enc.write_image::<colortype::Gray16>(w as u32, h as u32, &samples)
        .unwrap();
    drop(enc);
    let img = read_geotiff(&out, &lim()).unwrap();
    assert_eq!(img.georef, None);
    assert_eq!(img.bands, vec![BandData::U16(samples.clone())]);
    let win = read_window(&out, 10, 20, 30, 11, &lim()).unwrap();
    let BandData::U16(v) = &win.bands[0] else {
        panic!()
    };
    assert_eq!(v[0], samples[20 * w + 10]);
    assert_eq!(v[10 * 30 + 29], samples[30 * w + 39]);
}

/// The window `(c, r, w, h)` of a full image, with the origin moved like GDAL does.
fn cut(img: &GeoTiff, c: usize, r: usize, w: usize, h: usize) -> GeoTiff {
    fn rows<T: Copy>(v: &[T], full_w: usize, c: usize, r: usize, w: usize, h: usize) -> Vec<T> {
        (r..r + h)
            .flat_map(|y| v[y * full_w + c..y * full_w + c + w].to_vec())
            .collect()
    }
    let bands = img
        .bands
        .iter()
        .map(|b| match b {
            BandData::U8(v) => BandData::U8(rows(v, img.width, c, r, w, h)),
            BandData::U16(v) => BandData::U16(rows(v, img.width, c, r, w, h)),
            BandData::I16(v) => BandData::I16(rows(v, img.width, c, r, w, h)),
            BandData::U32(v) => BandData::U32(rows(v, img.width, c, r, w, h)),
            BandData::F32(v) => BandData::F32(rows(v, img.width, c, r, w, h)),
            other => unimplemented!("cropping {:?} samples", other.data_type()),
        })
        .collect();
    let georef = img.georef.map(|g| {
        let (x, y) = g.transform.apply(c as f64, r as f64);
        let mut t = g.transform.0;
        t[0] = x;
        t[3] = y;
        GeoReference {
            transform: GeoTransform(t),
            crs: g.crs,
        }
    });
    GeoTiff {
        width: w,
        height: h,
        bands,
        georef,
        nodata: img.nodata,
    }
}

#[test]
fn windows_equal_cuts_of_full_reads_on_real_files() {
    // rgbn: tiled 64 × 64 LZW; Taizhou: 3-row deflate + predictor strips; B04: 5-row strips.
    for file in [
        "rgbn_5m/rgbn.tif",
        "landsat_taizhou/Taizhou_t1.tif",
        "oscd_beihai_bands/T49QCD_20161209T031122_B04.tif",
    ] {
        let full = read_geotiff(data(file), &lim()).unwrap();
        for (c, r, w, h) in [
            (0, 0, 1, 1),
            (63, 63, 2, 2),
            (100, 50, 150, 200),
            (0, 0, full.width, full.height),
        ] {
            let win = read_window(data(file), c, r, w, h, &lim()).unwrap();
            assert_same_bits(&cut(&full, c, r, w, h), &win);
        }
        let (w, h) = (full.width, full.height);
        let last = read_window(data(file), w - 1, h - 1, 1, 1, &lim()).unwrap();
        assert_same_bits(&cut(&full, w - 1, h - 1, 1, 1), &last);
        assert!(read_window(data(file), w - 1, 0, 2, 1, &lim()).is_err());
        assert!(read_window(data(file), 0, 0, 0, 1, &lim()).is_err());
    }
    // The window's origin moves by whole pixels: (100, 50) of rgbn is 500 m east, 250 m south.
    let win = read_window(data("rgbn_5m/rgbn.tif"), 100, 50, 10, 10, &lim()).unwrap();
    assert_eq!(
        win.georef.unwrap().transform.0,
        [793488.0, 5.0, 0.0, 2050132.0, 0.0, -5.0]
    );
}

#[test]
fn window_limits_apply_to_the_window_only() {
    let small = ReadLimits::default()
        .with_max_pixels(100 * 100)
        .with_max_bytes(1 << 20);
    assert!(matches!(
        read_geotiff(data("rgbn_5m/rgbn.tif"), &small),
        Err(landwatch::Error::TooLarge { .. })
    ));
    let win = read_window(data("rgbn_5m/rgbn.tif"), 10, 10, 100, 100, &small).unwrap();
    assert_eq!(win.bands.len(), 4);
}
