//! Where one date's imagery comes from: a GeoTIFF file, a stack already in memory, one file
//! per band ([`crate::io::BandFilesSource`]), or
//! anything an embedder implements [`DateSource`] for (a tile server, a database, a
//! decoder of its own). The enforcement job reads its dates through this trait only: the
//! header first, for every check before work, then whole rows in strips.

use crate::error::Result;
use crate::io::align::{Window, crop_stack};
use crate::io::geotiff::{GeoTiffInfo, ReadLimits, read_info, read_window};
use crate::raster::{BandStack, DataType, GeoReference};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a date's header says: everything the job checks and plans from before it reads a
/// pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceInfo {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Bands per pixel.
    pub band_count: usize,
    /// Sample type of the bands (of the first band, when they differ).
    pub data_type: DataType,
    /// Transform and CRS; the job refuses imagery without both.
    pub georef: Option<GeoReference>,
    /// The nodata value (of the first band), when there is one.
    pub nodata: Option<f64>,
    /// Rows a read decodes together (a file's strip or tile height; 1 for memory): the job
    /// ends its strips on multiples of it when it chooses the strip height, for speed only.
    pub block_rows: usize,
}

impl From<GeoTiffInfo> for SourceInfo {
    fn from(info: GeoTiffInfo) -> SourceInfo {
        SourceInfo {
            width: info.width,
            height: info.height,
            band_count: info.band_count,
            data_type: info.data_type,
            georef: info.georef,
            nodata: info.nodata,
            block_rows: info.block_rows,
        }
    }
}

/// One date's imagery, as the enforcement job reads it: its header, then windows of whole
/// rows. Reads may come from several threads at once (both dates are read in parallel).
pub trait DateSource: Send + Sync {
    /// A name for messages and `summary.json`: a file's path as given, or a label.
    fn name(&self) -> String;

    /// The file the imagery is read from, when it is one: the job refuses to write an output
    /// over it, and titles its report with its file name.
    fn path(&self) -> Option<&Path> {
        None
    }

    /// Every file the imagery is read from (by default [`DateSource::path`], if any): the
    /// job refuses to write an output over any of them.
    fn input_files(&self) -> Vec<&Path> {
        self.path().into_iter().collect()
    }

    /// The header: size, georeference, bands, sample type, nodata.
    fn info(&self) -> Result<SourceInfo>;

    /// Rows `rows` (all columns) as a stack, bands in source order; the job gives them their
    /// roles and radiometry. The stack's georeference, if any, starts at its first row.
    fn read_rows(&self, rows: Range<usize>) -> Result<BandStack>;
}

/// A GeoTIFF file: windowed reads decode only the strips or tiles they touch.
#[derive(Debug)]
pub struct GeoTiffSource {
    path: PathBuf,
    /// The image's width as the last header read said (0 before any), so that a read of
    /// rows after [`DateSource::info`] does not parse the header again.
    width: AtomicUsize,
}

impl GeoTiffSource {
    /// The GeoTIFF at `path` (opened at each read; nothing is read here).
    pub fn new(path: impl Into<PathBuf>) -> GeoTiffSource {
        GeoTiffSource {
            path: path.into(),
            width: AtomicUsize::new(0),
        }
    }
}

impl DateSource for GeoTiffSource {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn info(&self) -> Result<SourceInfo> {
        let info = read_info(&self.path)?;
        self.width.store(info.width, Ordering::Relaxed);
        Ok(info.into())
    }

    fn read_rows(&self, rows: Range<usize>) -> Result<BandStack> {
        let width = match self.width.load(Ordering::Relaxed) {
            0 => self.info()?.width,
            w => w,
        };
        let image = read_window(
            &self.path,
            0,
            rows.start,
            width,
            rows.len(),
            &ReadLimits::default(),
        )?;
        image.into_stack(&[])
    }
}

/// A stack already in memory, under a name for messages and `summary.json`. Its bands'
/// nodata values and its georeference are kept; its roles and radiometry are replaced by the
/// job's band layout and radiometry, as for a file.
#[derive(Debug, Clone, PartialEq)]
pub struct MemorySource {
    name: String,
    stack: BandStack,
}

impl MemorySource {
    /// `stack` under the name `name`.
    pub fn new(name: impl Into<String>, stack: BandStack) -> MemorySource {
        MemorySource {
            name: name.into(),
            stack,
        }
    }

    /// The stack.
    pub fn stack(&self) -> &BandStack {
        &self.stack
    }
}

impl DateSource for MemorySource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn info(&self) -> Result<SourceInfo> {
        let first = self.stack.bands().first();
        Ok(SourceInfo {
            width: self.stack.width(),
            height: self.stack.height(),
            band_count: self.stack.bands().len(),
            data_type: first.map_or(DataType::U8, |b| b.data.data_type()),
            georef: self.stack.georef,
            nodata: first.and_then(|b| b.nodata),
            block_rows: 1,
        })
    }

    fn read_rows(&self, rows: Range<usize>) -> Result<BandStack> {
        let window = Window {
            col: 0,
            row: rows.start,
            width: self.stack.width(),
            height: rows.len(),
        };
        crop_stack(&self.stack, &window)
    }
}

/// A boxed source, so that [`crate::job::Job::from_sources`] takes `Box<dyn DateSource>`.
impl<S: DateSource + ?Sized> DateSource for Box<S> {
    fn name(&self) -> String {
        (**self).name()
    }

    fn path(&self) -> Option<&Path> {
        (**self).path()
    }

    fn input_files(&self) -> Vec<&Path> {
        (**self).input_files()
    }

    fn info(&self) -> Result<SourceInfo> {
        (**self).info()
    }

    fn read_rows(&self, rows: Range<usize>) -> Result<BandStack> {
        (**self).read_rows(rows)
    }
}
