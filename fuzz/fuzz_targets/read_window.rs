//! Fuzzes windowed GeoTIFF reads.
//!
//! Feeds: the first 8 bytes as four little-endian `u16`, the window's column, row, width and
//! height; the rest as the bytes of a TIFF file, to `landwatch::io::read_window_bytes`.
//! Inputs shorter than 8 bytes are skipped. The limits are those of the `read_geotiff`
//! target (2^22 pixels, 64 MiB): `ReadLimits::default()` admits 4 GiB of samples by contract,
//! more than the fuzzer's memory limit, so it would report allocations that the limits allow.
//!
//! Must hold: no panic, nothing allocated past the limits (the fuzzer's `-rss_limit_mb` and
//! `-malloc_limit_mb` catch it), errors are typed (`landwatch::Error`), and a window that is
//! read has the requested size, one full band per sample.
#![no_main]

use landwatch::io::{ReadLimits, read_window_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, tiff)) = data.split_first_chunk::<8>() else {
        return;
    };
    let word = |i: usize| usize::from(u16::from_le_bytes([head[2 * i], head[2 * i + 1]]));
    let (col, row, width, height) = (word(0), word(1), word(2), word(3));
    let limits = ReadLimits::default()
        .with_max_pixels(1 << 22)
        .with_max_bytes(64 << 20);
    if let Ok(image) = read_window_bytes(tiff, col, row, width, height, &limits) {
        assert_eq!((image.width, image.height), (width, height));
        assert!(!image.bands.is_empty());
        assert!(image.bands.iter().all(|b| b.len() == width * height));
    }
});
