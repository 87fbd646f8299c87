//! The region stage of change detection: cloud and shadow masks and hysteresis, over the
//! per-pixel pre-codes and flags of a whole scene.
//!
//! Rows arrive top to bottom, in strips of any height; the stage keeps only run-length rows
//! of each layer (module `runs`) and resolves every region with a union-find over runs, so its
//! memory scales with the number of runs, not of pixels. All connectivity is 8-connected,
//! and the result does not depend on how the rows were split.
//!
//! Input, per pixel:
//! - pre-code: 255 = nodata; otherwise bits 0-2 the change type and bits 3-4 the level
//!   (0 below the low threshold, 1 weak, 2 strong; 3 counts as strong);
//! - flags: bit 0 cloud core and bit 1 cloud growth candidate of date 1, bits 2 and 3 the
//!   same for date 2, bits 4 and 5 shadow candidate of dates 1 and 2, bits 6 and 7 haze
//!   candidate of dates 1 and 2. A core pixel counts as a growth pixel whether or not its
//!   growth bit is set.
//!
//! Per date: the core is eroded by a 3×3 square (a cloud's solid interior stays, roads and
//! roofs go), its components of at least `cloud_min_core_px` pixels are kept; a growth
//! component holding a pixel of a kept core is a cloud region; the cloud mask is the union
//! of the regions dilated by a `(2·cloud_dilation_px+1)²` square. A shadow candidate within
//! Chebyshev distance `shadow_distance_px` of a region's bounding box is kept, and the
//! shadow mask is the kept shadows dilated by a `(2·shadow_dilation_px+1)²` square. Haze
//! candidate components of at least `haze_min_px` pixels, dilated as clouds are, are the
//! haze mask. Pixels in
//! any mask of either date are masked. Unmasked valid pixels of level ≥ 1 are candidates,
//! and their components holding a strong pixel are kept (hysteresis).
//!
//! Final code: 255 for nodata or masked pixels, 0 for pixels outside kept components, and for
//! every pixel of a kept component the component's type, so that a region is one typed
//! patch. The type is voted in two steps over its candidates: the enforcement types 1..=4
//! together against "other change" (5), and when they have more pixels, the most common of
//! them, ties going to the lower code. (A component without any candidate of type 1..=5, which valid input never
//! has, keeps each pixel's own type bits.) The counts come from run overlaps of one
//! candidate layer per type, and `Regions` keeps one type per kept run.

mod runs;

use crate::error::{Error, Result};
use rayon::prelude::*;
use runs::{RowRuns, encode_row};

/// The nodata pre-code and final code.
const NODATA: u8 = 255;

/// Pre-code layers: nodata, candidate (level ≥ 1), strong (level ≥ 2), then the candidates of
/// each type 1..=5.
const PRE_LAYERS: usize = 3 + TYPES;
/// Change types that vote for a region's type: 1..=5.
const TYPES: usize = 5;
/// A kept run's type when its component has no candidate of type 1..=5: pixels keep their own.
const OWN_TYPE: u8 = 0;
/// Flag layers, in the flags' bit order: core, growth (date 1), core, growth (date 2),
/// shadow (date 1), shadow (date 2), haze (date 1), haze (date 2).
const FLAG_LAYERS: usize = 8;

/// Pixels of input a parallel task encodes at least.
const TASK_PX: usize = 1 << 18;

/// The layers a pre-code belongs to (bit i: layer i of [`PRE_LAYERS`]).
fn pre_class(p: u8) -> u8 {
    if p == NODATA {
        return 1;
    }
    let (level, kind) = ((p >> 3) & 3, p & 7);
    let typed = if level >= 1 && (1..=TYPES as u8).contains(&kind) {
        1 << (2 + kind)
    } else {
        0
    };
    (u8::from(level >= 1) << 1) | (u8::from(level >= 2) << 2) | typed
}

/// The layers a flags byte belongs to: its own bits 0-5, with core bits copied to growth.
fn flag_class(f: u8) -> u8 {
    f | ((f & 0b0101) << 1)
}

/// The parameters of the region stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionParams {
    /// Pixels a cloud core component needs to be kept.
    pub cloud_min_core_px: u64,
    /// Radius of the square that dilates the cloud regions.
    pub cloud_dilation_px: usize,
    /// How far from a cloud region's bounding box a shadow candidate is kept.
    pub shadow_distance_px: usize,
    /// Radius of the square that dilates the kept shadows.
    pub shadow_dilation_px: usize,
    /// Pixels a component of haze candidates needs to be masked (it is then dilated as a
    /// cloud is).
    pub haze_min_px: u64,
}

/// Pixel counts of a resolved scene; index 0 is date 1, index 1 date 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RegionStats {
    /// Valid pixels in each date's cloud mask.
    pub cloud_px: [u64; 2],
    /// Valid pixels in each date's shadow mask.
    pub shadow_px: [u64; 2],
    /// Valid pixels in each date's haze mask.
    pub haze_px: [u64; 2],
    /// Valid pixels in any mask.
    pub masked_px: u64,
    /// Valid (not nodata) pixels.
    pub valid_px: u64,
    /// Cloud regions of each date.
    pub cloud_regions: [u64; 2],
}

impl RegionStats {
    /// `px` as a share of the valid pixels (0 when there are none).
    pub fn share(&self, px: u64) -> f64 {
        if self.valid_px == 0 {
            0.0
        } else {
            px as f64 / self.valid_px as f64
        }
    }

    /// The masked shares of each date in percent, for people: "cloud 1.2% / 0.0%, shadow …,
    /// haze …", before / after.
    pub fn per_date(&self) -> String {
        let pct = |px: [u64; 2]| {
            format!(
                "{:.1}% / {:.1}%",
                100.0 * self.share(px[0]),
                100.0 * self.share(px[1])
            )
        };
        format!(
            "cloud {}, shadow {}, haze {}",
            pct(self.cloud_px),
            pct(self.shadow_px),
            pct(self.haze_px)
        )
    }
}

/// Collects the run-length layers of a scene, strip by strip.
#[derive(Debug, Clone)]
pub struct RegionBuilder {
    width: usize,
    height: usize,
    pre: [RowRuns; PRE_LAYERS],
    flags: [RowRuns; FLAG_LAYERS],
}

impl RegionBuilder {
    /// A builder for a `width × height` scene.
    pub fn new(width: usize, height: usize) -> Result<RegionBuilder> {
        if width == 0 || height == 0 {
            return Err(Error::EmptyRaster { width, height });
        }
        let w = u32::try_from(width)
            .ok()
            .filter(|_| u64::try_from(height).is_ok_and(|h| h.checked_mul(width as u64).is_some()))
            .ok_or_else(|| Error::TooLarge {
                what: format!(
                    "{width}×{height} pixels: the region stage takes at most 2³² − 1 columns \
                     and 2⁶⁴ − 1 pixels"
                ),
            })?;
        Ok(RegionBuilder {
            width,
            height,
            pre: std::array::from_fn(|_| RowRuns::new(w)),
            flags: std::array::from_fn(|_| RowRuns::new(w)),
        })
    }

    /// Rows added so far.
    fn rows(&self) -> usize {
        self.pre[0].height()
    }

    /// The next whole rows, top to bottom: pre-codes and flags, `rows × width` each.
    pub fn add_rows(&mut self, precodes: &[u8], flags: &[u8]) -> Result<()> {
        let w = self.width;
        let rows = precodes.len() / w;
        if precodes.len() != flags.len() || !precodes.len().is_multiple_of(w) {
            return Err(Error::InvalidParameter {
                name: "rows".into(),
                value: format!("{} pre-codes and {} flags", precodes.len(), flags.len()),
                reason: format!("both must hold the same whole rows of {w} pixels"),
            });
        }
        if rows > self.height - self.rows() {
            return Err(Error::InvalidParameter {
                name: "rows".into(),
                value: rows.to_string(),
                reason: format!("{} of {} rows were added already", self.rows(), self.height),
            });
        }
        let chunk = TASK_PX.div_ceil(w) * w;
        let width = self.pre[0].width();
        let parts: Vec<_> = precodes
            .par_chunks(chunk)
            .zip(flags.par_chunks(chunk))
            .map(|(p, f)| {
                let mut pre: [_; PRE_LAYERS] = std::array::from_fn(|_| RowRuns::new(width));
                let mut fl: [_; FLAG_LAYERS] = std::array::from_fn(|_| RowRuns::new(width));
                for (pr, fr) in p.chunks_exact(w).zip(f.chunks_exact(w)) {
                    encode_row(pr, 0x18, pre_class, &mut pre);
                    encode_row(fr, 0xff, flag_class, &mut fl);
                }
                (pre, fl)
            })
            .collect();
        for (pre, fl) in parts {
            for (layer, part) in self.pre.iter_mut().zip(&pre) {
                layer.append(part);
            }
            for (layer, part) in self.flags.iter_mut().zip(&fl) {
                layer.append(part);
            }
        }
        Ok(())
    }

    /// Runs held, all layers together.
    #[cfg(test)]
    fn run_count(&self) -> usize {
        self.pre.iter().chain(&self.flags).map(RowRuns::len).sum()
    }

    /// Heap bytes held, all layers together.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        self.pre
            .iter()
            .chain(&self.flags)
            .map(RowRuns::heap_bytes)
            .sum()
    }

    /// Resolves clouds, shadows and hysteresis once every row was added.
    pub fn finish(self, params: &RegionParams) -> Result<Regions> {
        if self.rows() != self.height {
            return Err(Error::InvalidParameter {
                name: "rows".into(),
                value: self.rows().to_string(),
                reason: format!("the scene has {} rows", self.height),
            });
        }
        let [nodata, candidate, strong, types @ ..] = self.pre;
        let [
            core1,
            growth1,
            core2,
            growth2,
            shadow1,
            shadow2,
            haze1,
            haze2,
        ] = self.flags;
        let date1 = DateMasks::resolve([&core1, &growth1, &shadow1, &haze1], params)?;
        let date2 = DateMasks::resolve([&core2, &growth2, &shadow2, &haze2], params)?;
        let masked = (date1.cloud.union(&date1.shadow).union(&date1.haze))
            .union(&date2.cloud.union(&date2.shadow).union(&date2.haze));
        // A strong or typed run meets an unmasked candidate only at unmasked pixels.
        let (kept, kinds) = hysteresis(&candidate.subtract(&masked), &strong, &types)?;
        let valid_in = |m: &RowRuns| m.pixels() - m.intersect(&nodata).pixels();
        let stats = RegionStats {
            cloud_px: [valid_in(&date1.cloud), valid_in(&date2.cloud)],
            shadow_px: [valid_in(&date1.shadow), valid_in(&date2.shadow)],
            haze_px: [valid_in(&date1.haze), valid_in(&date2.haze)],
            masked_px: valid_in(&masked),
            valid_px: (self.width as u64) * (self.height as u64) - nodata.pixels(),
            cloud_regions: [date1.regions, date2.regions],
        };
        Ok(Regions {
            width: self.width,
            height: self.height,
            masked,
            kept,
            kinds,
            stats,
        })
    }
}

/// The cloud, shadow and haze masks of one date.
struct DateMasks {
    cloud: RowRuns,
    shadow: RowRuns,
    haze: RowRuns,
    regions: u64,
}

/// The runs of the components of `layer` with at least `min_px` pixels.
fn large_components(layer: &RowRuns, min_px: u64) -> Result<RowRuns> {
    let root = layer.components()?;
    let mut px = vec![0u64; layer.len()];
    for (i, &r) in root.iter().enumerate() {
        let (s, e) = layer.run(i);
        px[r as usize] += u64::from(e - s);
    }
    Ok(layer.filter(|i| px[root[i] as usize] >= min_px))
}

impl DateMasks {
    /// The masks from the date's core, growth, shadow and haze candidate layers.
    fn resolve(
        [core, growth, shadow, haze]: [&RowRuns; 4],
        params: &RegionParams,
    ) -> Result<DateMasks> {
        // Only a core's solid interior counts: a road grid or a block of white roofs is thin.
        let core = &core.erode();
        let core_root = core.components()?;
        let mut core_px = vec![0u64; core.len()];
        for (i, &r) in core_root.iter().enumerate() {
            let (s, e) = core.run(i);
            core_px[r as usize] += u64::from(e - s);
        }
        let root = growth.components()?;
        let mut cloud = vec![false; growth.len()];
        core.overlaps(growth, |i, j| {
            if core_px[core_root[i] as usize] >= params.cloud_min_core_px {
                cloud[root[j] as usize] = true;
            }
        });
        drop(core_px);
        let in_cloud = |j: usize| cloud[root[j] as usize];
        // Column extent of each region, kept at its root run.
        let mut extent = vec![(u32::MAX, 0u32); growth.len()];
        for j in (0..growth.len()).filter(|&j| in_cloud(j)) {
            let (s, e) = growth.run(j);
            let x = &mut extent[root[j] as usize];
            *x = (x.0.min(s), x.1.max(e));
        }
        // A region has runs on every row of its box, so drawing its extent on the rows of
        // its runs fills the box.
        let boxes = RowRuns::build(growth.width(), growth.height(), |y, buf| {
            buf.extend(
                growth
                    .range(y)
                    .filter(|&j| in_cloud(j))
                    .map(|j| extent[root[j] as usize]),
            )
        });
        let near = boxes.dilate(params.shadow_distance_px);
        Ok(DateMasks {
            cloud: growth.filter(in_cloud).dilate(params.cloud_dilation_px),
            shadow: shadow.intersect(&near).dilate(params.shadow_dilation_px),
            haze: large_components(haze, params.haze_min_px)?.dilate(params.cloud_dilation_px),
            regions: (0..growth.len())
                .filter(|&j| root[j] as usize == j && cloud[j])
                .count() as u64,
        })
    }
}

/// The type of a kept region from its candidates' per-type counts (`n[t]`: type t + 1), in
/// two steps: the enforcement types 1..=4 together against "other change" (5), then, when
/// they have more pixels, the most common of them, ties to the lower code. [`OWN_TYPE`] when
/// no candidate has a type 1..=5.
fn region_type(n: &[u64; TYPES]) -> u8 {
    let enforcement = &n[..TYPES - 1];
    let total: u64 = enforcement.iter().sum();
    if total == 0 && n[TYPES - 1] == 0 {
        return OWN_TYPE;
    }
    if total <= n[TYPES - 1] {
        return TYPES as u8;
    }
    // Strictly more pixels wins, so a tie goes to the lower type.
    let best = (1..TYPES - 1).fold(0, |b, t| {
        if enforcement[t] > enforcement[b] {
            t
        } else {
            b
        }
    });
    best as u8 + 1
}

/// The candidate runs whose component holds a strong pixel, and the majority type of each
/// one's component (`types[t]`: the candidates of type t + 1; [`OWN_TYPE`] when it has none).
fn hysteresis(
    candidate: &RowRuns,
    strong: &RowRuns,
    types: &[RowRuns; TYPES],
) -> Result<(RowRuns, Vec<u8>)> {
    const COLD: u32 = u32::MAX;
    let root = candidate.components()?;
    // The index of a kept component's counts, at its root; fewer than u32::MAX runs.
    let mut slot = vec![COLD; candidate.len()];
    let mut counts: Vec<[u64; TYPES]> = Vec::new();
    strong.overlaps(candidate, |_, j| {
        let s = &mut slot[root[j] as usize];
        if *s == COLD {
            *s = counts.len() as u32;
            counts.push([0; TYPES]);
        }
    });
    for (t, layer) in types.iter().enumerate() {
        layer.overlaps(candidate, |i, j| {
            let s = slot[root[j] as usize];
            if s != COLD {
                let ((a, b), (c, d)) = (layer.run(i), candidate.run(j));
                counts[s as usize][t] += u64::from(b.min(d) - a.max(c));
            }
        });
    }
    let majority: Vec<u8> = counts.iter().map(region_type).collect();
    let slot_of = |j: usize| slot[root[j] as usize];
    let kinds = (0..candidate.len())
        .filter(|&j| slot_of(j) != COLD)
        .map(|j| majority[slot_of(j) as usize])
        .collect();
    // Runs of one row neither overlap nor touch, so the filter keeps them one for one.
    Ok((candidate.filter(|j| slot_of(j) != COLD), kinds))
}

/// The resolved regions of a scene: which pixels are masked, which candidates are kept and
/// with which type.
#[derive(Debug, Clone)]
pub struct Regions {
    width: usize,
    height: usize,
    masked: RowRuns,
    kept: RowRuns,
    /// The type written on each kept run, in raster order.
    kinds: Vec<u8>,
    stats: RegionStats,
}

impl Regions {
    /// Turns the pre-codes of rows `row..row + rows` into final codes, in place. Any row
    /// range, in any order; disjoint ranges may run in parallel.
    pub fn apply(&self, row: usize, precodes: &mut [u8]) -> Result<()> {
        let w = self.width;
        let rows = precodes.len() / w;
        if !precodes.len().is_multiple_of(w) || row > self.height || rows > self.height - row {
            return Err(Error::InvalidParameter {
                name: "rows".into(),
                value: format!("{} pre-codes from row {row}", precodes.len()),
                reason: format!(
                    "must be whole rows of {w} pixels within {} rows",
                    self.height
                ),
            });
        }
        precodes
            .par_chunks_mut(w)
            .with_min_len(TASK_PX.div_ceil(w))
            .enumerate()
            .for_each(|(i, px)| self.apply_row(row + i, px));
        Ok(())
    }

    /// Final codes of row `y`.
    fn apply_row(&self, y: usize, px: &mut [u8]) {
        fn clear(px: &mut [u8]) {
            for p in px {
                *p = if *p == NODATA { NODATA } else { 0 };
            }
        }
        let (masked, kept) = (self.masked.row(y as isize), self.kept.range(y));
        let (mut m, mut k, mut x) = (0, kept.start, 0);
        loop {
            // The two sets are disjoint: take the run that starts first.
            let next_kept = (k < kept.end).then(|| self.kept.run(k));
            let ((s, e), code) = match (masked.get(m), next_kept) {
                (first, Some(r)) if first.is_none_or(|f| r.0 < f.0) => {
                    k += 1;
                    (r, self.kinds[k - 1])
                }
                (Some(&r), _) => {
                    m += 1;
                    (r, NODATA)
                }
                (None, _) => break,
            };
            let (s, e) = (s as usize, e as usize);
            clear(&mut px[x..s]);
            match code {
                OWN_TYPE => px[s..e].iter_mut().for_each(|p| *p &= 7),
                c => px[s..e].fill(c),
            }
            x = e;
        }
        clear(&mut px[x..]);
    }

    /// Pixel counts of the scene.
    pub fn stats(&self) -> RegionStats {
        self.stats
    }

    /// Runs held, both layers together.
    #[cfg(test)]
    fn run_count(&self) -> usize {
        self.masked.len() + self.kept.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*, seeded per case.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, p: f64) -> bool {
            ((self.next() >> 11) as f64) < p * (1u64 << 53) as f64
        }
        fn pick<T: Copy>(&mut self, from: &[T]) -> T {
            from[self.below(from.len())]
        }
    }

    /// 8-connected components by flood fill: an id per pixel (`usize::MAX` outside `set`)
    /// and the number of components.
    fn flood(w: usize, h: usize, set: &[bool]) -> (Vec<usize>, usize) {
        let mut id = vec![usize::MAX; w * h];
        let mut n = 0;
        for seed in 0..w * h {
            if !set[seed] || id[seed] != usize::MAX {
                continue;
            }
            id[seed] = n;
            let mut stack = vec![seed];
            while let Some(i) = stack.pop() {
                let (x, y) = (i % w, i / w);
                for ny in y.saturating_sub(1)..(y + 2).min(h) {
                    for nx in x.saturating_sub(1)..(x + 2).min(w) {
                        let j = ny * w + nx;
                        if set[j] && id[j] == usize::MAX {
                            id[j] = n;
                            stack.push(j);
                        }
                    }
                }
            }
            n += 1;
        }
        (id, n)
    }

    /// `set` dilated by a `(2r+1)²` square: every pixel looks at its whole clipped window.
    fn dilate(w: usize, h: usize, set: &[bool], r: usize) -> Vec<bool> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                (y.saturating_sub(r)..=y.saturating_add(r).min(h - 1)).any(|ny| {
                    (x.saturating_sub(r)..=x.saturating_add(r).min(w - 1))
                        .any(|nx| set[ny * w + nx])
                })
            })
            .collect()
    }

    /// The reference's cloud, shadow and haze masks of date `d`, and its count of cloud
    /// regions.
    fn reference_sky(
        w: usize,
        h: usize,
        flags: &[u8],
        d: usize,
        p: &RegionParams,
    ) -> (Vec<bool>, Vec<bool>, Vec<bool>, u64) {
        let n = w * h;
        let raw_core: Vec<bool> = flags.iter().map(|f| f & (1 << (2 * d)) != 0).collect();
        // Eroded by a 3×3 square, outside the grid counting as outside.
        let core: Vec<bool> = (0..n)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                x >= 1
                    && y >= 1
                    && x + 1 < w
                    && y + 1 < h
                    && (y - 1..=y + 1).all(|ny| (x - 1..=x + 1).all(|nx| raw_core[ny * w + nx]))
            })
            .collect();
        let growth: Vec<bool> = flags.iter().map(|f| f & (3 << (2 * d)) != 0).collect();
        let (core_id, core_n) = flood(w, h, &core);
        let mut size = vec![0u64; core_n];
        core_id
            .iter()
            .filter(|&&c| c != usize::MAX)
            .for_each(|&c| size[c] += 1);
        let (gid, gn) = flood(w, h, &growth);
        let mut region = vec![false; gn];
        for i in (0..n).filter(|&i| core[i] && size[core_id[i]] >= p.cloud_min_core_px) {
            region[gid[i]] = true;
        }
        let cloud: Vec<bool> = gid.iter().map(|&g| g != usize::MAX && region[g]).collect();
        // Boxes as (x0, y0, x1, y1), inclusive.
        let mut boxes = vec![(usize::MAX, usize::MAX, 0, 0); gn];
        for i in (0..n).filter(|&i| cloud[i]) {
            let b = &mut boxes[gid[i]];
            *b = (
                b.0.min(i % w),
                b.1.min(i / w),
                b.2.max(i % w),
                b.3.max(i / w),
            );
        }
        let s = p.shadow_distance_px;
        let kept: Vec<bool> = (0..n)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                flags[i] & (16 << d) != 0
                    && (0..gn).filter(|&g| region[g]).any(|g| {
                        let (x0, y0, x1, y1) = boxes[g];
                        x0.saturating_sub(s) <= x
                            && x <= x1.saturating_add(s)
                            && y0.saturating_sub(s) <= y
                            && y <= y1.saturating_add(s)
                    })
            })
            .collect();
        let cloud_mask = dilate(w, h, &cloud, p.cloud_dilation_px);
        let shadow_mask = dilate(w, h, &kept, p.shadow_dilation_px);
        let haze: Vec<bool> = flags.iter().map(|f| f & (64 << d) != 0).collect();
        let (hid, hn) = flood(w, h, &haze);
        let mut haze_size = vec![0u64; hn];
        hid.iter()
            .filter(|&&c| c != usize::MAX)
            .for_each(|&c| haze_size[c] += 1);
        let large: Vec<bool> = (hid.iter())
            .map(|&c| c != usize::MAX && haze_size[c] >= p.haze_min_px)
            .collect();
        let haze_mask = dilate(w, h, &large, p.cloud_dilation_px);
        let regions = region.iter().filter(|&&r| r).count() as u64;
        (cloud_mask, shadow_mask, haze_mask, regions)
    }

    /// The whole-raster reference: final codes and statistics.
    fn reference(
        w: usize,
        h: usize,
        pre: &[u8],
        flags: &[u8],
        p: &RegionParams,
    ) -> (Vec<u8>, RegionStats) {
        let n = w * h;
        let valid: Vec<bool> = pre.iter().map(|&c| c != 255).collect();
        let count = |m: &[bool]| m.iter().zip(&valid).filter(|&(&m, &v)| m && v).count() as u64;
        let mut stats = RegionStats::default();
        let mut masked = vec![false; n];
        for d in 0..2 {
            let (cloud_mask, shadow_mask, haze_mask, regions) = reference_sky(w, h, flags, d, p);
            stats.cloud_px[d] = count(&cloud_mask);
            stats.shadow_px[d] = count(&shadow_mask);
            stats.haze_px[d] = count(&haze_mask);
            stats.cloud_regions[d] = regions;
            for (i, m) in masked.iter_mut().enumerate() {
                *m |= cloud_mask[i] || shadow_mask[i] || haze_mask[i];
            }
        }
        let level = |c: u8| (c >> 3) & 3;
        let candidate: Vec<bool> = (0..n)
            .map(|i| valid[i] && level(pre[i]) >= 1 && !masked[i])
            .collect();
        let (cid, cn) = flood(w, h, &candidate);
        let mut hot = vec![false; cn];
        for i in (0..n).filter(|&i| candidate[i] && level(pre[i]) >= 2) {
            hot[cid[i]] = true;
        }
        // Pixels of each type 0..=7 per component; types 1..=4 together against 5, then the
        // most common of 1..=4, ties to the lower; or none.
        let mut votes = vec![[0u64; 8]; cn];
        for i in (0..n).filter(|&i| candidate[i]) {
            votes[cid[i]][usize::from(pre[i] & 7)] += 1;
        }
        let majority: Vec<Option<u8>> = (votes.iter())
            .map(|v| {
                let enforcement: u64 = v[1..=4].iter().sum();
                let most = (1..=4).map(|t| v[t]).max().unwrap_or(0);
                match () {
                    _ if enforcement == 0 && v[5] == 0 => None,
                    _ if enforcement <= v[5] => Some(5),
                    _ => (1..=4u8).find(|&t| v[usize::from(t)] == most),
                }
            })
            .collect();
        let codes = (0..n)
            .map(|i| match () {
                _ if !valid[i] || masked[i] => 255,
                _ if candidate[i] && hot[cid[i]] => majority[cid[i]].unwrap_or(pre[i] & 7),
                _ => 0,
            })
            .collect();
        stats.masked_px = count(&masked);
        stats.valid_px = count(&vec![true; n]);
        (codes, stats)
    }

    /// The stage fed in strips of the given heights (the rest in one last strip).
    fn resolve(
        w: usize,
        pre: &[u8],
        flags: &[u8],
        strips: &[usize],
        p: &RegionParams,
    ) -> Result<Regions> {
        let h = pre.len() / w;
        let mut builder = RegionBuilder::new(w, h)?;
        let mut y = 0;
        for &rows in strips.iter().chain(&[h]) {
            let rows = rows.min(h - y);
            let span = y * w..(y + rows) * w;
            builder.add_rows(&pre[span.clone()], &flags[span])?;
            y += rows;
        }
        builder.finish(p)
    }

    /// Final codes of a scene resolved in one strip and applied in one call.
    fn codes(w: usize, pre: &[u8], flags: &[u8], p: &RegionParams) -> (Vec<u8>, RegionStats) {
        let regions = resolve(w, pre, flags, &[], p).unwrap();
        let mut codes = pre.to_vec();
        regions.apply(0, &mut codes).unwrap();
        (codes, regions.stats())
    }

    /// A random scene: pre-codes with nodata, flags as noise and rectangles, core ⇒ growth,
    /// no flags on nodata.
    fn random_scene(rng: &mut Rng, w: usize, h: usize) -> (Vec<u8>, Vec<u8>) {
        let nodata = rng.pick(&[0.0, 0.05, 0.3]);
        let (weak, strong) = (rng.pick(&[0.0, 0.1, 0.4]), rng.pick(&[0.0, 0.02, 0.1]));
        let pre: Vec<u8> = (0..w * h)
            .map(|_| {
                if rng.chance(nodata) {
                    return 255;
                }
                let level = if rng.chance(strong) {
                    2
                } else {
                    u8::from(rng.chance(weak))
                };
                let kind = if level > 0 {
                    1 + rng.below(5)
                } else {
                    rng.below(6)
                } as u8;
                kind | (level << 3)
            })
            .collect();
        let mut flags = vec![0u8; w * h];
        for bit in 0..8 {
            let noise = rng.pick(&[0.0, 0.03, 0.15, 0.5]);
            for f in &mut flags {
                *f |= u8::from(rng.chance(noise)) << bit;
            }
            for _ in 0..rng.below(4) {
                let (x0, y0) = (rng.below(w), rng.below(h));
                let (x1, y1) = ((x0 + rng.below(w)).min(w), (y0 + rng.below(h)).min(h));
                for y in y0..y1 {
                    flags[y * w + x0..y * w + x1]
                        .iter_mut()
                        .for_each(|f| *f |= 1 << bit);
                }
            }
        }
        for (f, &p) in flags.iter_mut().zip(&pre) {
            *f = if p == 255 {
                0
            } else {
                *f | ((*f & 0b0101) << 1)
            };
        }
        (pre, flags)
    }

    #[test]
    fn matches_the_whole_raster_reference_on_random_scenes() {
        // Cases with clouds, kept shadows, a partial mask, kept changes, dropped candidates,
        // kept pixels retyped to their region's majority.
        let mut seen = [0; 6];
        for case in 0..400u64 {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(case + 1));
            let (w, h) = (1 + rng.below(40), 1 + rng.below(40));
            let (pre, flags) = random_scene(&mut rng, w, h);
            let mut pick = |max: usize, huge: usize| {
                let any = 1 + rng.below(max);
                rng.pick(&[0, 0, 1, 2, 3, any, huge])
            };
            let p = RegionParams {
                cloud_min_core_px: pick(40, 1 << 40) as u64,
                cloud_dilation_px: pick(50, usize::MAX),
                shadow_distance_px: pick(50, usize::MAX),
                shadow_dilation_px: pick(50, usize::MAX),
                haze_min_px: pick(60, 1 << 40) as u64,
            };
            let mut strips = Vec::new();
            let mut left = h;
            while left > 0 {
                let rows = if rng.chance(0.1) {
                    0
                } else {
                    1 + rng.below(left)
                };
                strips.push(rows);
                left -= rows;
            }
            let regions = resolve(w, &pre, &flags, &strips, &p).unwrap();
            // Apply on random row ranges, in random order.
            let mut cuts: Vec<usize> = (0..rng.below(4)).map(|_| rng.below(h + 1)).collect();
            cuts.extend([0, h]);
            cuts.sort_unstable();
            let mut ranges: Vec<_> = cuts.windows(2).map(|c| c[0]..c[1]).collect();
            for i in (1..ranges.len()).rev() {
                ranges.swap(i, rng.below(i + 1));
            }
            let mut got = pre.clone();
            for r in ranges {
                let rows = &mut got[r.start * w..r.end * w];
                regions.apply(r.start, rows).unwrap();
            }
            let (want, stats) = reference(w, h, &pre, &flags, &p);
            let what = format!("case {case}: {w}×{h}, {p:?}, strips {strips:?}");
            assert_eq!(regions.stats(), stats, "{what}");
            assert_eq!(got, want, "{what}");
            let dropped = pre.iter().zip(&got).any(|(&p, &c)| p & 0x18 != 0 && c == 0);
            let retyped = (pre.iter().zip(&got)).any(|(&p, &c)| (1..=5).contains(&c) && c != p & 7);
            let seen_here = [
                stats.cloud_regions != [0, 0],
                stats.shadow_px != [0, 0],
                (1..stats.valid_px).contains(&stats.masked_px),
                got.iter().any(|&c| (1..=5).contains(&c)),
                dropped,
                retyped,
            ];
            for (n, s) in seen.iter_mut().zip(seen_here) {
                *n += usize::from(s);
            }
        }
        assert!(
            seen.iter().all(|&n| n >= 60),
            "too few interesting cases: {seen:?}"
        );
    }

    /// A `w`-wide scene drawn as text: `.` nothing, `w` weak, `s` strong, `n` nodata, `c` cloud
    /// core + growth (date 1), `g` growth only (date 1), `C` core + growth (date 2), `S`
    /// shadow (date 2), `T` shadow (date 1). Pre-codes are of change type 3.
    fn scene(rows: &[&str]) -> (usize, Vec<u8>, Vec<u8>) {
        let (pre, flags) = rows
            .iter()
            .flat_map(|r| r.bytes())
            .map(|b| match b {
                b'w' => (3 | 1 << 3, 0),
                b's' => (3 | 2 << 3, 0),
                b'n' => (255, 0),
                b'c' => (3, 0b11),
                b'g' => (3, 0b10),
                b'C' => (3, 0b1100),
                b'S' => (3, 0b10_0000),
                b'T' => (3, 0b1_0000),
                _ => (3, 0),
            })
            .unzip();
        (rows[0].len(), pre, flags)
    }

    /// Final codes drawn as text: `.` 0, `#` 255, the type's digit otherwise.
    fn drawn(w: usize, codes: &[u8]) -> Vec<String> {
        codes
            .chunks(w)
            .map(|r| {
                r.iter()
                    .map(|&c| match c {
                        0 => '.',
                        255 => '#',
                        t => char::from(b'0' + t),
                    })
                    .collect()
            })
            .collect()
    }

    const NO_DILATION: RegionParams = RegionParams {
        cloud_min_core_px: 1,
        cloud_dilation_px: 0,
        shadow_distance_px: 0,
        shadow_dilation_px: 0,
        haze_min_px: u64::MAX,
    };

    #[test]
    fn a_core_one_pixel_short_of_the_minimum_makes_no_cloud() {
        // A 4×4 core: its interior (a 3×3 erosion) is the 2×2 square at rows and columns 3-4.
        let (w, pre, flags) = scene(&[
            ".......", ".ggggg.", ".gcccc.", ".gcccc.", ".gcccc.", ".gcccc.", ".......",
        ]);
        let short = RegionParams {
            cloud_min_core_px: 5,
            ..NO_DILATION
        };
        let (codes, stats) = codes(w, &pre, &flags, &short);
        assert_eq!(stats.cloud_regions, [0, 0]);
        assert!(codes.iter().all(|&c| c == 0));
        let enough = RegionParams {
            cloud_min_core_px: 4,
            cloud_dilation_px: 1,
            ..NO_DILATION
        };
        let (codes, stats) = super::tests::codes(w, &pre, &flags, &enough);
        assert_eq!(stats.cloud_regions, [1, 0]);
        assert_eq!(stats.cloud_px, [49, 0]);
        assert!(drawn(w, &codes).iter().all(|r| r == "#######"));
    }

    #[test]
    fn a_thin_core_makes_no_cloud() {
        // Two pixels wide, however long: no interior (a road, a row of white roofs).
        let (w, pre, flags) = scene(&["..........", ".cccccccc.", ".cccccccc.", ".........."]);
        let (codes, stats) = codes(w, &pre, &flags, &NO_DILATION);
        assert_eq!(stats.cloud_regions, [0, 0]);
        assert!(codes.iter().all(|&c| c == 0));
    }

    #[test]
    fn a_shadow_is_kept_within_the_distance_of_a_cloud_box_of_its_own_date() {
        // The date-2 cloud is the 3×3 block at rows and columns 1-3 (its interior, one pixel,
        // is its core). Its shadows lie 3 columns (row 2), 4 columns (row 3), 3 rows (row 6)
        // and 4 rows (row 7) from its box. The T, a date-1 shadow, is near, but its date has
        // no cloud.
        let (w, pre, flags) = scene(&[
            "..........",
            ".CCC......",
            ".CCC..S...",
            ".CCC.T.S..",
            "..........",
            "..........",
            "..S.......",
            "S.........",
            "..........",
        ]);
        let p = RegionParams {
            shadow_distance_px: 3,
            ..NO_DILATION
        };
        let (codes, stats) = codes(w, &pre, &flags, &p);
        assert_eq!(stats.cloud_regions, [0, 1]);
        assert_eq!(stats.shadow_px, [0, 2]);
        assert_eq!(
            drawn(w, &codes),
            [
                "..........",
                ".###......",
                ".###..#...",
                ".###......",
                "..........",
                "..........",
                "..#.......",
                "..........",
                "..........",
            ]
        );
        let p = RegionParams {
            shadow_distance_px: 4,
            ..p
        };
        let (codes, stats) = super::tests::codes(w, &pre, &flags, &p);
        assert_eq!(stats.shadow_px, [0, 4]);
        assert_eq!(drawn(w, &codes)[3], ".###...#..");
        assert_eq!(drawn(w, &codes)[7], "#.........");
        assert_eq!(drawn(w, &codes)[6], "..#.......");
    }

    /// Typed pre-codes drawn as text: `.` nothing, a digit a weak pixel of that type, `a`..`h`
    /// a strong pixel of type 0..=7; no flags.
    fn typed(rows: &[&str]) -> (usize, Vec<u8>, Vec<u8>) {
        let pre: Vec<u8> = (rows.iter().flat_map(|r| r.bytes()))
            .map(|b| match b {
                b'0'..=b'7' => (b - b'0') | 1 << 3,
                b'a'..=b'h' => (b - b'a') | 2 << 3,
                _ => 0,
            })
            .collect();
        let flags = vec![0; pre.len()];
        (rows[0].len(), pre, flags)
    }

    #[test]
    fn a_kept_component_takes_its_majority_type() {
        // Top left: types 1, 1, 3 against 5, 5, 5 tie and make 5. Top right, one column away:
        // 2, 2, 4, 4 tie and make 2. Middle: 1, 1, 2, 2 outnumber 5, 5, 5 and make 1 though 5
        // is the single most common type. Bottom: a weak component of mixed types is dropped.
        let (w, pre, flags) = typed(&[
            "b1..c2..", "3f5.4e..", ".5......", "........", "f551122.", "........", "12.31...",
        ]);
        let (codes, _) = codes(w, &pre, &flags, &NO_DILATION);
        assert_eq!(
            drawn(w, &codes),
            [
                "55..22..", "555.22..", ".5......", "........", "1111111.", "........", "........"
            ]
        );
    }

    #[test]
    fn a_component_without_a_valid_type_keeps_each_pixels_own() {
        // Types 0, 6 and 7 do not vote: a candidate of type 0 takes its component's 4, and a
        // component with no type 1..=5 (not valid input) keeps each pixel's own bits.
        let (w, pre, flags) = typed(&["0e..a6.7", "0.......", "....h..."]);
        let (codes, _) = codes(w, &pre, &flags, &NO_DILATION);
        assert_eq!(codes[..8], [4, 4, 0, 0, 0, 6, 0, 0]);
        assert_eq!(codes[8], 4);
        assert_eq!(codes[20], 7);
    }

    #[test]
    fn a_weak_component_touching_a_strong_pixel_diagonally_is_kept() {
        let (w, pre, flags) = scene(&["s.....", ".www..", "....w.", "......", "..w.ww"]);
        let (codes, _) = codes(w, &pre, &flags, &NO_DILATION);
        assert_eq!(
            drawn(w, &codes),
            ["3.....", ".333..", "....3.", "......", "......"]
        );
    }

    #[test]
    fn a_mask_cuts_a_weak_component_in_two() {
        // A cloud across a weak line (its 3×3 block has a one-pixel interior) masks the line
        // where it crosses, and the part beyond no longer reaches the strong pixel.
        let (w, pre, flags) = scene(&[".....ccc..", "swwwwcccww", ".....ccc..", "....n....."]);
        let (codes, stats) = codes(w, &pre, &flags, &NO_DILATION);
        assert_eq!(
            drawn(w, &codes),
            [".....###..", "33333###..", ".....###..", "....#....."]
        );
        assert_eq!(stats.masked_px, 9);
        assert_eq!(stats.valid_px, 39);
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(RegionBuilder::new(0, 3).is_err());
        let mut b = RegionBuilder::new(4, 2).unwrap();
        assert!(b.add_rows(&[0; 4], &[0; 3]).is_err());
        assert!(b.add_rows(&[0; 6], &[0; 6]).is_err());
        assert!(b.add_rows(&[0; 12], &[0; 12]).is_err());
        b.add_rows(&[0; 4], &[0; 4]).unwrap();
        assert!(b.clone().finish(&NO_DILATION).is_err());
        b.add_rows(&[0; 4], &[0; 4]).unwrap();
        assert!(b.add_rows(&[0; 4], &[0; 4]).is_err());
        let regions = b.finish(&NO_DILATION).unwrap();
        assert!(regions.apply(1, &mut [0; 8]).is_err());
        assert!(regions.apply(3, &mut []).is_err());
        assert!(regions.apply(0, &mut [0; 5]).is_err());
        regions.apply(2, &mut []).unwrap();
    }

    #[test]
    fn memory_follows_the_runs_not_the_pixels() {
        let (w, h, strip) = (20_000, 2_000, 100);
        let mut b = RegionBuilder::new(w, h).unwrap();
        let (mut pre, mut flags) = (vec![0u8; strip * w], vec![0u8; strip * w]);
        for y0 in (0..h).step_by(strip) {
            pre.fill(0);
            flags.fill(0);
            for y in y0..y0 + strip {
                let (p, f) = (&mut pre[(y - y0) * w..], &mut flags[(y - y0) * w..]);
                for x in (0..5).map(|k| 4_000 * k) {
                    match y % 10 {
                        // Weak runs; the first one of the row starts with a strong pixel.
                        0 => p[x + 3..x + 10].fill(2 | 1 << 3),
                        // Growth runs (date 1); every tenth has a 3×3 core around it.
                        5 => f[x + 100..x + 105].fill(0b10),
                        _ => {}
                    }
                }
                if y % 10 == 0 {
                    p[3] = 2 | 2 << 3;
                }
                if (4..=6).contains(&(y % 100)) {
                    f[100..103].fill(0b11);
                }
            }
            b.add_rows(&pre, &flags).unwrap();
        }
        // 200 rows of 5 weak runs, 1 strong and the 5 runs of type 2, 200 of 5 growth runs and
        // 40 more around the cores, 20 cores of 3 runs.
        assert_eq!(b.run_count(), 200 * 11 + 200 * 5 + 40 + 20 * 3);
        assert!(b.heap_bytes() < 1 << 20, "{} bytes", b.heap_bytes());
        let p = RegionParams {
            cloud_min_core_px: 1,
            cloud_dilation_px: 1,
            ..NO_DILATION
        };
        let regions = b.finish(&p).unwrap();
        let stats = regions.stats();
        assert_eq!(stats.cloud_regions, [20, 0]);
        // Each cloud, dilated by one: rows 4-6 with columns 100-104 on row 5, 100-102 on the
        // others, so 5 + 7 + 7 + 7 + 5 pixels.
        assert_eq!(stats.cloud_px, [20 * 31, 0]);
        assert_eq!(stats.valid_px, (w * h) as u64);
        // 20 dilated clouds of 5 rows, and the 200 runs of the strong pixels' components.
        assert_eq!(regions.run_count(), 20 * 5 + 200);
        let mut rows = vec![2 | 1 << 3; 10 * w];
        regions.apply(100, &mut rows).unwrap();
        assert_eq!(rows[2..11], [0, 2, 2, 2, 2, 2, 2, 2, 0]);
        assert!(rows[11..w].iter().all(|&c| c == 0));
        assert!(rows[5 * w + 99..5 * w + 106].iter().all(|&c| c == 255));
    }
}
