//! Builds a large test scene from a small real one: every band of a GeoTIFF mirror-tiled to
//! N×N pixels, the way `numpy.pad(band, ((0, N-h), (0, N-w)), mode="symmetric")` extends it
//! (reflected with the edge pixel repeated, as many times as needed; N smaller than the input
//! crops). The origin and pixel size of the georeference, the EPSG code, the nodata value and
//! the sample type are kept; the output is tiled deflate GeoTIFF (BigTIFF when needed).
//!
//! ```sh
//! cargo run --release --example mirror_tile -- data/landsat_taizhou/Taizhou_t1.tif 8192 /tmp/t1_8192.tif
//! ```

use landwatch::BandData;
use landwatch::io::{ReadLimits, WriteOptions, read_geotiff, write_image};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: mirror_tile IN.tif N OUT.tif  (N: output width and height in pixels)";

/// Source index of output index `i` along an axis of `len` samples, reflected with the edge
/// repeated: 0 1 .. len-1 len-1 .. 1 0 0 1 ..
fn mirror(i: usize, len: usize) -> usize {
    let j = i % (2 * len);
    if j < len { j } else { 2 * len - 1 - j }
}

/// One band of `w`×`h` samples mirror-tiled to `n`×`n`.
fn tile<T: Copy>(src: &[T], w: usize, h: usize, n: usize) -> Vec<T> {
    let columns: Vec<usize> = (0..n).map(|x| mirror(x, w)).collect();
    let mut out = Vec::with_capacity(n * n);
    for y in 0..n {
        let row = &src[mirror(y, h) * w..][..w];
        out.extend(columns.iter().map(|&x| row[x]));
    }
    out
}

fn tile_band(band: &BandData, w: usize, h: usize, n: usize) -> Result<BandData, String> {
    Ok(match band {
        BandData::U8(v) => BandData::U8(tile(v, w, h, n)),
        BandData::U16(v) => BandData::U16(tile(v, w, h, n)),
        BandData::I16(v) => BandData::I16(tile(v, w, h, n)),
        BandData::U32(v) => BandData::U32(tile(v, w, h, n)),
        BandData::F32(v) => BandData::F32(tile(v, w, h, n)),
        other => return Err(format!("{} samples cannot be tiled yet", other.data_type())),
    })
}

fn run(args: &[String]) -> Result<(), String> {
    let [input, n, output] = args else {
        return Err(USAGE.into());
    };
    let n: usize = n
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("N must be a positive pixel count, got '{n}'\n{USAGE}"))?;
    let t = Instant::now();
    let mut image = read_geotiff(input, &ReadLimits::default()).map_err(|e| e.to_string())?;
    let (w, h) = (image.width, image.height);
    image.bands = (image.bands.iter())
        .map(|b| tile_band(b, w, h, n))
        .collect::<Result<_, _>>()?;
    image.width = n;
    image.height = n;
    write_image(output, &image, &WriteOptions::default()).map_err(|e| e.to_string())?;
    println!(
        "{input} ({w}×{h}, {} bands) mirror-tiled to {n}×{n}: {output} ({:.1} s)",
        image.bands.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.first().map(String::as_str), Some("-h" | "--help")) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_repeats_the_edge_like_numpy_symmetric() {
        // numpy.pad(np.arange(3), (0, 9), mode="symmetric")
        let got: Vec<usize> = (0..12).map(|i| mirror(i, 3)).collect();
        assert_eq!(got, [0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0]);
        assert_eq!(mirror(0, 1), 0);
        assert_eq!(mirror(5, 1), 0);
    }

    #[test]
    fn tile_reflects_rows_and_columns() {
        let src = [1u16, 2, 3, 4, 5, 6]; // 3 wide, 2 high
        let out = tile(&src, 3, 2, 4);
        assert_eq!(
            out,
            [1, 2, 3, 3, 4, 5, 6, 6, 4, 5, 6, 6, 1, 2, 3, 3],
            "rows 0 1 1 0, columns 0 1 2 2"
        );
        assert_eq!(tile(&src, 3, 2, 1), [1]);
    }
}
