//! GeoTIFF reading: whole images or windows, any of the sample types of [`BandData`],
//! chunky or planar, stripped or tiled, uncompressed / deflate / LZW / PackBits / ZSTD (with
//! predictors) or JPEG (8-bit, YCbCr converted to RGB), classic TIFF or BigTIFF, with the affine transform, EPSG code and GDAL nodata value.
//!
//! The container is decoded by the `tiff` crate one strip or tile at a time; sizes are
//! checked against [`ReadLimits`] before anything large is allocated, and every failure of a
//! truncated or corrupt file comes back as a typed [`Error`].

use crate::error::{Error, Result};
use crate::io::codec::{self, ChunkCoding, ChunkRows};
use crate::io::geokeys::{self, GeoKeys};
use crate::raster::{Band, BandData, BandStack, DataType, GeoReference, GeoTransform};
use crate::sensor::BandRole;
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use tiff::decoder::{ChunkType, Decoder, Limits};
use tiff::tags::{ByteOrder, Tag};
use tiff::{TiffError, TiffFormatError};

/// Caps on what a read may allocate; checked before decoding starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadLimits {
    /// Largest `width × height` accepted (of the image, or of the window for windowed reads).
    pub max_pixels: u64,
    /// Largest decoded size in bytes (all bands) accepted.
    pub max_bytes: u64,
}

impl Default for ReadLimits {
    /// 2^30 pixels (e.g. 32768 × 32768) and 4 GiB of decoded samples.
    fn default() -> Self {
        ReadLimits {
            max_pixels: 1 << 30,
            max_bytes: 4 << 30,
        }
    }
}

/// A decoded GeoTIFF image: one [`BandData`] per sample, all of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoTiff {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The bands, in file order, row-major.
    pub bands: Vec<BandData>,
    /// Transform and EPSG code, when the file has a usable transform.
    pub georef: Option<GeoReference>,
    /// The GDAL_NODATA value, when present and numeric.
    pub nodata: Option<f64>,
}

impl GeoTiff {
    /// Turns the image into a [`BandStack`]: `roles[i]` goes to band `i` (bands beyond
    /// `roles` get no role), the nodata value to every band, and the georeference is kept.
    /// More roles than bands is an error.
    pub fn into_stack(self, roles: &[BandRole]) -> Result<BandStack> {
        if roles.len() > self.bands.len() {
            return Err(Error::InvalidParameter {
                name: "roles".into(),
                value: roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(","),
                reason: format!("the image has only {} band(s)", self.bands.len()),
            });
        }
        let bands = self
            .bands
            .into_iter()
            .enumerate()
            .map(|(i, data)| Band {
                role: roles.get(i).copied(),
                data,
                nodata: self.nodata,
            })
            .collect();
        let mut stack = BandStack::new(self.width, self.height, bands)?;
        stack.georef = self.georef;
        Ok(stack)
    }

    /// The sample type shared by all bands (`None` for an image without bands).
    pub fn data_type(&self) -> Option<DataType> {
        self.bands.first().map(BandData::data_type)
    }
}

/// What a GeoTIFF holds, read from its header only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTiffInfo {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Samples per pixel.
    pub band_count: usize,
    /// Sample type.
    pub data_type: DataType,
    /// Transform and EPSG code.
    pub georef: Option<GeoReference>,
    /// GDAL_NODATA value.
    pub nodata: Option<f64>,
    /// True for tiled files, false for stripped ones.
    pub tiled: bool,
    /// True for planar (band-sequential) files, false for chunky (pixel-interleaved) ones.
    pub planar: bool,
    /// Rows per strip or tile: a windowed read decodes whole blocks of this many rows.
    pub block_rows: usize,
}

/// Reads a whole GeoTIFF (first image of the file).
pub fn read_geotiff(path: impl AsRef<Path>, limits: &ReadLimits) -> Result<GeoTiff> {
    let path = path.as_ref();
    let mut src = Source::open(open_file(path)?, path, limits)?;
    let (w, h) = (src.info.width, src.info.height);
    src.read(0, 0, w, h, limits)
}

/// Reads a whole GeoTIFF held in memory (the entry point of the fuzz target).
pub fn read_geotiff_bytes(bytes: &[u8], limits: &ReadLimits) -> Result<GeoTiff> {
    let path = Path::new("<memory>");
    let mut src = Source::open(Cursor::new(bytes), path, limits)?;
    let (w, h) = (src.info.width, src.info.height);
    src.read(0, 0, w, h, limits)
}

/// Reads the pixel window of `width × height` pixels whose top-left pixel is `(col, row)`,
/// decoding only the strips or tiles that touch it. The georeference is shifted to the
/// window's origin. A window reaching outside the image is an error.
pub fn read_window(
    path: impl AsRef<Path>,
    col: usize,
    row: usize,
    width: usize,
    height: usize,
    limits: &ReadLimits,
) -> Result<GeoTiff> {
    let path = path.as_ref();
    let mut src = Source::open(open_file(path)?, path, limits)?;
    src.read(col, row, width, height, limits)
}

/// Reads a pixel window of a GeoTIFF held in memory, as [`read_window`] does from a file
/// (an entry point of the fuzz targets).
pub fn read_window_bytes(
    bytes: &[u8],
    col: usize,
    row: usize,
    width: usize,
    height: usize,
    limits: &ReadLimits,
) -> Result<GeoTiff> {
    let path = Path::new("<memory>");
    let mut src = Source::open(Cursor::new(bytes), path, limits)?;
    src.read(col, row, width, height, limits)
}

/// Reads the header of a GeoTIFF: size, bands, type, georeference and nodata, no pixels.
pub fn read_info(path: impl AsRef<Path>) -> Result<GeoTiffInfo> {
    let path = path.as_ref();
    Ok(Source::open(open_file(path)?, path, &ReadLimits::default())?.info)
}

fn open_file(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Maps a `tiff` crate error to a landwatch error about `path`.
pub(crate) fn tiff_error(path: &Path, e: TiffError) -> Error {
    let invalid = |reason: String| Error::InvalidTiff {
        path: path.to_path_buf(),
        reason,
    };
    match e {
        TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            invalid("the file is truncated (unexpected end of file)".into())
        }
        TiffError::IoError(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        TiffError::LimitsExceeded => Error::TooLarge {
            what: format!(
                "{}: a strip, tile or tag exceeds the decoder's limits",
                path.display()
            ),
        },
        TiffError::FormatError(TiffFormatError::TiffSignatureNotFound)
        | TiffError::FormatError(TiffFormatError::TiffSignatureInvalid) => {
            invalid("not a TIFF file (bad signature)".into())
        }
        other => invalid(other.to_string()),
    }
}

/// The samples per pixel and their type, which every band shares.
fn sample_type<R: Read + Seek>(decoder: &mut Decoder<R>, path: &Path) -> Result<(u16, DataType)> {
    let err = |e| tiff_error(path, e);
    let invalid = |reason: String| Error::InvalidTiff {
        path: path.to_path_buf(),
        reason,
    };
    let samples = decoder
        .find_tag_unsigned::<u16>(Tag::SamplesPerPixel)
        .map_err(err)?
        .unwrap_or(1);
    if samples == 0 {
        return Err(invalid("SamplesPerPixel is 0".into()));
    }
    let bits = decoder
        .find_tag_unsigned_vec::<u16>(Tag::BitsPerSample)
        .map_err(err)?
        .unwrap_or_else(|| vec![1]);
    let formats = decoder
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .map_err(err)?
        .unwrap_or_else(|| vec![1]);
    let (bits0, format0) = (bits.first().copied(), formats.first().copied());
    if bits.iter().any(|&b| Some(b) != bits0) || formats.iter().any(|&f| Some(f) != format0) {
        return Err(invalid("bands of different sample types".into()));
    }
    let data_type = match (format0.unwrap_or(1), bits0.unwrap_or(1)) {
        (1, 8) => DataType::U8,
        (1, 16) => DataType::U16,
        (2, 16) => DataType::I16,
        (1, 32) => DataType::U32,
        (3, 32) => DataType::F32,
        (f, b) => {
            let kind = match f {
                1 => "unsigned",
                2 => "signed",
                3 => "float",
                _ => "unknown-format",
            };
            return Err(invalid(format!(
                "{b}-bit {kind} samples are not supported (only u8, u16, i16, u32, f32)"
            )));
        }
    };
    Ok((samples, data_type))
}

/// The width and height of a strip or tile of an image of `width` × `height` pixels.
fn chunk_size<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    path: &Path,
    tiled: bool,
    width: usize,
    height: usize,
) -> Result<(usize, usize)> {
    let err = |e| tiff_error(path, e);
    let invalid = |reason: String| Error::InvalidTiff {
        path: path.to_path_buf(),
        reason,
    };
    let (chunk_w, chunk_h) = if tiled {
        let tw = decoder
            .find_tag_unsigned::<u32>(Tag::TileWidth)
            .map_err(err)?;
        let th = decoder
            .find_tag_unsigned::<u32>(Tag::TileLength)
            .map_err(err)?;
        (tw.unwrap_or(0) as usize, th.unwrap_or(0) as usize)
    } else {
        let rps = decoder
            .find_tag_unsigned::<u32>(Tag::RowsPerStrip)
            .map_err(err)?
            .unwrap_or(height as u32);
        (width, (rps as usize).min(height))
    };
    if chunk_w == 0 || chunk_h == 0 {
        return Err(invalid("zero strip or tile size".into()));
    }
    Ok((chunk_w, chunk_h))
}

/// The georeference from the GeoTIFF tags and keys, and the GDAL nodata value.
fn georeference<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    path: &Path,
) -> Result<(Option<GeoReference>, Option<f64>)> {
    let err = |e| tiff_error(path, e);
    let f64s = |d: &mut Decoder<R>, tag: u16| -> Result<Option<Vec<f64>>> {
        Ok(d.find_tag(Tag::Unknown(tag))
            .map_err(err)?
            .and_then(|v| v.into_f64_vec().ok()))
    };
    let scale = f64s(decoder, geokeys::TAG_MODEL_PIXEL_SCALE)?;
    let tiepoints = f64s(decoder, geokeys::TAG_MODEL_TIEPOINT)?;
    let matrix = f64s(decoder, geokeys::TAG_MODEL_TRANSFORMATION)?;
    let key_doubles = f64s(decoder, super::crs_keys::TAG_GEO_DOUBLE_PARAMS)?;
    let key_text = decoder
        .find_tag(Tag::Unknown(super::crs_keys::TAG_GEO_ASCII_PARAMS))
        .map_err(err)?
        .and_then(|v| v.into_string().ok());
    let keys = decoder
        .find_tag(Tag::Unknown(geokeys::TAG_GEO_KEY_DIRECTORY))
        .map_err(err)?
        .and_then(|v| v.into_u16_vec().ok())
        .map(|dir| {
            geokeys::parse_geo_keys(
                &dir,
                key_doubles.as_deref().unwrap_or(&[]),
                key_text.as_deref().unwrap_or(""),
            )
        })
        .unwrap_or(GeoKeys::default());
    let transform = geokeys::transform_from_tags(
        scale.as_deref(),
        tiepoints.as_deref(),
        matrix.as_deref(),
        keys.pixel_is_point,
    );
    let nodata = decoder
        .find_tag(Tag::Unknown(geokeys::TAG_GDAL_NODATA))
        .map_err(err)?
        .and_then(|v| v.into_string().ok())
        .and_then(|s| geokeys::parse_nodata(&s));
    Ok((geokeys::georef(transform, keys), nodata))
}

/// The PhotometricInterpretation tag and, for JPEG, the JPEGTables tag. YCbCr samples are
/// refused unless JPEG-compressed (the JPEG decoder converts them to RGB; raw YCbCr would be
/// read as if it were RGB).
fn photometric_and_tables<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    path: &Path,
    compression: u16,
) -> Result<(u16, Option<std::sync::Arc<[u8]>>)> {
    let err = |e| tiff_error(path, e);
    let photometric = decoder
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .map_err(err)?
        .unwrap_or(1);
    if photometric == 6 && compression != 7 {
        return Err(Error::InvalidTiff {
            path: path.to_path_buf(),
            reason: format!(
                "YCbCr samples are supported only JPEG-compressed (compression {compression})"
            ),
        });
    }
    let tables = match compression {
        7 => decoder
            .find_tag(Tag::JPEGTables)
            .map_err(err)?
            .map(|v| v.into_u8_vec().map_err(err))
            .transpose()?
            .map(Into::into),
        _ => None,
    };
    Ok((photometric, tables))
}

/// The file offset and byte count of every chunk, `[across, down, planes]` of them.
fn chunk_index<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    path: &Path,
    tiled: bool,
    [across, down, planes]: [usize; 3],
) -> Result<(Vec<u64>, Vec<u64>)> {
    let err = |e| tiff_error(path, e);
    let invalid = |reason: String| Error::InvalidTiff {
        path: path.to_path_buf(),
        reason,
    };
    let (offset_tag, count_tag) = if tiled {
        (Tag::TileOffsets, Tag::TileByteCounts)
    } else {
        (Tag::StripOffsets, Tag::StripByteCounts)
    };
    let offsets = decoder
        .find_tag_unsigned_vec::<u64>(offset_tag)
        .map_err(err)?
        .unwrap_or_default();
    let counts = decoder
        .find_tag_unsigned_vec::<u64>(count_tag)
        .map_err(err)?
        .unwrap_or_default();
    let chunks = across.checked_mul(down).and_then(|n| n.checked_mul(planes));
    if chunks != Some(offsets.len()) || offsets.len() != counts.len() {
        return Err(invalid(format!(
            "{} chunk offsets and {} byte counts for {across}×{down}×{planes} chunks",
            offsets.len(),
            counts.len()
        )));
    }
    Ok((offsets, counts))
}

/// An opened image: the decoder, what the header says and how chunks are laid out.
struct Source<R: Read + Seek> {
    decoder: Decoder<R>,
    path: PathBuf,
    info: GeoTiffInfo,
    /// Strip or tile width and height in pixels.
    chunk_w: usize,
    chunk_h: usize,
    /// Chunks per row and per column of one plane.
    across: usize,
    down: usize,
    /// File offset and byte count of every chunk.
    offsets: Vec<u64>,
    counts: Vec<u64>,
    coding: ChunkCoding,
    /// Length of the whole file, to refuse chunks past its end before reading them.
    file_len: u64,
    max_bytes: u64,
}

impl<R: Read + Seek> Source<R> {
    /// Opens the image in `reader` and reads its header: size, sample type, layout of the
    /// chunks, georeference and nodata, and where every chunk lies.
    fn open(reader: R, path: &Path, limits: &ReadLimits) -> Result<Self> {
        let err = |e| tiff_error(path, e);
        let mut tiff_limits = Limits::default();
        let cap = usize::try_from(limits.max_bytes).unwrap_or(usize::MAX);
        tiff_limits.decoding_buffer_size = cap;
        tiff_limits.intermediate_buffer_size = cap;
        tiff_limits.ifd_value_size = cap.min(64 << 20);
        let mut decoder = Decoder::new(reader).map_err(err)?.with_limits(tiff_limits);

        let (w, h) = decoder.dimensions().map_err(err)?;
        let (width, height) = (w as usize, h as usize);
        if width == 0 || height == 0 {
            return Err(Error::EmptyRaster { width, height });
        }
        let (samples, data_type) = sample_type(&mut decoder, path)?;
        let planar = decoder
            .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
            .map_err(err)?
            .unwrap_or(1)
            == 2;
        let tiled = decoder.get_chunk_type() == ChunkType::Tile;
        let (chunk_w, chunk_h) = chunk_size(&mut decoder, path, tiled, width, height)?;
        let (georef, nodata) = georeference(&mut decoder, path)?;
        let compression = decoder
            .find_tag_unsigned::<u16>(Tag::Compression)
            .map_err(err)?
            .unwrap_or(1);
        let predictor = decoder
            .find_tag_unsigned::<u16>(Tag::Predictor)
            .map_err(err)?
            .unwrap_or(1);
        let (photometric, jpeg_tables) = photometric_and_tables(&mut decoder, path, compression)?;
        let (across, down) = (width.div_ceil(chunk_w), height.div_ceil(chunk_h));
        let planes = if planar { usize::from(samples) } else { 1 };
        let (offsets, counts) = chunk_index(&mut decoder, path, tiled, [across, down, planes])?;
        let big_endian = decoder.byte_order() == ByteOrder::BigEndian;
        let file_len = decoder
            .inner()
            .seek(SeekFrom::End(0))
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;

        let info = GeoTiffInfo {
            width,
            height,
            band_count: usize::from(samples),
            data_type,
            georef,
            nodata,
            tiled,
            planar,
            block_rows: chunk_h,
        };
        Ok(Source {
            decoder,
            path: path.to_path_buf(),
            info,
            chunk_w,
            chunk_h,
            across,
            down,
            offsets,
            counts,
            coding: ChunkCoding {
                compression,
                predictor,
                sample_size: data_type.size(),
                big_endian,
                photometric,
                jpeg_tables,
            },
            file_len,
            max_bytes: limits.max_bytes,
        })
    }

    /// Reads the window of `width` × `height` pixels at (`col`, `row`), within `limits`.
    fn read(
        &mut self,
        col: usize,
        row: usize,
        width: usize,
        height: usize,
        limits: &ReadLimits,
    ) -> Result<GeoTiff> {
        let info = self.info;
        let fits = |start: usize, len: usize, total: usize| {
            len > 0 && start.checked_add(len).is_some_and(|end| end <= total)
        };
        if !fits(col, width, info.width) || !fits(row, height, info.height) {
            return Err(Error::InvalidParameter {
                name: "window".into(),
                value: format!("{width}×{height} at ({col}, {row})"),
                reason: format!("outside the {}×{} image", info.width, info.height),
            });
        }
        check_limits(
            &self.path,
            width,
            height,
            info.band_count,
            info.data_type,
            limits,
        )?;

        let pixels = width * height;
        let mut bands: Vec<BandData> = (0..info.band_count)
            .map(|_| zeroed(info.data_type, pixels))
            .collect();
        let pieces = self.pieces(col, row, width, height);
        self.read_pieces(&pieces, &mut bands)?;
        let georef = info.georef.map(|g| {
            let (x, y) = g.transform.apply(col as f64, row as f64);
            let mut c = g.transform.0;
            c[0] = x;
            c[3] = y;
            GeoReference {
                transform: GeoTransform(c),
                crs: g.crs,
            }
        });
        Ok(GeoTiff {
            width,
            height,
            bands,
            georef,
            nodata: info.nodata,
        })
    }

    /// Every chunk the window of `width` × `height` pixels at (`col`, `row`) touches, with
    /// the part of it that the window needs.
    fn pieces(&self, col: usize, row: usize, width: usize, height: usize) -> Vec<Piece> {
        let info = self.info;
        let spp = info.band_count;
        let planes = if info.planar { spp } else { 1 };
        let samples_in_chunk = if info.planar { 1 } else { spp };
        let per_plane = self.across * self.down;
        let mut pieces = Vec::new();
        for cy in row / self.chunk_h..=(row + height - 1) / self.chunk_h {
            for cx in col / self.chunk_w..=(col + width - 1) / self.chunk_w {
                let x0 = cx * self.chunk_w;
                let y0 = cy * self.chunk_h;
                let cw = self.chunk_w.min(info.width - x0);
                let ch = self.chunk_h.min(info.height - y0);
                let (ix0, ix1) = (x0.max(col), (x0 + cw).min(col + width));
                let (iy0, iy1) = (y0.max(row), (y0 + ch).min(row + height));
                // A tile's stream holds all its rows; a strip's ends at the image's bottom.
                let full_rows = if info.tiled { self.chunk_h } else { ch };
                for plane in 0..planes {
                    pieces.push(Piece {
                        index: plane * per_plane + cy * self.across + cx,
                        plane,
                        rows: iy1 - y0,
                        full_rows,
                        copy: Copy {
                            src_w: self.chunk_w,
                            spp: samples_in_chunk,
                            sample: 0,
                            src_x: ix0 - x0,
                            src_y: iy0 - y0,
                            dst_w: width,
                            dst_x: ix0 - col,
                            dst_y: iy0 - row,
                            w: ix1 - ix0,
                            h: iy1 - iy0,
                        },
                    });
                }
            }
        }
        pieces
    }

    /// Reads the chunks of `pieces` and copies their parts into the window's `bands`.
    /// Compressed bytes are read in file order; a batch of chunks is decoded in parallel,
    /// then copied into the window. A batch bounds the decoded bytes held at once.
    fn read_pieces(&mut self, pieces: &[Piece], bands: &mut [BandData]) -> Result<()> {
        let info = self.info;
        let samples_in_chunk = if info.planar { 1 } else { info.band_count };
        let batch = 4 * rayon::current_num_threads().max(1);
        for group in pieces.chunks(batch) {
            let raws = group
                .iter()
                .map(|p| self.read_chunk(p.index, p.rows, samples_in_chunk))
                .collect::<Result<Vec<_>>>()?;
            let coding = &self.coding;
            let row_samples = self.chunk_w * samples_in_chunk;
            let decoded: Vec<std::result::Result<Vec<u8>, String>> = raws
                .par_iter()
                .zip(group)
                .map(|(raw, p)| {
                    let shape = ChunkRows {
                        row_samples,
                        rows: p.rows,
                        full_rows: p.full_rows,
                        samples_per_pixel: samples_in_chunk,
                    };
                    codec::decode_chunk(raw, coding, &shape)
                        .map_err(|reason| format!("chunk {}: {reason}", p.index))
                })
                .collect();
            for (bytes, p) in decoded.into_iter().zip(group) {
                let bytes = bytes.map_err(|r| self.invalid(r))?;
                for s in 0..samples_in_chunk {
                    let band = if info.planar { p.plane } else { s };
                    let copy = Copy {
                        sample: s,
                        ..p.copy
                    };
                    copy_samples(&mut bands[band], &bytes, &copy);
                }
            }
        }
        Ok(())
    }

    fn invalid(&self, reason: String) -> Error {
        Error::InvalidTiff {
            path: self.path.clone(),
            reason,
        }
    }

    /// Reads the compressed bytes of chunk `index`, after checking that its first `rows`
    /// rows of `chunk_w` pixels of `spp` samples stay within the byte limit (tiles keep
    /// their padding columns; the copy skips them).
    fn read_chunk(&mut self, index: usize, rows: usize, spp: usize) -> Result<Vec<u8>> {
        let (offset, count) = (self.offsets[index], self.counts[index]);
        let row_samples = self.chunk_w * spp;
        let wanted = (row_samples as u64)
            .saturating_mul(rows as u64)
            .saturating_mul(self.coding.sample_size as u64);
        if wanted > self.max_bytes {
            return Err(Error::TooLarge {
                what: format!(
                    "{}: one strip or tile needs {wanted} bytes, over the limit of {}",
                    self.path.display(),
                    self.max_bytes
                ),
            });
        }
        if offset
            .checked_add(count)
            .is_none_or(|end| end > self.file_len)
        {
            return Err(self.invalid(format!(
                "chunk {index} ({count} bytes at offset {offset}) lies past the end of the \
                 {}-byte file: the file is truncated or corrupt",
                self.file_len
            )));
        }
        let reader = self.decoder.inner();
        let mut raw = Vec::with_capacity(count as usize);
        reader
            .seek(SeekFrom::Start(offset))
            .and_then(|_| reader.take(count).read_to_end(&mut raw))
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })?;
        if (raw.len() as u64) < count {
            return Err(self.invalid(format!("chunk {index} is truncated")));
        }
        Ok(raw)
    }
}

/// Refuses a read of `width × height × bands` samples beyond the limits, before allocating.
fn check_limits(
    path: &Path,
    width: usize,
    height: usize,
    bands: usize,
    data_type: DataType,
    limits: &ReadLimits,
) -> Result<()> {
    let pixels = (width as u64).saturating_mul(height as u64);
    if pixels > limits.max_pixels {
        return Err(Error::TooLarge {
            what: format!(
                "{}: {width}×{height} = {pixels} pixels exceeds the limit of {}",
                path.display(),
                limits.max_pixels
            ),
        });
    }
    let bytes = pixels
        .saturating_mul(bands as u64)
        .saturating_mul(data_type.size() as u64);
    if bytes > limits.max_bytes || usize::try_from(bytes).is_err() {
        return Err(Error::TooLarge {
            what: format!(
                "{}: {width}×{height}×{bands} samples of {data_type} need {bytes} bytes, \
                 over the limit of {}",
                path.display(),
                limits.max_bytes
            ),
        });
    }
    Ok(())
}

pub(crate) fn zeroed(t: DataType, n: usize) -> BandData {
    match t {
        DataType::U8 => BandData::U8(vec![0; n]),
        DataType::U16 => BandData::U16(vec![0; n]),
        DataType::I16 => BandData::I16(vec![0; n]),
        DataType::U32 => BandData::U32(vec![0; n]),
        DataType::F32 => BandData::F32(vec![0.0; n]),
    }
}

/// One chunk a window needs: its index, plane, the rows to decode (of the rows its stream
/// holds) and where they go.
struct Piece {
    index: usize,
    plane: usize,
    rows: usize,
    full_rows: usize,
    copy: Copy,
}

/// Where one sample of a decoded chunk goes in a band.
#[derive(Clone, Copy)]
struct Copy {
    /// Chunk width in pixels and samples per chunk pixel.
    src_w: usize,
    spp: usize,
    /// Which sample of each chunk pixel.
    sample: usize,
    /// First pixel to copy, in chunk coordinates.
    src_x: usize,
    src_y: usize,
    /// Band width and where the first pixel goes in it.
    dst_w: usize,
    dst_x: usize,
    dst_y: usize,
    /// Size of the copied rectangle.
    w: usize,
    h: usize,
}

fn copy_typed<T: std::marker::Copy>(dst: &mut [T], src: &[T], c: &Copy) {
    for y in 0..c.h {
        let s_row = ((c.src_y + y) * c.src_w + c.src_x) * c.spp + c.sample;
        let d_row = (c.dst_y + y) * c.dst_w + c.dst_x;
        let d = &mut dst[d_row..d_row + c.w];
        if c.spp == 1 {
            d.copy_from_slice(&src[s_row..s_row + c.w]);
        } else {
            for (x, out) in d.iter_mut().enumerate() {
                *out = src[s_row + x * c.spp];
            }
        }
    }
}

/// Copies one sample of a decoded chunk (native-endian bytes of the band's type) into a band.
fn copy_samples(dst: &mut BandData, src: &[u8], c: &Copy) {
    /// The bytes as `T`, in place when they are aligned for it (they come from the allocator,
    /// so they are), else copied.
    fn typed<T: bytemuck::Pod>(bytes: &[u8]) -> std::borrow::Cow<'_, [T]> {
        match bytemuck::try_cast_slice(bytes) {
            Ok(samples) => std::borrow::Cow::Borrowed(samples),
            Err(_) => std::borrow::Cow::Owned(bytemuck::pod_collect_to_vec(bytes)),
        }
    }
    match dst {
        BandData::U8(d) => copy_typed(d, src, c),
        BandData::U16(d) => copy_typed(d, &typed(src), c),
        BandData::I16(d) => copy_typed(d, &typed(src), c),
        BandData::U32(d) => copy_typed(d, &typed(src), c),
        BandData::F32(d) => copy_typed(d, &typed(src), c),
    }
}

with_setters!(ReadLimits {
    with_max_pixels => max_pixels: u64,
    with_max_bytes => max_bytes: u64,
});
