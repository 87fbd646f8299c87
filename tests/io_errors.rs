//! Bad input gives typed errors, never a panic: truncated and bit-flipped files, files that
//! are not TIFFs, absurd declared sizes, and rasters on different grids.

use landwatch::Error;
use landwatch::io::{
    Grid, ReadLimits, check_same_grid, read_geotiff, read_geotiff_bytes, read_info, read_window,
};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("io_errors");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_file_cut_in_half_is_an_invalid_tiff() {
    let bytes = std::fs::read(data("landsat_taizhou/Taizhou_t1.tif")).unwrap();
    let half = scratch("taizhou_half.tif");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let err = read_geotiff(&half, &ReadLimits::default()).unwrap_err();
    let Error::InvalidTiff { path, reason } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, &half);
    assert!(reason.contains("truncated"), "{reason}");
    // An uncompressed file cut after its header: the top rows still read, the bottom not.
    let bytes = std::fs::read(data("oscd_beihai_bands/T49QCD_20161209T031122_B04.tif")).unwrap();
    let half = scratch("b04_half.tif");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let info = read_info(&half).unwrap();
    assert_eq!((info.width, info.height), (772, 902));
    assert!(read_window(&half, 0, 0, 772, 10, &ReadLimits::default()).is_ok());
    let err = read_window(&half, 0, 890, 772, 10, &ReadLimits::default()).unwrap_err();
    assert!(matches!(err, Error::InvalidTiff { .. }), "{err:?}");
}

#[test]
fn every_truncation_and_bit_flip_is_handled() {
    // The smallest real file: the Taizhou reference map (6 kB, deflate + predictor).
    let bytes = std::fs::read(data(
        "landsat_taizhou/Taizhou_reference_0unlabelled_1unchanged_2changed.tif",
    ))
    .unwrap();
    let lim = ReadLimits::default();
    assert!(read_geotiff_bytes(&bytes, &lim).is_ok());
    for len in (0..bytes.len()).step_by(7) {
        assert!(
            read_geotiff_bytes(&bytes[..len], &lim).is_err(),
            "cut at {len} read fine"
        );
    }
    let mut ok = 0;
    for pos in (0..bytes.len()).step_by(5) {
        for bit in [0, 6] {
            let mut b = bytes.clone();
            b[pos] ^= 1 << bit;
            ok += usize::from(read_geotiff_bytes(&b, &lim).is_ok());
        }
    }
    // Flips inside the IFD or compressed data mostly break the file; some land in values.
    assert!(ok > 0);
}

#[test]
fn non_tiffs_are_refused() {
    let lim = ReadLimits::default();
    for (name, bytes) in [
        ("empty", &b""[..]),
        ("text", &b"hello, this is not an image"[..]),
        ("png", &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..]),
        ("bad version", &b"II\x2a\x01\x08\0\0\0"[..]),
    ] {
        let err = read_geotiff_bytes(bytes, &lim).unwrap_err();
        assert!(matches!(err, Error::InvalidTiff { .. }), "{name}: {err:?}");
    }
    let path = scratch("not_a_tiff.tif");
    std::fs::write(&path, "col1,col2\n1,2\n").unwrap();
    let err = read_geotiff(&path, &lim).unwrap_err();
    assert!(err.to_string().contains("not a TIFF"), "{err}");
    assert!(matches!(
        read_geotiff(scratch("missing.tif"), &lim),
        Err(Error::Io { .. })
    ));
}

/// A little-endian classic TIFF with one IFD of (tag, type, count, value) entries.
fn tiny_tiff(entries: &[(u16, u16, u32, u32)], trailing: &[u8]) -> Vec<u8> {
    let mut b = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for &(tag, ty, count, value) in entries {
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(&value.to_le_bytes());
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(trailing);
    b
}

const SHORT: u16 = 3;
const LONG: u16 = 4;

#[test]
fn absurd_sizes_are_refused_before_allocating() {
    // 10^6 × 10^6 u8 pixels declared in one 16-byte strip.
    let data_at = 8 + 2 + 9 * 12 + 4;
    let header = tiny_tiff(
        &[
            (256, LONG, 1, 1_000_000),
            (257, LONG, 1, 1_000_000),
            (258, SHORT, 1, 8),
            (259, SHORT, 1, 1),
            (262, SHORT, 1, 1),
            (273, LONG, 1, data_at),
            (277, SHORT, 1, 1),
            (278, LONG, 1, 1_000_000),
            (279, LONG, 1, 16),
        ],
        &[0; 16],
    );
    let err = read_geotiff_bytes(&header, &ReadLimits::default()).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("1000000×1000000"), "{err}");
    let path = scratch("absurd.tif");
    std::fs::write(&path, &header).unwrap();
    assert!(matches!(
        read_geotiff(&path, &ReadLimits::default()),
        Err(Error::TooLarge { .. })
    ));
    // Its header still reads, and a small window of it is within limits but past the data.
    assert_eq!(read_info(&path).unwrap().width, 1_000_000);
    assert!(matches!(
        read_window(&path, 0, 0, 10, 10, &ReadLimits::default()),
        Err(Error::InvalidTiff { .. })
    ));

    // A 32 × 32 image in one tile declared 2^30 pixels wide: refused per chunk.
    let huge_tile = tiny_tiff(
        &[
            (256, LONG, 1, 32),
            (257, LONG, 1, 32),
            (258, SHORT, 1, 8),
            (259, SHORT, 1, 1),
            (262, SHORT, 1, 1),
            (277, SHORT, 1, 1),
            (322, LONG, 1, 1 << 30),
            (323, LONG, 1, 32),
            (324, LONG, 1, 8 + 2 + 10 * 12 + 4),
            (325, LONG, 1, 16),
        ],
        &[0; 16],
    );
    let err = read_geotiff_bytes(&huge_tile, &ReadLimits::default()).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");

    // Tight limits refuse a real file by bytes as well as by pixels.
    let by_bytes = ReadLimits::default()
        .with_max_pixels(u64::MAX)
        .with_max_bytes(400 * 400 * 6 - 1);
    assert!(matches!(
        read_geotiff(data("landsat_taizhou/Taizhou_t1.tif"), &by_bytes),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn unsupported_sample_types_are_named() {
    // 64-bit float samples.
    let t = tiny_tiff(
        &[
            (256, LONG, 1, 1),
            (257, LONG, 1, 1),
            (258, SHORT, 1, 64),
            (259, SHORT, 1, 1),
            (262, SHORT, 1, 1),
            (273, LONG, 1, 8 + 2 + 10 * 12 + 4),
            (277, SHORT, 1, 1),
            (278, LONG, 1, 1),
            (279, LONG, 1, 8),
            (339, SHORT, 1, 3),
        ],
        &[0; 8],
    );
    let err = read_geotiff_bytes(&t, &ReadLimits::default()).unwrap_err();
    assert!(err.to_string().contains("64-bit float"), "{err}");
}

#[test]
fn different_grids_are_reported() {
    let lim = ReadLimits::default();
    let a = read_info(data("sentinel2_arid/s2_10m_B02_B03_B04_B08.tif")).unwrap();
    let b = read_info(data("sentinel2_arid/s2_20m_B11_B12.tif")).unwrap();
    let grid = |i: &landwatch::io::GeoTiffInfo| Grid {
        width: i.width,
        height: i.height,
        georef: i.georef,
    };
    let err = check_same_grid(&grid(&a), &grid(&b)).unwrap_err();
    assert!(
        err.to_string().contains("pixel size 10×10 vs 20×20"),
        "{err}"
    );
    let t = read_info(data("landsat_taizhou/Taizhou_t1.tif")).unwrap();
    let err = check_same_grid(&grid(&a), &grid(&t))
        .unwrap_err()
        .to_string();
    for part in [
        "size 300×200 vs 400×400",
        "CRS EPSG:32719 (WGS 84 / UTM zone 19S) vs EPSG:32651",
        "pixel size",
        "origin",
    ] {
        assert!(err.contains(part), "{err} lacks {part}");
    }
    let nogeo = read_geotiff(
        data("sentinel2_spyndex/s2_10m_B02_B03_B04_B08_nogeo.tif"),
        &lim,
    )
    .unwrap();
    let err = check_same_grid(&grid(&a), &Grid::of_image(&nogeo))
        .unwrap_err()
        .to_string();
    assert!(err.contains("second is not"), "{err}");
}

#[test]
fn fuzz_seeds_read() {
    // The seeds of the fuzz target: small crops of the bundled data in GDAL-written layouts
    // (tiled LZW, predictor 3 floats, planar PackBits, BigTIFF i16, big-endian u32).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/read_geotiff");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tif") {
            let img = read_geotiff(&path, &ReadLimits::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(img.georef.is_some(), "{}", path.display());
            n += 1;
        }
    }
    assert_eq!(n, 8);
}
