//! `decode_bench FILE.tif...`: reads every strip or tile of each file into memory, then
//! times decoding all of them with each candidate decoder for the file's compression: the
//! CPU time of one thread (best and median of 5) and the wall time on all threads (rayon, as
//! landwatch's reader decodes), best of 5. Prints one line per decoder.
//!
//! deflate (8): flate2 with zlib-rs (landwatch's path before libdeflate) and libdeflater.
//! zstd (50000): the zstd crate (bundled C libzstd), streaming and single-shot, and ruzstd.

use rayon::prelude::*;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::time::Instant;
use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;

type DecodeFn = fn(&[u8], usize) -> usize;

fn main() {
    for path in std::env::args().skip(1) {
        let (compression, chunks, chunk_bytes) = load(&path);
        let raw: usize = chunks.iter().map(Vec::len).sum();
        println!(
            "{path}: compression {compression}, {} chunks, {:.1} MB compressed, {:.1} MB decoded",
            chunks.len(),
            raw as f64 / 1e6,
            (chunks.len() * chunk_bytes) as f64 / 1e6
        );
        let candidates: &[(&str, DecodeFn)] = match compression {
            8 | 32946 => &[
                ("flate2/zlib-rs", zlib_rs),
                ("libdeflater", libdeflate),
            ],
            50000 => &[
                ("zstd (C) streaming", zstd_stream),
                ("zstd (C) single-shot", zstd_bulk),
                ("ruzstd streaming", ruzstd_stream),
            ],
            other => panic!("compression {other}: nothing to compare"),
        };
        // Rounds interleave the candidates (A, B, A, B, ...) so that a busy machine slows
        // them alike; per candidate: the best wall time on all threads, and the best and
        // median CPU time of one thread decoding every chunk (CPU time does not count the
        // time other processes hold the core).
        let mut wall = vec![f64::MAX; candidates.len()];
        let mut cpu = vec![Vec::new(); candidates.len()];
        for _ in 0..ROUNDS {
            for (i, (_, f)) in candidates.iter().enumerate() {
                let t = Instant::now();
                let out = chunks.par_iter().map(|c| f(c, chunk_bytes)).sum::<usize>();
                wall[i] = wall[i].min(t.elapsed().as_secs_f64());
                assert_eq!(out, chunks.len() * chunk_bytes);
                let c0 = thread_cpu();
                let out = chunks.iter().map(|c| f(c, chunk_bytes)).sum::<usize>();
                cpu[i].push(thread_cpu() - c0);
                assert_eq!(out, chunks.len() * chunk_bytes);
            }
        }
        let mb = (chunks.len() * chunk_bytes) as f64 / 1e6;
        for (i, (name, _)) in candidates.iter().enumerate() {
            cpu[i].sort_by(f64::total_cmp);
            let (best, median) = (cpu[i][0], cpu[i][ROUNDS / 2]);
            println!(
                "  {name:<22} 1 thread CPU best {best:6.3} s ({:6.1} MB/s), median {median:6.3} s; \
                 {} threads wall best {:6.3} s ({:6.1} MB/s)",
                mb / best,
                rayon::current_num_threads(),
                wall[i],
                mb / wall[i]
            );
        }
    }
}

const ROUNDS: usize = 5;

/// CPU time of the calling thread, in seconds.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The compression, every chunk's bytes and the decoded size of a full chunk.
fn load(path: &str) -> (u16, Vec<Vec<u8>>, usize) {
    let mut d = Decoder::new(File::open(path).unwrap()).unwrap();
    let tiled = d.get_chunk_type() == ChunkType::Tile;
    let (w, h) = d.dimensions().unwrap();
    let u = |d: &mut Decoder<File>, t| d.find_tag_unsigned::<u32>(t).unwrap();
    let (cw, ch) = if tiled {
        (u(&mut d, Tag::TileWidth).unwrap(), u(&mut d, Tag::TileLength).unwrap())
    } else {
        (w, u(&mut d, Tag::RowsPerStrip).unwrap_or(h).min(h))
    };
    let spp = u(&mut d, Tag::SamplesPerPixel).unwrap_or(1);
    let planar = u(&mut d, Tag::PlanarConfiguration).unwrap_or(1) == 2;
    let bits = d.find_tag_unsigned_vec::<u16>(Tag::BitsPerSample).unwrap().unwrap()[0];
    let compression = u(&mut d, Tag::Compression).unwrap_or(1) as u16;
    let (ot, ct) = if tiled {
        (Tag::TileOffsets, Tag::TileByteCounts)
    } else {
        (Tag::StripOffsets, Tag::StripByteCounts)
    };
    let offsets = d.find_tag_unsigned_vec::<u64>(ot).unwrap().unwrap();
    let counts = d.find_tag_unsigned_vec::<u64>(ct).unwrap().unwrap();
    let mut f = File::open(path).unwrap();
    let chunks = offsets
        .iter()
        .zip(&counts)
        .map(|(&o, &n)| {
            let mut v = vec![0; n as usize];
            f.seek(SeekFrom::Start(o)).unwrap();
            f.read_exact(&mut v).unwrap();
            v
        })
        .collect();
    let samples = if planar { 1 } else { spp as usize };
    let bytes = cw as usize * ch as usize * samples * usize::from(bits / 8);
    (compression, chunks, bytes)
}

fn zlib_rs(raw: &[u8], wanted: usize) -> usize {
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
            .unwrap();
        let stalled = (z.total_in(), out.len()) == before;
        if status == flate2::Status::StreamEnd || out.len() >= wanted || stalled {
            return out.len();
        }
    }
}

fn libdeflate(raw: &[u8], wanted: usize) -> usize {
    let mut out = vec![0u8; wanted];
    libdeflater::Decompressor::new()
        .zlib_decompress(raw, &mut out)
        .unwrap()
}

fn zstd_stream(raw: &[u8], wanted: usize) -> usize {
    use zstd::stream::raw::{Decoder, InBuffer, Operation, OutBuffer};
    let mut out = vec![0u8; wanted];
    let mut d = Decoder::new().unwrap();
    let mut input = InBuffer::around(raw);
    let mut output = OutBuffer::around(&mut out[..]);
    while output.pos() < wanted {
        let before = (input.pos(), output.pos());
        let hint = d.run(&mut input, &mut output).unwrap();
        if hint == 0 || (input.pos(), output.pos()) == before {
            break;
        }
    }
    output.pos()
}

fn zstd_bulk(raw: &[u8], wanted: usize) -> usize {
    let mut out = vec![0u8; wanted];
    zstd::bulk::Decompressor::new()
        .unwrap()
        .decompress_to_buffer(raw, &mut out[..])
        .unwrap()
}

fn ruzstd_stream(raw: &[u8], wanted: usize) -> usize {
    let mut out = vec![0u8; wanted];
    let mut d = ruzstd::decoding::StreamingDecoder::new(raw).unwrap();
    let mut n = 0;
    while n < wanted {
        match d.read(&mut out[n..]).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    n
}
