//! GeoTIFF writing: tiled (256 × 256 by default), deflate-compressed with the horizontal
//! predictor for integer types, pixel-interleaved, with the transform (ModelPixelScale +
//! ModelTiepoint for north-up grids, ModelTransformation otherwise), a GeoKeyDirectory with
//! the EPSG code and GDAL_NODATA. Switches to BigTIFF when the output could pass 4 GiB.
//! Files are written atomically.
//!
//! With [`Overviews::Nearest`] or a [`Legend`] the file is written cloud-optimized (see
//! `cog`): internal overviews, a colour table, the IFDs before the data, and the category
//! names in a GDAL `.aux.xml` side-car.

mod cog;
mod legend;

pub use legend::{Legend, side_car_paths};

use crate::error::{Error, Result};
use crate::io::atomic::write_atomically;
use crate::io::geokeys;
use crate::io::geotiff::{GeoTiff, tiff_error};
use crate::io::sample::GeoTiffSample;
use crate::raster::{BandData, BandStack, DataType, GeoReference, Raster};
use rayon::prelude::*;
use std::io::{Seek, Write};
use std::path::Path;
use tiff::encoder::{DirectoryEncoder, TiffEncoder, TiffKind};
use tiff::tags::Tag;

/// When to write BigTIFF instead of classic TIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BigTiff {
    /// BigTIFF when the uncompressed size could exceed what 32-bit offsets address.
    #[default]
    Auto,
    /// Always BigTIFF.
    Always,
    /// Never BigTIFF (fails if the file would pass 4 GiB).
    Never,
}

/// How to encode a GeoTIFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// Tile width and height in pixels: a positive multiple of 16.
    pub tile_size: u32,
    /// Deflate compression (with the horizontal predictor for integer types).
    pub compress: bool,
    /// Deflate level, 1 (fastest) to 9 (smallest); GDAL's default is 6.
    pub deflate_level: u32,
    /// Classic TIFF or BigTIFF.
    pub bigtiff: BigTiff,
    /// Reduced-resolution copies of the image inside the file. With overviews the file is
    /// laid out as a Cloud-Optimized GeoTIFF.
    pub overviews: Overviews,
    /// The colour table and category names of a single-band u8 raster of codes (written
    /// cloud-optimized, with the names in a `.aux.xml` side-car: see [`Legend`]).
    pub legend: Option<Legend>,
}

/// Which reduced-resolution copies (overviews) a GeoTIFF carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overviews {
    /// None.
    #[default]
    None,
    /// Levels 2, 4, 8, … (each ⌈half⌉ the size of the one before, added while the one
    /// before is larger than a tile on a side), each picked by nearest neighbour from the
    /// one before exactly as GDAL's `gdaladdo -r nearest` does: row (column) `i` of a level
    /// of `n` rows is row `⌊0.5 + i·m/n⌋` of the level of `m` rows before it. Nearest keeps
    /// codes intact (no averaged, meaningless codes) and is GDAL's choice for paletted COGs.
    /// The file is laid out cloud-optimized: IFDs first, overview tiles smallest first, the
    /// full-resolution tiles last, each tile with GDAL's size leader and trailer.
    Nearest,
}

impl Default for WriteOptions {
    /// 256 × 256 tiles, deflate level 6, BigTIFF only when needed, no overviews or legend.
    fn default() -> Self {
        WriteOptions {
            tile_size: 256,
            compress: true,
            deflate_level: 6,
            bigtiff: BigTiff::Auto,
            overviews: Overviews::None,
            legend: None,
        }
    }
}

/// Classic TIFF offsets stop at 4 GiB; keep a margin for tags and deflate overhead.
const CLASSIC_LIMIT: u64 = (4 << 30) - (64 << 20);

/// Writes a single-band raster with its georeference and nodata value, default options.
pub fn write_geotiff<T: GeoTiffSample>(path: impl AsRef<Path>, raster: &Raster<T>) -> Result<()> {
    write_geotiff_with(path, raster, &WriteOptions::default())
}

/// Writes a single-band raster with explicit [`WriteOptions`].
pub fn write_geotiff_with<T: GeoTiffSample>(
    path: impl AsRef<Path>,
    raster: &Raster<T>,
    options: &WriteOptions,
) -> Result<()> {
    write_typed(
        path.as_ref(),
        raster.width,
        raster.height,
        &[&raster.data],
        raster.georef.as_ref(),
        Some(raster.nodata.to_f64()),
        options,
    )
}

/// Writes a decoded [`GeoTiff`] (all bands, georeference, nodata).
pub fn write_image(path: impl AsRef<Path>, image: &GeoTiff, options: &WriteOptions) -> Result<()> {
    write_bands(
        path,
        image.width,
        image.height,
        &image.bands,
        image.georef.as_ref(),
        image.nodata,
        options,
    )
}

/// Writes every band of a stack, in stack order, with its georeference. The bands must
/// share one sample type and one nodata value (GeoTIFF stores a single nodata per file).
pub fn write_stack(
    path: impl AsRef<Path>,
    stack: &BandStack,
    options: &WriteOptions,
) -> Result<()> {
    let bands = stack.bands();
    let nodata = bands.first().and_then(|b| b.nodata);
    let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
        (None, None) => true,
        _ => false,
    };
    if let Some(i) = bands.iter().position(|b| !same(b.nodata, nodata)) {
        return Err(Error::InvalidParameter {
            name: "nodata".into(),
            value: format!(
                "{} (band {i}) vs {} (band 0)",
                nodata_text(bands[i].nodata),
                nodata_text(nodata)
            ),
            reason: "a GeoTIFF holds one nodata value for all bands".into(),
        });
    }
    let data: Vec<BandData> = bands.iter().map(|b| b.data.clone()).collect();
    write_bands(
        path,
        stack.width(),
        stack.height(),
        &data,
        stack.georef.as_ref(),
        nodata,
        options,
    )
}

/// Writes bands of one sample type as a multi-band GeoTIFF.
pub fn write_bands(
    path: impl AsRef<Path>,
    width: usize,
    height: usize,
    bands: &[BandData],
    georef: Option<&GeoReference>,
    nodata: Option<f64>,
    options: &WriteOptions,
) -> Result<()> {
    fn typed<T: GeoTiffSample>(bands: &[BandData]) -> Result<Vec<&[T]>> {
        bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                T::slice(b).ok_or_else(|| Error::InvalidParameter {
                    name: "bands".into(),
                    value: format!("band {i} is {}", b.data_type()),
                    reason: format!("band 0 is {}; a GeoTIFF has one sample type", T::DATA_TYPE),
                })
            })
            .collect()
    }
    let path = path.as_ref();
    let first = bands.first().ok_or(Error::EmptyRaster { width, height })?;
    match first {
        BandData::U8(_) => write_typed(
            path,
            width,
            height,
            &typed::<u8>(bands)?,
            georef,
            nodata,
            options,
        ),
        BandData::U16(_) => write_typed(
            path,
            width,
            height,
            &typed::<u16>(bands)?,
            georef,
            nodata,
            options,
        ),
        BandData::I16(_) => write_typed(
            path,
            width,
            height,
            &typed::<i16>(bands)?,
            georef,
            nodata,
            options,
        ),
        BandData::U32(_) => write_typed(
            path,
            width,
            height,
            &typed::<u32>(bands)?,
            georef,
            nodata,
            options,
        ),
        BandData::F32(_) => write_typed(
            path,
            width,
            height,
            &typed::<f32>(bands)?,
            georef,
            nodata,
            options,
        ),
    }
}

/// What every encoder call needs, gathered once.
#[derive(Debug, Clone, Copy)]
struct Plan {
    width: usize,
    height: usize,
    bands: usize,
    georef: Option<GeoReference>,
    nodata: Option<f64>,
    tile: usize,
    compress: bool,
    level: u32,
    big: bool,
    overviews: Overviews,
    legend: Option<Legend>,
}

impl Plan {
    /// Checks the size, tiling and transform, and chooses classic TIFF or BigTIFF.
    fn new<T: GeoTiffSample>(
        width: usize,
        height: usize,
        bands: usize,
        georef: Option<&GeoReference>,
        nodata: Option<f64>,
        options: &WriteOptions,
    ) -> Result<Plan> {
        let invalid = |name: &str, value: String, reason: &str| Error::InvalidParameter {
            name: name.into(),
            value,
            reason: reason.into(),
        };
        if width == 0 || height == 0 || bands == 0 {
            return Err(Error::EmptyRaster { width, height });
        }
        if u32::try_from(width).is_err() || u32::try_from(height).is_err() {
            return Err(Error::TooLarge {
                what: format!("{width}×{height}: TIFF dimensions are limited to 2^32 − 1"),
            });
        }
        if bands > usize::from(u16::MAX) {
            return Err(Error::TooLarge {
                what: format!("{bands} bands: TIFF allows at most 65535"),
            });
        }
        if width.checked_mul(height).is_none() {
            return Err(Error::TooLarge {
                what: format!("{width}×{height} pixels overflow the address space"),
            });
        }
        if options.tile_size == 0 || !options.tile_size.is_multiple_of(16) {
            return Err(invalid(
                "tile_size",
                options.tile_size.to_string(),
                "tiles must be a positive multiple of 16 pixels",
            ));
        }
        if let Some(g) = georef
            && g.transform.0.iter().any(|v| !v.is_finite())
        {
            return Err(invalid(
                "transform",
                g.transform.to_string(),
                "coefficients must be finite",
            ));
        }
        if options.legend.is_some() && (bands != 1 || T::DATA_TYPE != DataType::U8) {
            return Err(invalid(
                "legend",
                format!("{bands} band(s) of {}", T::DATA_TYPE),
                "a colour table and category names are for a single band of u8 codes",
            ));
        }
        let tile = options.tile_size as usize;
        let across = width.div_ceil(tile) as u64;
        let down = height.div_ceil(tile) as u64;
        let mut estimate = (across * down)
            .saturating_mul((tile * tile) as u64)
            .saturating_mul(bands as u64 * T::DATA_TYPE.size() as u64);
        if options.overviews != Overviews::None {
            // The overviews add a third at most, and every tile 8 bytes of leader and trailer.
            estimate = estimate.saturating_add(estimate / 3 + across * down * 16);
        }
        let big = match options.bigtiff {
            BigTiff::Always => true,
            BigTiff::Never => false,
            BigTiff::Auto => estimate > CLASSIC_LIMIT,
        };
        Ok(Plan {
            width,
            height,
            bands,
            georef: georef.copied(),
            nodata,
            tile,
            compress: options.compress,
            level: options.deflate_level.clamp(1, 9),
            big,
            overviews: options.overviews,
            legend: options.legend,
        })
    }

    /// Whether the file is written cloud-optimized (overviews or a legend asked for).
    fn cloud_optimized(&self) -> bool {
        self.overviews != Overviews::None || self.legend.is_some()
    }

    /// Rows in tile row `ty`.
    fn rows_of(&self, ty: usize) -> usize {
        self.tile.min(self.height - ty * self.tile)
    }
}

/// The rows of one row of tiles, per band (`rows × width` samples each).
type Slab<T> = Vec<Vec<T>>;

fn write_typed<T: GeoTiffSample>(
    path: &Path,
    width: usize,
    height: usize,
    bands: &[&[T]],
    georef: Option<&GeoReference>,
    nodata: Option<f64>,
    options: &WriteOptions,
) -> Result<()> {
    let plan = Plan::new::<T>(width, height, bands.len(), georef, nodata, options)?;
    if let Some((band, b)) = bands
        .iter()
        .enumerate()
        .find(|(_, b)| b.len() != width * height)
    {
        return Err(Error::BandLength {
            band,
            len: b.len(),
            width,
            height,
            expected: width * height,
        });
    }
    write_slabs(path, &plan, |ty| {
        let start = ty * plan.tile * width;
        let end = start + plan.rows_of(ty) * width;
        Ok(bands.iter().map(|b| b[start..end].to_vec()).collect())
    })
}

/// Writes `path` atomically, taking each row of tiles from `next_slab(ty)` in order;
/// cloud-optimized with its legend's side-car when the plan asks for overviews or a legend.
fn write_slabs<T: GeoTiffSample>(
    path: &Path,
    plan: &Plan,
    next_slab: impl FnMut(usize) -> std::io::Result<Slab<T>>,
) -> Result<()> {
    if plan.cloud_optimized() {
        cog::write(path, plan, next_slab)?;
        return match &plan.legend {
            Some(legend) => legend.write_side_cars(path),
            None => Ok(()),
        };
    }
    write_atomically(path, |w| {
        let err = |e| tiff_error(path, e);
        if plan.big {
            let mut enc = TiffEncoder::new_big(w).map_err(err)?;
            let dir = enc.image_directory().map_err(err)?;
            encode(dir, plan, next_slab).map_err(err)
        } else {
            let mut enc = TiffEncoder::new(w).map_err(err)?;
            let dir = enc.image_directory().map_err(err)?;
            encode(dir, plan, next_slab).map_err(err)
        }
    })
}

/// A single-band GeoTIFF written strip by strip, top to bottom, so that a raster larger
/// than memory can be written as it is computed. Strips may have any number of rows; a
/// background thread compresses each completed row of tiles and appends it to a temporary
/// file, which [`GeoTiffStripWriter::finish`] renames into place. Dropped before `finish`,
/// it leaves no file behind. [`GeoTiffStripWriter::write_rows`] blocks while two strips wait;
/// it may be called from rayon tasks, since compression runs on a pool of its own (see
/// `encoder_pool`).
pub struct GeoTiffStripWriter<T: GeoTiffSample + 'static> {
    width: usize,
    height: usize,
    rows_written: usize,
    path: std::path::PathBuf,
    sender: Option<std::sync::mpsc::SyncSender<Vec<T>>>,
    worker: Option<std::thread::JoinHandle<Result<()>>>,
}

impl<T: GeoTiffSample + 'static> GeoTiffStripWriter<T> {
    /// Starts writing a `width × height` single-band raster to `path`.
    pub fn create(
        path: impl AsRef<Path>,
        width: usize,
        height: usize,
        georef: Option<&GeoReference>,
        nodata: Option<T>,
        options: &WriteOptions,
    ) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let plan = Plan::new::<T>(width, height, 1, georef, nodata.map(T::to_f64), options)?;
        // Two strips in flight at most: memory stays bounded when compression lags.
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<T>>(2);
        let worker_path = path.clone();
        let worker = std::thread::spawn(move || {
            let mut pending: Vec<T> = Vec::new();
            write_slabs(&worker_path, &plan, |ty| {
                let wanted = plan.rows_of(ty) * plan.width;
                while pending.len() < wanted {
                    let strip = receiver.recv().map_err(|_| {
                        std::io::Error::other("the writer was dropped before every row was written")
                    })?;
                    pending.extend_from_slice(&strip);
                }
                let rest = pending.split_off(wanted);
                Ok(vec![std::mem::replace(&mut pending, rest)])
            })
        });
        Ok(GeoTiffStripWriter {
            width,
            height,
            rows_written: 0,
            path,
            sender: Some(sender),
            worker: Some(worker),
        })
    }

    /// Appends the next rows (a whole number of rows of `width` samples).
    pub fn write_rows(&mut self, rows: &[T]) -> Result<()> {
        let n = rows.len() / self.width.max(1);
        if !rows.len().is_multiple_of(self.width.max(1)) || self.rows_written + n > self.height {
            return Err(Error::InvalidParameter {
                name: "rows".into(),
                value: format!("{} samples after {} rows", rows.len(), self.rows_written),
                reason: format!(
                    "strips must be whole rows of {} samples, {} rows in all",
                    self.width, self.height
                ),
            });
        }
        self.rows_written += n;
        let sent = self.sender.as_ref().map(|s| s.send(rows.to_vec()));
        if !matches!(sent, Some(Ok(()))) {
            // The worker stopped: its error says why.
            return Err(self.join().err().unwrap_or_else(|| Error::Io {
                path: self.path.clone(),
                source: std::io::Error::other("the GeoTIFF writer stopped early"),
            }));
        }
        Ok(())
    }

    /// Waits for the last tiles and renames the file into place.
    pub fn finish(mut self) -> Result<()> {
        if self.rows_written != self.height {
            return Err(Error::InvalidParameter {
                name: "rows".into(),
                value: self.rows_written.to_string(),
                reason: format!("{} rows were expected", self.height),
            });
        }
        self.join()
    }

    fn join(&mut self) -> Result<()> {
        self.sender = None;
        match self.worker.take().map(|w| w.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::Io {
                path: self.path.clone(),
                source: std::io::Error::other("the GeoTIFF writer thread panicked"),
            }),
            None => Ok(()),
        }
    }
}

/// The threads that compress GeoTIFF tiles, apart from rayon's global pool. A strip writer's
/// producer may be a global-pool task blocked on the writer's full channel; were compression
/// to wait for a global-pool worker, such tasks could hold every worker, or sit on the stack
/// under the very compression job they wait for, and nothing would drain the channel. Jobs on
/// this pool never wait on anything but each other. `None` when its threads cannot be
/// started: tiles are then compressed one at a time on the calling thread.
/// A nodata value for messages: the value, or "none".
fn nodata_text(nodata: Option<f64>) -> String {
    nodata.map_or_else(|| "none".into(), |v| v.to_string())
}

fn encoder_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("landwatch-encode-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

impl<T: GeoTiffSample + 'static> Drop for GeoTiffStripWriter<T> {
    fn drop(&mut self) {
        // Unfinished: the worker fails on the closed channel and removes its temporary file.
        let _ = self.join();
    }
}

/// Encodes the tiles and tags of one image into `dir`, a row of tiles at a time.
fn encode<W: Write + Seek, K: TiffKind, T: GeoTiffSample>(
    mut dir: DirectoryEncoder<'_, W, K>,
    plan: &Plan,
    mut next_slab: impl FnMut(usize) -> std::io::Result<Slab<T>>,
) -> tiff::TiffResult<()> {
    let tile = plan.tile;
    let big = plan.big;
    let across = plan.width.div_ceil(tile);
    let down = plan.height.div_ceil(tile);
    let spp = plan.bands;
    let predictor = plan.compress && T::INTEGER;
    let mut offsets = Vec::with_capacity(across * down);
    let mut counts = Vec::with_capacity(across * down);
    for ty in 0..down {
        // One row of tiles at a time: compressed in parallel, written in order.
        let slab = next_slab(ty)?;
        for bytes in encode_row(plan, &slab, predictor)? {
            offsets.push(dir.write_data(bytes.as_slice())?);
            counts.push(bytes.len() as u64);
        }
    }
    let spp16 = spp as u16;
    let (bits, format) = match T::DATA_TYPE {
        crate::raster::DataType::F32 => (32u16, 3u16),
        crate::raster::DataType::I16 => (16, 2),
        t => (t.size() as u16 * 8, 1),
    };
    dir.write_tag(Tag::ImageWidth, plan.width as u32)?;
    dir.write_tag(Tag::ImageLength, plan.height as u32)?;
    dir.write_tag(Tag::BitsPerSample, &vec![bits; spp][..])?;
    dir.write_tag(Tag::Compression, if plan.compress { 8u16 } else { 1u16 })?;
    dir.write_tag(Tag::PhotometricInterpretation, 1u16)?;
    dir.write_tag(Tag::SamplesPerPixel, spp16)?;
    dir.write_tag(Tag::PlanarConfiguration, 1u16)?;
    if predictor {
        dir.write_tag(Tag::Predictor, 2u16)?;
    }
    dir.write_tag(Tag::TileWidth, tile as u32)?;
    dir.write_tag(Tag::TileLength, tile as u32)?;
    if big {
        dir.write_tag(Tag::TileOffsets, offsets.as_slice())?;
        dir.write_tag(Tag::TileByteCounts, counts.as_slice())?;
    } else {
        let narrow = |v: &[u64]| -> tiff::TiffResult<Vec<u32>> {
            v.iter().map(|&o| Ok(u32::try_from(o)?)).collect()
        };
        dir.write_tag(Tag::TileOffsets, narrow(&offsets)?.as_slice())?;
        dir.write_tag(Tag::TileByteCounts, narrow(&counts)?.as_slice())?;
    }
    if spp > 1 {
        dir.write_tag(Tag::ExtraSamples, &vec![0u16; spp - 1][..])?;
    }
    dir.write_tag(Tag::SampleFormat, &vec![format; spp][..])?;
    if let Some(g) = &plan.georef {
        match geokeys::tags_from_transform(&g.transform) {
            geokeys::ModelTags::ScaleTiepoint(scale, tiepoint) => {
                dir.write_tag(Tag::ModelPixelScaleTag, &scale[..])?;
                dir.write_tag(Tag::ModelTiepointTag, &tiepoint[..])?;
            }
            geokeys::ModelTags::Matrix(matrix) => {
                dir.write_tag(Tag::ModelTransformationTag, &matrix[..])?
            }
        }
        let keys = geokeys::build_geo_keys(g.crs.as_ref());
        dir.write_tag(Tag::GeoKeyDirectoryTag, keys.directory.as_slice())?;
        if !keys.doubles.is_empty() {
            dir.write_tag(Tag::GeoDoubleParamsTag, keys.doubles.as_slice())?;
        }
        if !keys.ascii.is_empty() {
            dir.write_tag(Tag::GeoAsciiParamsTag, keys.ascii.as_str())?;
        }
    }
    if let Some(v) = plan.nodata {
        dir.write_tag(Tag::GdalNodata, geokeys::format_nodata(v).as_str())?;
    }
    dir.finish()
}

/// The tiles of one row of tiles `slab`, compressed in parallel on the encoder pool.
fn encode_row<T: GeoTiffSample>(
    plan: &Plan,
    slab: &[Vec<T>],
    predictor: bool,
) -> std::io::Result<Vec<Vec<u8>>> {
    let across = plan.width.div_ceil(plan.tile);
    let tiles = || -> std::io::Result<Vec<Vec<u8>>> {
        (0..across)
            .into_par_iter()
            .map(|tx| encode_tile(plan, slab, tx, predictor))
            .collect()
    };
    match encoder_pool() {
        Some(pool) => pool.install(tiles),
        None => (0..across)
            .map(|tx| encode_tile(plan, slab, tx, predictor))
            .collect(),
    }
}

/// One tile of a row of tiles, pixel-interleaved, padded with zeros, predicted and compressed.
fn encode_tile<T: GeoTiffSample>(
    plan: &Plan,
    slab: &[Vec<T>],
    tx: usize,
    predictor: bool,
) -> std::io::Result<Vec<u8>> {
    let tile = plan.tile;
    let spp = plan.bands;
    let x0 = tx * tile;
    let w = tile.min(plan.width - x0);
    let h = slab.first().map_or(0, |b| b.len() / plan.width);
    let mut buf: Vec<T> = vec![T::zeroed(); tile * tile * spp];
    for y in 0..h {
        let src = y * plan.width + x0;
        let row = &mut buf[y * tile * spp..(y + 1) * tile * spp];
        for (b, band) in slab.iter().enumerate() {
            for (x, &v) in band[src..src + w].iter().enumerate() {
                row[x * spp + b] = v;
            }
        }
        if predictor {
            for i in (spp..row.len()).rev() {
                row[i] = row[i].wrapping_sub(row[i - spp]);
            }
        }
    }
    let bytes: &[u8] = bytemuck::cast_slice(&buf);
    if !plan.compress {
        return Ok(bytes.to_vec());
    }
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        flate2::Compression::new(plan.level),
    );
    z.write_all(bytes)?;
    z.finish()
}

with_setters!(WriteOptions {
    with_tile_size => tile_size: u32,
    with_compress => compress: bool,
    with_deflate_level => deflate_level: u32,
    with_bigtiff => bigtiff: BigTiff,
    with_overviews => overviews: Overviews,
    with_legend => legend: Option<Legend>,
});
