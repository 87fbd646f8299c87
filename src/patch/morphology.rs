//! Binary opening and closing of a change-code raster, per change type or over the change
//! mask as a whole, with a square or cross (plus-shaped) structuring element of odd size.
//!
//! The GPU kernels are `shaders/morphology.wgsl`; [`morphology`] is their CPU twin, pass for
//! pass, with integer logic only, so both give the same raster bit for bit.
//!
//! # Semantics
//!
//! A *class* is a set of codes treated as one binary mask: each patch code (1..=254) on its
//! own ([`MorphScope::PerType`]), or every patch code together ([`MorphScope::WholeMask`]).
//! Unchanged (0) and nodata (255) pixels belong to no class, and pixels outside the raster
//! count as background for erosion and dilation alike (scipy's `border_value=0`).
//!
//! * **Opening** (erosion, then dilation) of each class mask. The opened masks lie inside the
//!   original ones, so a pixel keeps its code when it lies in the opening of its class and
//!   becomes 0 otherwise; nodata stays nodata. Per type, a pixel of another type counts as
//!   background: where two types touch, each erodes at the shared border, and an opening never
//!   merges or recodes types.
//! * **Closing** (dilation, then erosion) of each class mask. Nonzero codes never change
//!   (nodata included); a 0 pixel inside the closing of a class is filled: per type with that
//!   class's code, and where the closings of several types cover it (a gap between two types)
//!   with the lowest of their codes; over the whole mask with the lowest patch code under the
//!   element centred on it. Because erosion sees outside pixels as background, nothing is
//!   filled within the element's radius of the raster border.
//!
//! Per-type closing handles the codes present in the raster in rounds of 32 (one bit each in
//! the dilated sets); real change rasters need one round.

use crate::backend::gpu::morphology::morphology_on_gpu;
use crate::backend::{Computed, Engine};
use crate::error::{Error, Result};
use crate::raster::Raster;
use rayon::prelude::*;

use super::is_background;

/// Largest structuring element side accepted.
pub const MAX_ELEMENT_SIZE: usize = 255;

/// Opening or closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MorphOp {
    /// Erosion then dilation: removes specks and strips narrower than the element.
    Open,
    /// Dilation then erosion: fills holes and gaps narrower than the element.
    Close,
}

/// The shape of a structuring element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElementShape {
    /// Every offset with |dx| and |dy| up to the radius.
    Square,
    /// The centre row and column only (a plus sign).
    Cross,
}

/// A square or cross structuring element of odd side, centred on the pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StructuringElement {
    shape: ElementShape,
    size: usize,
}

impl StructuringElement {
    /// A `size`×`size` square; `size` must be odd, 1..=[`MAX_ELEMENT_SIZE`].
    pub fn square(size: usize) -> Result<Self> {
        Self::new(ElementShape::Square, size)
    }

    /// A cross (plus sign) `size` pixels across; `size` must be odd, 1..=[`MAX_ELEMENT_SIZE`].
    pub fn cross(size: usize) -> Result<Self> {
        Self::new(ElementShape::Cross, size)
    }

    /// An element of `shape` and odd `size`, refusing even, zero or oversized ones.
    pub fn new(shape: ElementShape, size: usize) -> Result<Self> {
        if size.is_multiple_of(2) || size > MAX_ELEMENT_SIZE {
            return Err(Error::InvalidParameter {
                name: "structuring element size".into(),
                value: size.to_string(),
                reason: format!("must be odd, 1..={MAX_ELEMENT_SIZE}"),
            });
        }
        Ok(Self { shape, size })
    }

    /// The shape.
    pub fn shape(&self) -> ElementShape {
        self.shape
    }

    /// The side in pixels.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Half the side, rounded down.
    pub fn radius(&self) -> usize {
        self.size / 2
    }

    /// True when offset `(dx, dy)` (each within the radius) belongs to the element.
    pub fn contains(&self, dx: isize, dy: isize) -> bool {
        self.shape == ElementShape::Square || dx == 0 || dy == 0
    }

    /// The element's offsets, row by row.
    fn offsets(&self) -> Vec<(isize, isize)> {
        let r = self.radius() as isize;
        (-r..=r)
            .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
            .filter(|&(dx, dy)| self.contains(dx, dy))
            .collect()
    }
}

/// Which codes form one binary mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MorphScope {
    /// Each change type is its own mask; types never merge.
    #[default]
    PerType,
    /// Every patch code (not 0, not 255) forms one mask.
    WholeMask,
}

/// One morphological operation: what, with which element, over which masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Morphology {
    /// Opening or closing.
    pub op: MorphOp,
    /// The structuring element.
    pub element: StructuringElement,
    /// Per type or over the whole change mask.
    pub scope: MorphScope,
}

/// Classes of one round: `class_of[code]` (0 = no class) and, for closing, the code of each
/// class bit. Laid out as the kernels read it (slot 1 of the packed input).
#[derive(Clone)]
pub(crate) struct ClassTable {
    pub(crate) words: [u32; 256 + 32],
}

impl ClassTable {
    fn class_of(&self, code: u8) -> u32 {
        self.words[code as usize]
    }
    fn code_of_bit(&self, bit: u32) -> u8 {
        self.words[256 + bit as usize] as u8
    }
}

/// The class tables of `m` on `codes`, one per round.
pub(crate) fn class_tables(codes: &[u8], m: &Morphology) -> Vec<ClassTable> {
    let mut table = ClassTable {
        words: [0; 256 + 32],
    };
    let patch = (1u32..255).filter(|&c| !is_background(c as u8));
    match (m.op, m.scope) {
        (_, MorphScope::WholeMask) => {
            patch.for_each(|c| table.words[c as usize] = 1);
            vec![table]
        }
        (MorphOp::Open, MorphScope::PerType) => {
            patch.for_each(|c| table.words[c as usize] = c);
            vec![table]
        }
        (MorphOp::Close, MorphScope::PerType) => {
            let mut present = [false; 256];
            for &c in codes {
                present[c as usize] = true;
            }
            let present: Vec<u32> = patch.filter(|&c| present[c as usize]).collect();
            if present.is_empty() {
                return vec![table];
            }
            present
                .chunks(32)
                .map(|round| {
                    let mut t = table.clone();
                    for (bit, &c) in round.iter().enumerate() {
                        t.words[c as usize] = bit as u32 + 1;
                        t.words[256 + bit] = c;
                    }
                    t
                })
                .collect()
        }
    }
}

/// Checks that a raster's data matches its size and returns the pixel count.
pub(crate) fn check_raster(codes: &Raster<u8>) -> Result<usize> {
    let expected = codes
        .width
        .checked_mul(codes.height)
        .ok_or_else(|| Error::TooLarge {
            what: format!(
                "{}×{} pixels overflow the address space",
                codes.width, codes.height
            ),
        })?;
    if codes.data.len() != expected {
        return Err(Error::BandLength {
            band: 0,
            len: codes.data.len(),
            width: codes.width,
            height: codes.height,
            expected,
        });
    }
    Ok(expected)
}

/// The raster grid and element, as both passes of the CPU twin read them.
struct Grid<'a> {
    codes: &'a [u8],
    width: usize,
    height: usize,
    offsets: Vec<(isize, isize)>,
}

impl Grid<'_> {
    /// The in-raster pixels under the element centred on (x, y), as indices; `None` for each
    /// offset that falls outside.
    fn window(&self, x: usize, y: usize) -> impl Iterator<Item = Option<usize>> + '_ {
        self.offsets.iter().map(move |&(dx, dy)| {
            let (nx, ny) = (x as isize + dx, y as isize + dy);
            (nx >= 0 && ny >= 0 && (nx as usize) < self.width && (ny as usize) < self.height)
                .then(|| ny as usize * self.width + nx as usize)
        })
    }
}

/// Opening pass 1 (twin of `morph_erode_classes`). Classes of an opening are change codes,
/// so one byte a pixel holds them (the GPU kernel keeps words).
fn erode_classes(g: &Grid<'_>, t: &ClassTable, inter: &mut [u8]) {
    inter
        .par_chunks_mut(g.width)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                let c = t.class_of(g.codes[y * g.width + x]);
                let keep = c != 0
                    && g.window(x, y)
                        .all(|q| q.is_some_and(|q| t.class_of(g.codes[q]) == c));
                *out = if keep { c as u8 } else { 0 };
            }
        });
}

/// Closing pass 1 (twin of `morph_dilate_sets`).
fn dilate_sets(g: &Grid<'_>, t: &ClassTable, inter: &mut [u32]) {
    inter
        .par_chunks_mut(g.width)
        .enumerate()
        .for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                *out =
                    g.window(x, y)
                        .flatten()
                        .fold(0u32, |bits, q| match t.class_of(g.codes[q]) {
                            0 => bits,
                            k => bits | 1 << (k - 1),
                        });
            }
        });
}

/// Opening pass 2 for pixel (x, y) (twin of `open_code`).
fn open_code(g: &Grid<'_>, t: &ClassTable, inter: &[u8], x: usize, y: usize) -> u8 {
    let code = g.codes[y * g.width + x];
    let c = t.class_of(code);
    if c == 0 {
        return if code == crate::change::CHANGE_NODATA {
            code
        } else {
            0
        };
    }
    if g.window(x, y).flatten().any(|q| u32::from(inter[q]) == c) {
        code
    } else {
        0
    }
}

/// Closing pass 2 of one round for pixel (x, y) (twin of `close_code`).
fn close_code(
    g: &Grid<'_>,
    t: &ClassTable,
    whole: bool,
    inter: &[u32],
    (x, y): (usize, usize),
    previous: u8,
) -> u8 {
    let code = g.codes[y * g.width + x];
    if code != 0 {
        return code;
    }
    if previous != 0 {
        return previous;
    }
    let bits = g
        .window(x, y)
        .fold(u32::MAX, |bits, q| q.map_or(0, |q| bits & inter[q]));
    if bits == 0 {
        return 0;
    }
    if !whole {
        return t.code_of_bit(bits.trailing_zeros());
    }
    g.window(x, y)
        .flatten()
        .map(|q| g.codes[q])
        .filter(|&c| !is_background(c))
        .min()
        .unwrap_or(0)
}

/// Opening or closing of a change-code raster on the CPU (the twin of the GPU kernels; see the
/// module documentation for the semantics). Fails when the data does not match the size.
pub fn morphology(codes: &Raster<u8>, m: &Morphology) -> Result<Raster<u8>> {
    let n = check_raster(codes)?;
    let mut out = vec![0u8; n];
    if n > 0 {
        let g = Grid {
            codes: &codes.data,
            width: codes.width,
            height: codes.height,
            offsets: m.element.offsets(),
        };
        let whole = m.scope == MorphScope::WholeMask;
        let (mut inter8, mut inter32) = match m.op {
            MorphOp::Open => (vec![0u8; n], Vec::new()),
            MorphOp::Close => (Vec::new(), vec![0u32; n]),
        };
        for t in class_tables(&codes.data, m) {
            match m.op {
                MorphOp::Open => erode_classes(&g, &t, &mut inter8),
                MorphOp::Close => dilate_sets(&g, &t, &mut inter32),
            }
            out.par_chunks_mut(g.width)
                .enumerate()
                .for_each(|(y, row)| {
                    for (x, o) in row.iter_mut().enumerate() {
                        *o = match m.op {
                            MorphOp::Open => open_code(&g, &t, &inter8, x, y),
                            MorphOp::Close => close_code(&g, &t, whole, &inter32, (x, y), *o),
                        };
                    }
                });
        }
    }
    Ok(Raster {
        width: codes.width,
        height: codes.height,
        data: out,
        nodata: crate::change::CHANGE_NODATA,
        georef: codes.georef,
    })
}

/// [`Engine::morphology`]: on the GPU ([`crate::backend::gpu::morphology`]) or by
/// [`morphology`], which give the same raster.
pub(crate) fn compute(
    engine: &Engine,
    codes: &Raster<u8>,
    op: MorphOp,
    element: StructuringElement,
    scope: MorphScope,
) -> Result<Computed<Raster<u8>>> {
    check_raster(codes)?;
    let m = Morphology { op, element, scope };
    let computed = engine.gpu_or_cpu(
        &mut (),
        |gpu, _| {
            morphology_on_gpu(gpu, codes, &m).map(|data| {
                Ok(Raster {
                    data,
                    nodata: crate::change::CHANGE_NODATA,
                    ..*codes
                })
            })
        },
        |_| morphology(codes, &m),
    );
    Ok(Computed {
        output: computed.output?,
        execution: computed.execution,
    })
}
