//! Strip and tile decoding: decompression (none, LZW, deflate, PackBits, ZSTD, JPEG), byte
//! order and the horizontal (2) and floating-point (3) predictors. Output is bounded by the
//! size the caller expects, so a corrupt or hostile chunk cannot allocate more than that.

use std::sync::Arc;

/// How the samples of one chunk are stored.
#[derive(Debug, Clone)]
pub(crate) struct ChunkCoding {
    /// TIFF Compression tag value.
    pub compression: u16,
    /// TIFF Predictor tag value (1 = none).
    pub predictor: u16,
    /// Bytes per sample.
    pub sample_size: usize,
    /// True when the file is big-endian.
    pub big_endian: bool,
    /// TIFF PhotometricInterpretation (6 = YCbCr: a JPEG chunk is converted to RGB).
    pub photometric: u16,
    /// The JPEGTables tag (347): the tables JPEG chunks share, an abbreviated JPEG stream.
    pub jpeg_tables: Option<Arc<[u8]>>,
}

/// The rows of one chunk: how wide, how many a read needs, how many the chunk holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkRows {
    /// Samples per row (chunk width × samples per chunk pixel).
    pub row_samples: usize,
    /// The rows the read needs, from the chunk's top.
    pub rows: usize,
    /// The rows the chunk's stream holds (a tile's height; a strip's, cut at the image's
    /// bottom): at least `rows`.
    pub full_rows: usize,
    /// Samples per chunk pixel (1 for planar files).
    pub samples_per_pixel: usize,
}

/// Decodes one chunk to native-endian sample bytes: the first `shape.rows` rows of
/// `shape.row_samples` samples, `shape.samples_per_pixel` interleaved. Returns fewer bytes
/// than a whole number of rows only on error.
pub(crate) fn decode_chunk(
    raw: &[u8],
    coding: &ChunkCoding,
    shape: &ChunkRows,
) -> Result<Vec<u8>, String> {
    let row_bytes = shape.row_samples * coding.sample_size;
    let wanted = row_bytes * shape.rows;
    // No codec here but ZSTD (which grows its output as it comes) and JPEG (whose image
    // size is checked against the chunk's) expands a byte to more than 4096 (LZW's longest
    // string): a short chunk cannot make us allocate the whole expected size.
    let cap = wanted.min(raw.len().saturating_mul(4096));
    let mut out = match coding.compression {
        1 => raw[..raw.len().min(wanted)].to_vec(),
        5 => lzw(raw, cap)?,
        7 => jpeg(raw, coding, shape)?,
        8 | 32946 => inflate(raw, cap, row_bytes * shape.full_rows)?,
        32773 => packbits(raw, wanted)?,
        50000 => zstd(raw, wanted)?,
        other => {
            return Err(format!(
                "compression {other} is not supported (none, LZW, deflate, PackBits, ZSTD and \
                 JPEG are)"
            ));
        }
    };
    if out.len() < wanted {
        return Err(format!(
            "a strip or tile decoded to {} bytes, {wanted} expected",
            out.len()
        ));
    }
    out.truncate(wanted);
    let size = coding.sample_size;
    let spp = shape.samples_per_pixel;
    match coding.predictor {
        1 => fix_endianness(&mut out, size, coding.big_endian),
        2 => {
            fix_endianness(&mut out, size, coding.big_endian);
            for row in out.chunks_exact_mut(row_bytes) {
                undo_horizontal(row, size, spp);
            }
        }
        3 => {
            let mut tmp = vec![0u8; row_bytes];
            for row in out.chunks_exact_mut(row_bytes) {
                undo_floating_point(row, &mut tmp, size, spp);
            }
        }
        other => return Err(format!("predictor {other} is not supported")),
    }
    Ok(out)
}

/// Decodes a ZSTD frame, stopping after `wanted` bytes. A frame's ratio has no useful bound
/// (a block of one repeated byte is 4 bytes for 128 KiB), so the output grows as it comes,
/// from the size the frame declares when it declares one; libtiff's frames often do not. The
/// decoder's window is capped at 2^27 bytes (libzstd's own default), whatever a frame asks.
fn zstd(raw: &[u8], wanted: usize) -> Result<Vec<u8>, String> {
    use zstd::stream::raw::{DParameter, Decoder, InBuffer, Operation, OutBuffer};
    let err = |e: std::io::Error| format!("ZSTD: {e}");
    let declared = zstd::zstd_safe::get_frame_content_size(raw)
        .ok()
        .flatten()
        .and_then(|n| usize::try_from(n).ok());
    let first = declared.unwrap_or(raw.len().saturating_mul(64).max(1 << 16));
    let mut out = vec![0u8; first.min(wanted)];
    let mut decoder = Decoder::new().map_err(err)?;
    decoder
        .set_parameter(DParameter::WindowLogMax(27))
        .map_err(err)?;
    let mut input = InBuffer::around(raw);
    let mut filled = 0;
    loop {
        let read = input.pos();
        let mut output = OutBuffer::around_pos(&mut out[..], filled);
        let hint = decoder.run(&mut input, &mut output).map_err(err)?;
        let wrote = output.pos() > filled;
        filled = output.pos();
        if hint == 0 || filled >= wanted {
            break;
        }
        if filled == out.len() {
            out.resize(out.len().saturating_mul(2).min(wanted), 0);
        } else if !wrote && input.pos() == read {
            // Stalled: the frame is truncated.
            break;
        }
    }
    out.truncate(filled);
    Ok(out)
}

/// Decodes a JPEG chunk (TIFF compression 7) to 8-bit samples, the chunk's rows of
/// `row_samples` samples. The shared JPEGTables are put in front of the chunk's stream. A
/// YCbCr image (photometric 6, as GDAL writes `PHOTOMETRIC=YCBCR`) is converted to RGB, as
/// libtiff does for GDAL; any other is returned as coded, without a colour transform.
fn jpeg(raw: &[u8], coding: &ChunkCoding, shape: &ChunkRows) -> Result<Vec<u8>, String> {
    use zune_jpeg::zune_core::{
        bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions,
    };
    if coding.sample_size != 1 {
        return Err("JPEG is supported for 8-bit samples only".into());
    }
    let spp = shape.samples_per_pixel;
    let width = shape.row_samples / spp.max(1);
    let mut stream =
        Vec::with_capacity(raw.len() + coding.jpeg_tables.as_ref().map_or(0, |t| t.len()));
    match (&coding.jpeg_tables, raw.get(..2)) {
        // Tables: SOI ... EOI; chunk: SOI ... EOI. One stream: the tables without their EOI,
        // then the chunk without its SOI.
        (Some(t), Some([0xFF, 0xD8])) if t.len() >= 4 => {
            stream.extend_from_slice(&t[..t.len() - 2]);
            stream.extend_from_slice(&raw[2..]);
        }
        _ => stream.extend_from_slice(raw),
    }
    let options = DecoderOptions::new_safe()
        .set_max_width(width)
        .set_max_height(shape.full_rows)
        .set_strict_mode(false);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(&stream[..]), options);
    let err = |e: zune_jpeg::errors::DecodeErrors| format!("JPEG: {e}");
    decoder.decode_headers().map_err(err)?;
    let (w, h) = decoder.dimensions().ok_or("JPEG: no frame header")?;
    let input = decoder.input_colorspace().ok_or("JPEG: no frame header")?;
    if w != width || h < shape.rows || h > shape.full_rows {
        return Err(format!(
            "JPEG: a {w}×{h} image in a chunk of {width} pixels × {} to {} rows",
            shape.rows, shape.full_rows
        ));
    }
    if input.num_components() != spp {
        return Err(format!(
            "JPEG: {} components for {spp} samples per pixel",
            input.num_components()
        ));
    }
    let out_space = match (coding.photometric, input) {
        (6, ColorSpace::YCbCr) => ColorSpace::RGB,
        (6, other) => return Err(format!("JPEG: YCbCr photometric but a {other:?} image")),
        _ => input,
    };
    decoder.set_options(options.jpeg_set_out_colorspace(out_space));
    decoder.decode().map_err(err)
}

/// Inflates a zlib stream, stopping after `wanted` bytes (a stream that holds more is cut
/// there, as a reader would be). A chunk of `whole` bytes that the read needs most of is
/// decoded in one call by libdeflate; one it needs only the top of, or one libdeflate refuses
/// (damaged, or holding more than it should), by flate2's streaming decoder, which stops
/// where the read does and keeps what a damaged stream yields before the damage.
fn inflate(raw: &[u8], wanted: usize, whole: usize) -> Result<Vec<u8>, String> {
    let whole = whole.min(raw.len().saturating_mul(1032));
    if wanted > 0 && whole >= wanted && whole - wanted <= wanted {
        let mut out = vec![0u8; whole];
        if let Ok(n) = libdeflater::Decompressor::new().zlib_decompress(raw, &mut out) {
            out.truncate(n.min(wanted));
            return Ok(out);
        }
    }
    inflate_streaming(raw, wanted)
}

/// Inflates a zlib stream with flate2, stopping after `wanted` bytes.
fn inflate_streaming(raw: &[u8], wanted: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(wanted);
    let mut z = flate2::Decompress::new(true);
    loop {
        let before = (z.total_in(), out.len());
        let status = z
            .decompress_vec(
                &raw[z.total_in() as usize..],
                &mut out,
                flate2::FlushDecompress::Finish,
            )
            .map_err(|e| format!("deflate: {e}"))?;
        let stalled = (z.total_in(), out.len()) == before;
        if status == flate2::Status::StreamEnd || out.len() >= wanted || stalled {
            return Ok(out);
        }
    }
}

fn fix_endianness(buf: &mut [u8], size: usize, big_endian: bool) {
    if big_endian != cfg!(target_endian = "big") && size > 1 {
        for s in buf.chunks_exact_mut(size) {
            s.reverse();
        }
    }
}

/// Undoes horizontal differencing on one row of native-endian samples.
fn undo_horizontal(row: &mut [u8], size: usize, spp: usize) {
    macro_rules! undo {
        ($t:ty) => {{
            let n = row.len() / size;
            for i in spp..n {
                let prev = <$t>::from_ne_bytes(
                    row[(i - spp) * size..(i - spp + 1) * size]
                        .try_into()
                        .unwrap(),
                );
                let cur = <$t>::from_ne_bytes(row[i * size..(i + 1) * size].try_into().unwrap());
                row[i * size..(i + 1) * size]
                    .copy_from_slice(&cur.wrapping_add(prev).to_ne_bytes());
            }
        }};
    }
    match size {
        1 => {
            for i in spp..row.len() {
                row[i] = row[i].wrapping_add(row[i - spp]);
            }
        }
        2 => undo!(u16),
        4 => undo!(u32),
        8 => undo!(u64),
        _ => {}
    }
}

/// Undoes the floating-point predictor on one row: byte-wise differencing, then the byte
/// planes (most significant first) are interleaved back into native-endian samples.
fn undo_floating_point(row: &mut [u8], tmp: &mut [u8], size: usize, spp: usize) {
    for i in spp..row.len() {
        row[i] = row[i].wrapping_add(row[i - spp]);
    }
    let n = row.len() / size;
    for k in 0..n {
        for b in 0..size {
            // Byte b of the big-endian representation of sample k.
            let v = row[b * n + k];
            let dst = if cfg!(target_endian = "big") {
                b
            } else {
                size - 1 - b
            };
            tmp[k * size + dst] = v;
        }
    }
    row.copy_from_slice(&tmp[..row.len()]);
}

/// TIFF LZW (MSB first, early code-size change), stopping after `wanted` bytes.
fn lzw(raw: &[u8], wanted: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; wanted];
    let mut dec = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let (mut i, mut o) = (0, 0);
    while o < wanted {
        let r = dec.decode_bytes(&raw[i..], &mut out[o..]);
        i += r.consumed_in;
        o += r.consumed_out;
        match r.status {
            Ok(weezl::LzwStatus::Ok) if r.consumed_in + r.consumed_out > 0 => {}
            Ok(_) => break,
            Err(e) => return Err(format!("LZW: {e}")),
        }
    }
    out.truncate(o);
    Ok(out)
}

/// PackBits run-length decoding, stopping after `wanted` bytes.
fn packbits(raw: &[u8], wanted: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(wanted.min(raw.len().saturating_mul(64)));
    let mut i = 0;
    while i < raw.len() && out.len() < wanted {
        let n = raw[i] as i8;
        i += 1;
        if n >= 0 {
            let len = n as usize + 1;
            let end = (i + len).min(raw.len());
            out.extend_from_slice(&raw[i..end]);
            i = end;
        } else if n != -128 {
            let Some(&b) = raw.get(i) else { break };
            i += 1;
            out.extend(std::iter::repeat_n(b, 1 + (-(n as isize)) as usize));
        }
    }
    out.truncate(wanted);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predictors_invert_their_encoders() {
        // Horizontal on u16 pairs: [1,2] [3,5] -> stored [1,2] [2,3].
        let mut row: Vec<u8> = [1u16, 2, 2, 3]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        undo_horizontal(&mut row, 2, 2);
        let back: Vec<u16> = row
            .chunks(2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(back, [1, 2, 3, 5]);
        // Floating point: encode 2 samples as libtiff does, then decode.
        let vals = [1.5f32, -2.25];
        let be: Vec<[u8; 4]> = vals.iter().map(|v| v.to_be_bytes()).collect();
        let mut planes: Vec<u8> = (0..4).flat_map(|b| be.iter().map(move |s| s[b])).collect();
        for i in (1..planes.len()).rev() {
            planes[i] = planes[i].wrapping_sub(planes[i - 1]);
        }
        let mut tmp = vec![0; 8];
        undo_floating_point(&mut planes, &mut tmp, 4, 1);
        let got: Vec<f32> = planes
            .chunks(4)
            .map(|b| f32::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(got, vals);
    }

    #[test]
    fn packbits_and_bounds() {
        // 3 literals, then 4 × 0xAA, then a no-op.
        let raw = [2u8, 1, 2, 3, 0xFD, 0xAA, 0x80];
        assert_eq!(
            packbits(&raw, 100).unwrap(),
            [1, 2, 3, 0xAA, 0xAA, 0xAA, 0xAA]
        );
        assert_eq!(packbits(&raw, 2).unwrap(), [1, 2]);
        let coding = ChunkCoding {
            compression: 32773,
            predictor: 1,
            sample_size: 1,
            big_endian: false,
            photometric: 1,
            jpeg_tables: None,
        };
        let shape = |row_samples, rows| ChunkRows {
            row_samples,
            rows,
            full_rows: rows,
            samples_per_pixel: 1,
        };
        assert_eq!(
            decode_chunk(&raw, &coding, &shape(7, 1)).unwrap(),
            [1, 2, 3, 0xAA, 0xAA, 0xAA, 0xAA]
        );
        assert!(decode_chunk(&raw, &coding, &shape(4, 2)).is_err());
        for compression in [7, 50000, 34712] {
            let bad = ChunkCoding {
                compression,
                ..coding.clone()
            };
            assert!(decode_chunk(&raw, &bad, &shape(1, 1)).is_err());
        }
    }

    #[test]
    fn zstd_grows_to_what_it_needs_and_refuses_garbage() {
        // 3 MB of zeros: a frame of a few bytes (a ratio no bound of 4096 would allow).
        let zeros = vec![0u8; 3 << 20];
        let frame = zstd::bulk::compress(&zeros, 9).unwrap();
        assert!(frame.len() < 1000);
        assert_eq!(zstd(&frame, 3 << 20).unwrap(), zeros);
        // Stops at what a window needs.
        assert_eq!(zstd(&frame, 1000).unwrap().len(), 1000);
        // Truncated: fewer bytes, which decode_chunk reports as an error.
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let frame = zstd::bulk::compress(&data, 3).unwrap();
        let short = zstd(&frame[..frame.len() / 2], data.len()).unwrap_or_default();
        assert!(short.len() < data.len());
        assert!(zstd(b"not a zstd frame", 100).is_err());
    }

    #[test]
    fn malformed_jpeg_is_an_error() {
        let coding = ChunkCoding {
            compression: 7,
            predictor: 1,
            sample_size: 1,
            big_endian: false,
            photometric: 6,
            jpeg_tables: Some(vec![0xFF, 0xD8, 0xFF, 0xD9].into()),
        };
        let shape = ChunkRows {
            row_samples: 48,
            rows: 16,
            full_rows: 16,
            samples_per_pixel: 3,
        };
        for raw in [
            &b""[..],
            b"\xFF\xD8",
            b"\xFF\xD8\xFF\xC0\x00\x11garbage",
            b"junk",
        ] {
            assert!(decode_chunk(raw, &coding, &shape).is_err());
        }
        let u16s = ChunkCoding {
            sample_size: 2,
            ..coding
        };
        assert!(decode_chunk(b"\xFF\xD8", &u16s, &shape).is_err());
    }

    #[test]
    fn inflate_takes_the_whole_chunk_or_streams_the_top() {
        use std::io::Write;
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 97) as u8).collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&data).unwrap();
        let raw = z.finish().unwrap();
        // The whole chunk (libdeflate), most of it (libdeflate, cut), its top (flate2).
        assert_eq!(inflate(&raw, data.len(), data.len()).unwrap(), data);
        assert_eq!(inflate(&raw, 60_000, data.len()).unwrap(), data[..60_000]);
        assert_eq!(inflate(&raw, 10_000, data.len()).unwrap(), data[..10_000]);
        // A truncated stream: libdeflate refuses it, flate2 yields what precedes the cut.
        let cut = &raw[..raw.len() / 2];
        let part = inflate(cut, data.len(), data.len()).unwrap();
        assert!(!part.is_empty() && part.len() < data.len());
        assert_eq!(part, data[..part.len()]);
        // A stream that holds more than the chunk should: cut where the read stops.
        assert_eq!(inflate(&raw, 50_000, 50_000).unwrap(), data[..50_000]);
        assert!(inflate(b"\x78\x9c\xff\xff garbage", 100, 100).is_err());
    }
}
