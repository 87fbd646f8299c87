//! Cloud-Optimized GeoTIFF: the full-resolution image and its overviews in one file, laid
//! out as GDAL's COG driver lays them out and `validate_cloud_optimized_geotiff.py` checks:
//!
//! 1. the header, then GDAL's "ghost" structural metadata (`LAYOUT=IFDS_BEFORE_DATA`,
//!    `BLOCK_ORDER=ROW_MAJOR`, `BLOCK_LEADER=SIZE_AS_UINT4`,
//!    `BLOCK_TRAILER=LAST_4_BYTES_REPEATED`), so that GDAL reports `LAYOUT=COG`;
//! 2. every IFD, full resolution first, then the overviews from the largest down
//!    (NewSubfileType 1), each followed by its tag values;
//! 3. the tiles: the smallest overview first, the full resolution last, row-major within
//!    a level, each tile preceded by its size (u32) and followed by its last 4 bytes again.
//!
//! Rows arrive a row of tiles at a time, from memory or streamed. Each level is made from
//! the rows of the level above as they arrive (nearest neighbour, GDAL's rule: see
//! [`Overviews::Nearest`](super::Overviews::Nearest)), so memory holds one row of tiles per
//! level, never the image. Tiles are compressed as soon as their row is complete and
//! appended to a spill file (unlinked at once on Unix); since the IFDs, which come first,
//! need every tile's offset and size, the file is assembled from the spill at the end, one
//! more pass over the compressed bytes only.

use super::{Plan, Slab, encode_row};
use crate::error::{Error, Result};
use crate::io::atomic::{
    create_locked, io_err, register_in_flight, temp_path, unregister_in_flight, write_atomically,
};
use crate::io::geokeys;
use crate::io::sample::GeoTiffSample;
use crate::raster::DataType;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// GDAL's structural metadata, read from just after the header.
const GHOST: &str = "LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\n\
                     BLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n";

/// Writes `path` atomically as a COG, taking each row of full-resolution tiles from
/// `next_slab(ty)` in order.
pub(super) fn write<T: GeoTiffSample>(
    path: &Path,
    plan: &Plan,
    mut next_slab: impl FnMut(usize) -> std::io::Result<Slab<T>>,
) -> Result<()> {
    let spill = Spill::create(path).map_err(io_err(path))?;
    let mut pyramid = Pyramid::new(plan, spill);
    for ty in 0..plan.height.div_ceil(plan.tile) {
        let slab = next_slab(ty).map_err(io_err(path))?;
        pyramid.row_of_tiles(0, ty, &slab).map_err(io_err(path))?;
    }
    let Pyramid {
        plans,
        tiles,
        mut spill,
        ..
    } = pyramid;
    let layout = Layout::new::<T>(&plans, &tiles)?;
    let written = spill.flushed().map_err(io_err(path)).and_then(|file| {
        write_atomically(path, |w| {
            layout.write(w, &tiles, file).map_err(io_err(path))
        })
    });
    drop(spill);
    written
}

/// The levels of `plan`: the full resolution, then each overview, ⌈half⌉ the size of the
/// level before, while the level before is larger than a tile on a side (gdaladdo's
/// default levels and the COG driver's, for 256-pixel tiles).
pub(super) fn levels(plan: &Plan) -> Vec<Plan> {
    let mut plans = vec![*plan];
    if plan.overviews == super::Overviews::None {
        return plans;
    }
    let mut factor = 1;
    while plans
        .last()
        .is_some_and(|p| p.width > plan.tile || p.height > plan.tile)
    {
        factor *= 2;
        plans.push(Plan {
            width: plan.width.div_ceil(factor),
            height: plan.height.div_ceil(factor),
            ..*plan
        });
    }
    plans
}

/// The row (column) of a level of `from` rows that row `i` of the next level, of `to`
/// rows, takes: GDAL's nearest rule, in the same floating-point arithmetic.
pub(super) fn nearest(i: usize, from: usize, to: usize) -> usize {
    let ratio = from as f64 / to as f64;
    ((0.5 + i as f64 * ratio) as usize).min(from - 1)
}

/// The levels as their rows arrive.
struct Pyramid<T> {
    plans: Vec<Plan>,
    /// The column each column of a level takes from the level before (empty for level 0).
    cols: Vec<Vec<usize>>,
    /// The rows of each level's current row of tiles, per band.
    pending: Vec<Slab<T>>,
    /// Rows made of each level.
    rows: Vec<usize>,
    /// Where each level's tiles are in the spill (offset, length), row-major.
    tiles: Vec<Vec<(u64, u64)>>,
    spill: Spill,
    predictor: bool,
}

impl<T: GeoTiffSample> Pyramid<T> {
    fn new(plan: &Plan, spill: Spill) -> Pyramid<T> {
        let plans = levels(plan);
        let cols = (0..plans.len())
            .map(|k| match k {
                0 => Vec::new(),
                _ => (0..plans[k].width)
                    .map(|i| nearest(i, plans[k - 1].width, plans[k].width))
                    .collect(),
            })
            .collect();
        let n = plans.len();
        Pyramid {
            cols,
            pending: vec![vec![Vec::new(); plan.bands]; n],
            rows: vec![0; n],
            tiles: vec![Vec::new(); n],
            spill,
            predictor: plan.compress && T::INTEGER,
            plans,
        }
    }

    /// Compresses the complete row of tiles `ty` of level `k` into the spill, and hands its
    /// rows to the next level.
    fn row_of_tiles(&mut self, k: usize, ty: usize, slab: &Slab<T>) -> std::io::Result<()> {
        for bytes in encode_row(&self.plans[k], slab, self.predictor)? {
            let at = self.spill.append(&bytes)?;
            self.tiles[k].push((at, bytes.len() as u64));
        }
        match k + 1 < self.plans.len() {
            true => self.take_rows(k + 1, ty * self.plans[k].tile, slab),
            false => Ok(()),
        }
    }

    /// Takes the rows of level `k` that come from the rows of level `k − 1` in `slab`, whose
    /// first row is row `first`; completes level `k`'s rows of tiles as they fill.
    fn take_rows(&mut self, k: usize, first: usize, slab: &Slab<T>) -> std::io::Result<()> {
        let (src, dst) = (self.plans[k - 1], self.plans[k]);
        let n = slab.first().map_or(0, |b| b.len() / src.width);
        while self.rows[k] < dst.height {
            let r = nearest(self.rows[k], src.height, dst.height);
            if r >= first + n {
                break;
            }
            debug_assert!(r >= first, "rows are taken in order");
            for (band, pending) in slab.iter().zip(&mut self.pending[k]) {
                let row = &band[(r - first) * src.width..][..src.width];
                pending.extend(self.cols[k].iter().map(|&c| row[c]));
            }
            self.rows[k] += 1;
            if self.rows[k] == dst.height || self.rows[k].is_multiple_of(dst.tile) {
                let fresh = vec![Vec::new(); src.bands];
                let rows = std::mem::replace(&mut self.pending[k], fresh);
                self.row_of_tiles(k, (self.rows[k] - 1) / dst.tile, &rows)?;
            }
        }
        Ok(())
    }
}

/// Compressed tiles waiting for the file to be assembled: a temporary file next to the
/// output, locked like [`write_atomically`]'s (so that no other writer takes it for
/// abandoned), removed from its folder at once where the system allows (Unix), else when
/// dropped or, on a signal, by [`remove_in_flight`](crate::io::remove_in_flight).
struct Spill {
    file: BufWriter<File>,
    len: u64,
    /// The file's name while it has one.
    path: Option<PathBuf>,
}

impl Spill {
    fn create(next_to: &Path) -> std::io::Result<Spill> {
        let path = temp_path(next_to);
        let file = create_locked(&path)?;
        register_in_flight(&path);
        let mut spill = Spill {
            file: BufWriter::with_capacity(1 << 20, file),
            len: 0,
            path: Some(path),
        };
        if cfg!(unix) {
            spill.remove();
        }
        Ok(spill)
    }

    /// Appends `bytes`; returns where they start.
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<u64> {
        let at = self.len;
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(at)
    }

    /// The spill's file, flushed, for reading back.
    fn flushed(&mut self) -> std::io::Result<&mut File> {
        self.file.flush()?;
        Ok(self.file.get_mut())
    }

    fn remove(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(&path);
            unregister_in_flight(&path);
        }
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A tag's values, as TIFF types them.
enum Values {
    Short(Vec<u16>),
    Long(Vec<u32>),
    Long8(Vec<u64>),
    Double(Vec<f64>),
    Ascii(String),
}

impl Values {
    /// TIFF type code, count and little-endian bytes.
    fn encode(&self) -> (u16, u64, Vec<u8>) {
        fn le<V: Copy, const N: usize>(v: &[V], f: impl Fn(V) -> [u8; N]) -> Vec<u8> {
            v.iter().flat_map(|&x| f(x)).collect()
        }
        match self {
            Values::Short(v) => (3, v.len() as u64, le(v, u16::to_le_bytes)),
            Values::Long(v) => (4, v.len() as u64, le(v, u32::to_le_bytes)),
            Values::Long8(v) => (16, v.len() as u64, le(v, u64::to_le_bytes)),
            Values::Double(v) => (12, v.len() as u64, le(v, f64::to_le_bytes)),
            Values::Ascii(s) => {
                let mut bytes = s.as_bytes().to_vec();
                bytes.push(0);
                (2, bytes.len() as u64, bytes)
            }
        }
    }
}

/// One IFD's entries, by tag.
type Directory = Vec<(u16, Values)>;

/// An IFD at file offset `at`, pointing at the next one at `next` (0: none): the entry
/// table, then the values too long to sit in their entries, each on an even offset.
fn ifd_bytes(entries: &Directory, at: u64, next: u64, big: bool) -> Vec<u8> {
    let (count, entry, word) = if big { (8, 20, 8) } else { (2, 12, 4) };
    let table = (count + entries.len() * entry + word) as u64;
    let number = |v: u64, out: &mut Vec<u8>, width: usize| {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    };
    let mut out = Vec::new();
    let mut values = Vec::new();
    number(entries.len() as u64, &mut out, count);
    for (tag, v) in entries {
        let (ty, n, mut bytes) = v.encode();
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
        number(n, &mut out, word);
        if bytes.len() <= word {
            bytes.resize(word, 0);
            out.extend_from_slice(&bytes);
        } else {
            number(at + table + values.len() as u64, &mut out, word);
            values.extend_from_slice(&bytes);
            if values.len() % 2 == 1 {
                values.push(0);
            }
        }
    }
    number(next, &mut out, word);
    out.extend_from_slice(&values);
    out
}

/// The tags of level `k` of `plans`, with its tiles at `offsets` of sizes `counts`.
fn directory<T: GeoTiffSample>(
    plans: &[Plan],
    k: usize,
    offsets: Vec<u64>,
    counts: Vec<u64>,
) -> Result<Directory> {
    let plan = &plans[k];
    let spp = plan.bands;
    let (bits, format) = match T::DATA_TYPE {
        DataType::F32 => (32u16, 3u16),
        DataType::I16 => (16, 2),
        t => (t.size() as u16 * 8, 1),
    };
    let wide = |v: Vec<u64>| -> Result<Values> {
        if plan.big {
            return Ok(Values::Long8(v));
        }
        let narrow: std::result::Result<Vec<u32>, _> = v.into_iter().map(u32::try_from).collect();
        narrow.map(Values::Long).map_err(|_| Error::TooLarge {
            what: "the GeoTIFF passes 4 GiB; write it as BigTIFF".into(),
        })
    };
    let mut d: Directory = Vec::new();
    if k > 0 {
        d.push((254, Values::Long(vec![1])));
    }
    d.push((256, Values::Long(vec![plan.width as u32])));
    d.push((257, Values::Long(vec![plan.height as u32])));
    d.push((258, Values::Short(vec![bits; spp])));
    d.push((259, Values::Short(vec![if plan.compress { 8 } else { 1 }])));
    let photometric = if plan.legend.is_some() { 3 } else { 1 };
    d.push((262, Values::Short(vec![photometric])));
    d.push((277, Values::Short(vec![spp as u16])));
    d.push((284, Values::Short(vec![1])));
    if plan.compress && T::INTEGER {
        d.push((317, Values::Short(vec![2])));
    }
    if let Some(legend) = &plan.legend {
        d.push((320, Values::Short(legend.color_map())));
    }
    d.push((322, Values::Long(vec![plan.tile as u32])));
    d.push((323, Values::Long(vec![plan.tile as u32])));
    d.push((324, wide(offsets)?));
    d.push((325, wide(counts)?));
    if spp > 1 {
        d.push((338, Values::Short(vec![0; spp - 1])));
    }
    d.push((339, Values::Short(vec![format; spp])));
    if k == 0 {
        geo_tags(plan, &mut d);
    }
    if let Some(v) = plan.nodata {
        d.push((42113, Values::Ascii(geokeys::format_nodata(v))));
    }
    Ok(d)
}

/// The georeference tags of the full-resolution IFD, in tag order.
fn geo_tags(plan: &Plan, d: &mut Directory) {
    let Some(g) = &plan.georef else { return };
    match geokeys::tags_from_transform(&g.transform) {
        geokeys::ModelTags::ScaleTiepoint(scale, tiepoint) => {
            d.push((33550, Values::Double(scale.to_vec())));
            d.push((33922, Values::Double(tiepoint.to_vec())));
        }
        geokeys::ModelTags::Matrix(matrix) => d.push((34264, Values::Double(matrix.to_vec()))),
    }
    let keys = geokeys::build_geo_keys(g.crs.as_ref());
    d.push((34735, Values::Short(keys.directory)));
    if !keys.doubles.is_empty() {
        d.push((34736, Values::Double(keys.doubles)));
    }
    if !keys.ascii.is_empty() {
        d.push((34737, Values::Ascii(keys.ascii)));
    }
}

/// Where everything goes in the file.
struct Layout {
    big: bool,
    /// The IFDs, in file order, serialized.
    ifds: Vec<Vec<u8>>,
    /// Offset of the first IFD.
    first_ifd: u64,
}

impl Layout {
    /// Places the header, ghost and IFDs, then the tiles (smallest level first), and
    /// serializes the IFDs with the tiles' offsets.
    fn new<T: GeoTiffSample>(plans: &[Plan], tiles: &[Vec<(u64, u64)>]) -> Result<Layout> {
        let big = plans[0].big;
        let header = if big { 16 } else { 8 };
        let ghost = ghost().len() as u64;
        let first_ifd = (header + ghost).next_multiple_of(2);
        let counts = |k: usize| tiles[k].iter().map(|&(_, n)| n).collect::<Vec<_>>();
        // The IFDs' sizes do not depend on the offsets they hold: place them first.
        let mut at = vec![first_ifd];
        for k in 0..plans.len() {
            let d = directory::<T>(plans, k, vec![0; tiles[k].len()], counts(k))?;
            let len = ifd_bytes(&d, 0, 0, big).len() as u64;
            at.push(at[k] + len.next_multiple_of(2));
        }
        let mut offsets: Vec<Vec<u64>> = vec![Vec::new(); plans.len()];
        let mut cursor = at[plans.len()];
        for k in (0..plans.len()).rev() {
            for &(_, n) in &tiles[k] {
                offsets[k].push(cursor + 4);
                cursor += n + 8;
            }
        }
        let mut ifds = Vec::new();
        for (k, offsets) in offsets.into_iter().enumerate() {
            let next = if k + 1 < plans.len() { at[k + 1] } else { 0 };
            let d = directory::<T>(plans, k, offsets, counts(k))?;
            let mut bytes = ifd_bytes(&d, at[k], next, big);
            bytes.resize((at[k + 1] - at[k]) as usize, 0);
            ifds.push(bytes);
        }
        if !big && cursor > u64::from(u32::MAX) {
            return Err(Error::TooLarge {
                what: format!("a {cursor}-byte GeoTIFF needs BigTIFF"),
            });
        }
        Ok(Layout {
            big,
            ifds,
            first_ifd,
        })
    }

    /// Writes the file: header, ghost, IFDs, then the tiles copied from `spill`.
    fn write(
        &self,
        w: &mut impl Write,
        tiles: &[Vec<(u64, u64)>],
        spill: &mut File,
    ) -> std::io::Result<()> {
        let mut head = Vec::new();
        if self.big {
            head.extend_from_slice(b"II\x2b\x00\x08\x00\x00\x00");
            head.extend_from_slice(&self.first_ifd.to_le_bytes());
        } else {
            head.extend_from_slice(b"II\x2a\x00");
            head.extend_from_slice(&(self.first_ifd as u32).to_le_bytes());
        }
        head.extend_from_slice(ghost().as_bytes());
        head.resize(self.first_ifd as usize, 0);
        w.write_all(&head)?;
        for ifd in &self.ifds {
            w.write_all(ifd)?;
        }
        let mut buf = Vec::new();
        for level in tiles.iter().rev() {
            for &(at, n) in level {
                buf.resize(n as usize, 0);
                spill.seek(SeekFrom::Start(at))?;
                spill.read_exact(&mut buf)?;
                w.write_all(&(n as u32).to_le_bytes())?;
                w.write_all(&buf)?;
                w.write_all(&buf[buf.len().saturating_sub(4)..])?;
            }
        }
        Ok(())
    }
}

/// The ghost area: GDAL's structural metadata with its size.
fn ghost() -> String {
    format!(
        "GDAL_STRUCTURAL_METADATA_SIZE={:06} bytes\n{GHOST}",
        GHOST.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_matches_gdal_on_even_and_odd_sizes() {
        // gdaladdo -r nearest (GDAL 3.6) on 1001 columns: levels of 501 and 251.
        let l1: Vec<usize> = (0..501).map(|i| nearest(i, 1001, 501)).collect();
        assert_eq!(&l1[249..253], &[498, 500, 501, 503]);
        assert_eq!(l1[500], 999);
        assert_eq!(nearest(126, 501, 251), 251);
        assert!((0..4000).all(|i| nearest(i, 8000, 4000) == 2 * i));
    }

    #[test]
    fn ifd_values_go_inline_or_after_the_table() {
        let d: Directory = vec![
            (256, Values::Long(vec![7])),
            (258, Values::Short(vec![8, 8, 8])),
        ];
        let bytes = ifd_bytes(&d, 100, 0, false);
        // 2 + 2×12 + 4 = 30 bytes of table, then 6 bytes of values.
        assert_eq!(bytes.len(), 36);
        assert_eq!(&bytes[10..14], &7u32.to_le_bytes());
        assert_eq!(&bytes[22..26], &130u32.to_le_bytes());
        assert_eq!(&bytes[30..], &[8, 0, 8, 0, 8, 0]);
    }
}
