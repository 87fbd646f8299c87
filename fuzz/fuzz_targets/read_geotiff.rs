//! Fuzzes the GeoTIFF reader on arbitrary bytes: it must return, never panic or allocate
//! past its limits.
#![no_main]

use landwatch::io::{ReadLimits, read_geotiff_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ReadLimits::default()
        .with_max_pixels(1 << 22)
        .with_max_bytes(64 << 20);
    let _ = read_geotiff_bytes(data, &limits);
});
