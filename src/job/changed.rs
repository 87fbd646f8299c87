//! What the per-pixel stage keeps for the patch attributes: classes and NDVI of the changed
//! pixels only.

use super::*;

/// Classes and NDVI of both dates at the changed pixels of the raw change raster, in raster
/// order. Patch attributes need them only where a patch can be, and every patch lies inside
/// the raw change (opening and the sieve only remove pixels), so the job keeps these instead
/// of four whole-scene rasters. NDVI is kept in steps of 10⁻⁴ ([`NDVI_STEP`]): patch means
/// are good to half a step.
#[derive(Debug, Default)]
pub(super) struct ChangedPixels {
    classes: Vec<[u8; 2]>,
    ndvi: Vec<[i16; 2]>,
}

/// The step of the NDVI kept for patch attributes.
const NDVI_STEP: f32 = 1e-4;
/// Kept NDVI that stands for nodata.
const NDVI_NODATA: i16 = i16::MIN;

impl ChangedPixels {
    /// Keeps the classes and NDVI of the changed pixels of one strip, whose pixels start at
    /// pixel `first` of the stacks `dates` (which may hold rows around the strip). NDVI is
    /// computed for those pixels only, on a stack gathered from the strip's red and NIR
    /// bands: the same per-pixel function as a whole-strip NDVI, at a fraction of its cost.
    pub(super) fn add_strip(
        &mut self,
        engine: &Engine,
        codes: &[u8],
        classes: [&[u8]; 2],
        dates: [&BandStack; 2],
        first: usize,
    ) -> Result<()> {
        let picked: Vec<usize> = (0..codes.len()).filter(|&i| is_changed(codes[i])).collect();
        if picked.is_empty() {
            return Ok(());
        }
        let in_stack: Vec<usize> = picked.iter().map(|&i| first + i).collect();
        let mut ndvi = [Vec::new(), Vec::new()];
        for (out, stack) in ndvi.iter_mut().zip(dates) {
            let gathered = gather_stack(stack, &[BandRole::Red, BandRole::Nir], &in_stack)?;
            if let Some(v) = allow_all_nodata(engine.index(&gathered, SpectralIndex::Ndvi))? {
                *out = v.output.data;
            }
        }
        let kept = |v: &[f32], k: usize| match v.get(k) {
            Some(&x) if x.is_finite() && x != crate::INDEX_NODATA => {
                (x / NDVI_STEP).round().clamp(-32767.0, 32767.0) as i16
            }
            _ => NDVI_NODATA,
        };
        // Exact growth: these vectors are the job's largest after the change raster.
        self.classes.reserve_exact(picked.len());
        self.ndvi.reserve_exact(picked.len());
        for (k, &i) in picked.iter().enumerate() {
            self.classes.push([classes[0][i], classes[1][i]]);
            self.ndvi.push([kept(&ndvi[0], k), kept(&ndvi[1], k)]);
        }
        Ok(())
    }

    /// Only the entries of pixels still changed after the clean-up (`raw` holds the codes
    /// the entries were kept for, `opened` the codes after opening, which only removes).
    pub(super) fn keep_opened(self, raw: &[u8], opened: &[u8]) -> ChangedPixels {
        let n = opened.iter().filter(|&&c| is_changed(c)).count();
        let mut kept = ChangedPixels {
            classes: Vec::with_capacity(n),
            ndvi: Vec::with_capacity(n),
        };
        let entries = raw.iter().zip(opened).filter(|(r, _)| is_changed(**r));
        for (k, (_, &o)) in entries.enumerate() {
            if is_changed(o) {
                kept.classes.push(self.classes[k]);
                kept.ndvi.push(self.ndvi[k]);
            }
        }
        kept
    }

    /// Starts keeping only the entries of pixels still changed once their codes change
    /// again: feed [`Retain`] the old and new codes of every pixel in raster order.
    pub(super) fn retain(self) -> Retain {
        Retain {
            from: self,
            kept: ChangedPixels::default(),
            next: 0,
        }
    }

    /// The entries as bytes: their count (u64, little-endian), the class pairs, then the
    /// NDVI pairs (i16, little-endian).
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = (self.classes.len() as u64).to_le_bytes().to_vec();
        bytes.extend(self.classes.iter().flatten());
        bytes.extend(self.ndvi.iter().flatten().flat_map(|v| v.to_le_bytes()));
        bytes
    }

    /// Appends the entries of `bytes` (as [`ChangedPixels::to_bytes`] writes them); `None`
    /// when they are not such bytes.
    pub(super) fn append_bytes(&mut self, bytes: &[u8]) -> Option<()> {
        let (count, rest) = bytes.split_first_chunk::<8>()?;
        let n = usize::try_from(u64::from_le_bytes(*count)).ok()?;
        if rest.len() != n.checked_mul(6)? {
            return None;
        }
        let (classes, ndvi) = rest.split_at(2 * n);
        self.classes
            .extend(classes.chunks_exact(2).map(|c| [c[0], c[1]]));
        self.ndvi.extend(ndvi.chunks_exact(4).map(|c| {
            [
                i16::from_le_bytes([c[0], c[1]]),
                i16::from_le_bytes([c[2], c[3]]),
            ]
        }));
        Some(())
    }

    /// How many changed pixels there are.
    pub(super) fn len(&self) -> usize {
        self.classes.len()
    }

    /// The class pair (before, after) of entry `k`.
    pub(super) fn classes(&self, k: usize) -> [u8; 2] {
        self.classes[k]
    }

    /// The NDVI pair of entry `k`.
    pub(super) fn ndvi(&self, k: usize) -> [Option<f32>; 2] {
        self.ndvi[k].map(|q| (q != NDVI_NODATA).then(|| f32::from(q) * NDVI_STEP))
    }
}

/// The entries of [`ChangedPixels`] being filtered by new codes, in raster order.
pub(super) struct Retain {
    from: ChangedPixels,
    kept: ChangedPixels,
    /// The next entry of `from`.
    next: usize,
}

impl Retain {
    /// The old and new codes of the next pixels: an entry is kept where both are changed.
    pub(super) fn feed(&mut self, old: &[u8], new: &[u8]) {
        for (&o, &n) in old.iter().zip(new) {
            if is_changed(o) {
                if is_changed(n) {
                    self.kept.classes.push(self.from.classes[self.next]);
                    self.kept.ndvi.push(self.from.ndvi[self.next]);
                }
                self.next += 1;
            }
        }
    }

    /// The kept entries.
    pub(super) fn finish(self) -> ChangedPixels {
        self.kept
    }
}

/// A change code of a changed pixel (not unchanged, not nodata).
pub(super) fn is_changed(code: u8) -> bool {
    code != crate::change::UNCHANGED && code != crate::change::CHANGE_NODATA
}

/// A one-row stack of the bands `roles` of `stack` at pixels `picked`, with the same
/// nodata values and radiometry.
fn gather_stack(stack: &BandStack, roles: &[BandRole], picked: &[usize]) -> Result<BandStack> {
    let bands = roles
        .iter()
        .map(|&role| {
            let band = stack.require(role, "NDVI of the changed pixels")?;
            Ok(crate::raster::Band {
                data: band.data.select(picked),
                role: band.role,
                nodata: band.nodata,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = BandStack::new(picked.len(), 1, bands)?;
    out.set_radiometry(stack.radiometry)?;
    Ok(out)
}
