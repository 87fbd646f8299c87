//! Strip and tile decoding: decompression (none, LZW, deflate, PackBits), byte order and
//! the horizontal (2) and floating-point (3) predictors. Output is bounded by the size the
//! caller expects, so a corrupt or hostile chunk cannot allocate more than that.

/// How the samples of one chunk are stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkCoding {
    /// TIFF Compression tag value.
    pub compression: u16,
    /// TIFF Predictor tag value (1 = none).
    pub predictor: u16,
    /// Bytes per sample.
    pub sample_size: usize,
    /// True when the file is big-endian.
    pub big_endian: bool,
}

/// Decodes one chunk to native-endian sample bytes: `row_samples` samples per row, at most
/// `rows` rows, `samples_per_pixel` interleaved. Returns fewer bytes than a whole number of
/// rows only on error.
pub(crate) fn decode_chunk(
    raw: &[u8],
    coding: &ChunkCoding,
    row_samples: usize,
    rows: usize,
    samples_per_pixel: usize,
) -> Result<Vec<u8>, String> {
    let row_bytes = row_samples * coding.sample_size;
    let wanted = row_bytes * rows;
    // No codec here expands a byte to more than 4096 (LZW's longest string): a short chunk
    // cannot make us allocate the whole expected size.
    let cap = wanted.min(raw.len().saturating_mul(4096));
    let mut out = match coding.compression {
        1 => raw[..raw.len().min(wanted)].to_vec(),
        5 => lzw(raw, cap)?,
        8 | 32946 => inflate(raw, cap)?,
        32773 => packbits(raw, wanted)?,
        other => {
            return Err(format!(
                "compression {other} is not supported (none, LZW, deflate, PackBits are)"
            ));
        }
    };
    if out.len() < wanted {
        return Err(format!(
            "a strip or tile decoded to {} bytes, {wanted} expected",
            out.len()
        ));
    }
    let size = coding.sample_size;
    match coding.predictor {
        1 => fix_endianness(&mut out, size, coding.big_endian),
        2 => {
            fix_endianness(&mut out, size, coding.big_endian);
            for row in out.chunks_exact_mut(row_bytes) {
                undo_horizontal(row, size, samples_per_pixel);
            }
        }
        3 => {
            let mut tmp = vec![0u8; row_bytes];
            for row in out.chunks_exact_mut(row_bytes) {
                undo_floating_point(row, &mut tmp, size, samples_per_pixel);
            }
        }
        other => return Err(format!("predictor {other} is not supported")),
    }
    Ok(out)
}

/// Inflates a zlib stream in one call straight into the output, stopping after `wanted`
/// bytes (a stream that holds more is cut there, as a reader would be).
fn inflate(raw: &[u8], wanted: usize) -> Result<Vec<u8>, String> {
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
        };
        assert_eq!(
            decode_chunk(&raw, &coding, 7, 1, 1).unwrap(),
            [1, 2, 3, 0xAA, 0xAA, 0xAA, 0xAA]
        );
        assert!(decode_chunk(&raw, &coding, 4, 2, 1).is_err());
        let bad = ChunkCoding {
            compression: 7,
            ..coding
        };
        assert!(decode_chunk(&raw, &bad, 1, 1, 1).is_err());
    }
}
