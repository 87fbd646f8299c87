//! The patches stage, streamed strip by strip: [`patches_tiled`] labels, sieves and traces
//! the opened change, and its sink writes `change.tif` and `patches.tif`, paints the
//! quicklook and gathers the classes, NDVI, zone and region areas of every patch.

use super::*;
use crate::geo::PixelArea;
use crate::io::Window;
use crate::patch::TiledPatches;

/// The per-pixel results the patches stage adds to its patches and pictures.
pub(super) struct PixelLayers {
    /// Classes and NDVI of the changed pixels that lie in the opened change.
    changed: Option<ChangedPixels>,
    /// The opened change's changed pixels, one bit each (empty without `changed`).
    changed_bits: Vec<u64>,
    /// The picture the change is painted onto.
    quicklook: Option<Quicklook>,
}

impl PixelLayers {
    /// Patches lie inside the opened change: keeps only the entries of `changed` at those
    /// pixels (`raw` holds the codes they were kept for, `opened` the codes after opening),
    /// and marks the pixels one bit each.
    pub(super) fn in_opened(
        changed: Option<ChangedPixels>,
        quicklook: Option<Quicklook>,
        raw: &[u8],
        opened: &[u8],
    ) -> PixelLayers {
        let changed = changed.map(|c| c.keep_opened(raw, opened));
        let changed_bits: Vec<u64> = if changed.is_some() {
            opened
                .chunks(64)
                .map(|c| {
                    c.iter().enumerate().fold(0u64, |bits, (i, &code)| {
                        bits | u64::from(is_changed(code)) << i
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        PixelLayers {
            changed,
            changed_bits,
            quicklook,
        }
    }
}

/// What the patches stage found, for the write stage.
pub(super) struct Patched {
    /// The patches' attributes and polygons.
    pub tiled: TiledPatches,
    /// Each patch's zone and region areas.
    pub sums: OverlaySums,
    /// Each patch's class and NDVI sums (index = patch id), when the job kept them.
    pub layer_sums: Vec<Accumulator>,
    /// The changed pixels' classes and NDVI, when the job kept them.
    pub changed: Option<ChangedPixels>,
    /// The picture with the change painted on.
    pub quicklook: Option<Quicklook>,
    /// `change.tif`, written.
    pub change_path: PathBuf,
    /// `patches.tif`, written.
    pub patches_path: PathBuf,
    /// The ground area of the pixels.
    pub pixel_area: PixelArea,
    /// Zone names, in the order of the job's zones.
    pub zone_names: Vec<String>,
}

impl Job {
    /// The patches stage: labelling, the minimum-area sieve, attributes, zones, regions and
    /// polygons of `opened`, strip by strip (`strip_rows` rows), with `change.tif` and
    /// `patches.tif` written into `out` as the strips pass.
    pub(super) fn patches_stage(
        &self,
        out: &Path,
        opened: Raster<u8>,
        scene: &Scene,
        layers: &Layers,
        pixel_layers: PixelLayers,
        strip_rows: usize,
    ) -> Result<Patched> {
        let (width, height) = (opened.width, opened.height);
        let georef = scene.georef;
        let change_path = out.join("change.tif");
        let patches_path = out.join("patches.tif");
        let change_writer = GeoTiffStripWriter::create(
            &change_path,
            width,
            height,
            Some(&georef),
            Some(crate::change::CHANGE_NODATA),
            &CHANGE_TIFF,
        )?;
        let patch_writer = GeoTiffStripWriter::create(
            &patches_path,
            width,
            height,
            Some(&georef),
            Some(0u32),
            &OUTPUT_TIFF,
        )?;
        let grid = TargetGrid {
            width,
            height,
            georef,
        };
        let pixel_area = crate::geo::PixelArea::of_grid(Some(&georef), width, height)?;
        let zone_names: Vec<String> = self.zones.iter().map(|(n, _)| n.clone()).collect();
        let names: Vec<&str> = zone_names.iter().map(String::as_str).collect();
        let tiling = TilingOptions {
            tile_width: width,
            tile_height: strip_rows,
            connectivity: self.connectivity,
            min_area_m2: self.min_area_m2,
        };
        let PixelLayers {
            changed,
            changed_bits,
            mut quicklook,
        } = pixel_layers;
        let mut sink = PatchSink {
            job: self,
            width,
            opened: &opened.data,
            grid: &grid,
            layers,
            pixel_area: &pixel_area,
            sums: OverlaySums::new(0, &names),
            layer_sums: Vec::new(),
            cursor: 0,
            changed: changed.as_ref(),
            changed_bits: &changed_bits,
            change_writer,
            patch_writer,
            quicklook: quicklook.as_mut(),
            done: 0,
            strips: height.div_ceil(strip_rows) as u64,
        };
        let tiled = patches_tiled(&opened, &tiling, |w, ids| sink.strip(w, ids))?;
        let PatchSink {
            sums,
            layer_sums,
            change_writer,
            patch_writer,
            ..
        } = sink;
        drop(opened);
        drop(changed_bits);
        change_writer.finish()?;
        patch_writer.finish()?;
        Ok(Patched {
            tiled,
            sums,
            layer_sums,
            changed,
            quicklook,
            change_path,
            patches_path,
            pixel_area,
            zone_names,
        })
    }
}

/// The sink of [`patches_tiled`] in the patches stage: what is done with each strip's
/// patch ids.
struct PatchSink<'a> {
    job: &'a Job,
    width: usize,
    /// The opened change codes of the whole scene.
    opened: &'a [u8],
    grid: &'a TargetGrid,
    /// The zone and region layers.
    layers: &'a Layers,
    pixel_area: &'a PixelArea,
    /// Zone and region areas of every patch.
    sums: OverlaySums,
    /// Class and NDVI sums of every patch (index = patch id).
    layer_sums: Vec<Accumulator>,
    /// The entry of `changed` of the next changed pixel.
    cursor: usize,
    changed: Option<&'a ChangedPixels>,
    changed_bits: &'a [u64],
    change_writer: GeoTiffStripWriter<u8>,
    patch_writer: GeoTiffStripWriter<u32>,
    quicklook: Option<&'a mut Quicklook>,
    /// Strips done, and in all, for progress.
    done: u64,
    strips: u64,
}

impl PatchSink<'_> {
    /// Takes the patch ids `ids` of the strip `w`: the codes of the pixels left in a patch,
    /// the strip's zone masks and region index, then side by side the overlay sums, the
    /// class and NDVI sums and the outputs.
    fn strip(&mut self, w: Window, ids: &[u32]) -> Result<()> {
        self.job.check_cancel()?;
        let width = self.width;
        let rows = w.row..w.row + w.height;
        let codes: Vec<u8> = self.opened[w.row * width..(w.row + w.height) * width]
            .par_iter()
            .zip(ids)
            .map(|(&c, &id)| if id == 0 && is_changed(c) { 0 } else { c })
            .collect();
        let masks = self
            .layers
            .zones
            .iter()
            .map(|(name, input)| zone_rows(name, input, self.grid, rows.clone()))
            .collect::<Result<Vec<_>>>()?;
        let region_index = self
            .layers
            .regions
            .as_ref()
            .map(|(layer, field, _)| region_rows_from_layer(layer, field, self.grid, rows.clone()))
            .transpose()?;
        let mask_data: Vec<&[u8]> = masks.iter().map(|m| m.mask.data.as_slice()).collect();
        let PatchSink {
            pixel_area,
            sums,
            layer_sums,
            cursor,
            changed,
            changed_bits,
            change_writer,
            patch_writer,
            quicklook,
            ..
        } = self;
        // The overlay sums, the class/NDVI sums and the outputs read the strip
        // independently, so they run side by side (each is an ordered pass, so results
        // do not depend on it).
        let overlay = || {
            sums.add(
                &OverlayWindow {
                    width,
                    row0: w.row,
                    ids,
                    codes: &codes,
                    zones: &mask_data,
                    regions: region_index.as_ref().map(|r| r.index.data.as_slice()),
                },
                pixel_area,
            )
        };
        let layers = || {
            if let Some(changed) = changed {
                add_layer_sums(
                    changed,
                    changed_bits,
                    w.row * width,
                    ids,
                    cursor,
                    layer_sums,
                );
            }
        };
        let outputs = || -> Result<()> {
            change_writer.write_rows(&codes)?;
            patch_writer.write_rows(ids)?;
            if let Some(q) = quicklook {
                q.add_change(w.row, width, &codes);
            }
            Ok(())
        };
        let ((), ((), written)) = rayon::join(overlay, || rayon::join(layers, outputs));
        written?;
        self.done += 1;
        self.job.report("patches", self.done, self.strips);
        Ok(())
    }
}

/// Adds the classes and NDVI of the changed pixels among `ids` (pixels from `start` on) to
/// the sums of the patches they lie in. `cursor` is the entry of `changed` of the first
/// changed pixel, and moves past those of the strip.
fn add_layer_sums(
    changed: &ChangedPixels,
    changed_bits: &[u64],
    start: usize,
    ids: &[u32],
    cursor: &mut usize,
    layer_sums: &mut Vec<Accumulator>,
) {
    for (i, &id) in ids.iter().enumerate() {
        let p = start + i;
        if changed_bits[p / 64] >> (p % 64) & 1 == 0 {
            continue;
        }
        let k = *cursor;
        *cursor += 1;
        if id == 0 {
            continue;
        }
        if layer_sums.len() <= id as usize {
            layer_sums.resize(id as usize + 1, Accumulator::default());
        }
        let [cb, ca] = changed.classes(k);
        layer_sums[id as usize].add_layers([Some(cb), Some(ca)], changed.ndvi(k));
    }
}

/// Rows `rows` of a zone's mask.
fn zone_rows(name: &str, input: &ZoneInput, grid: &TargetGrid, rows: Range<usize>) -> Result<Zone> {
    match input {
        ZoneInput::Layer(layer) => zone_rows_from_layer(name, layer, grid, rows),
        ZoneInput::Raster(path) => {
            let image = read_window(
                path,
                0,
                rows.start,
                grid.width,
                rows.len(),
                &ReadLimits::default(),
            )?;
            let nodata = image.nodata.map_or(255, |v| v as u8);
            let Some(BandData::U8(data)) = image.bands.into_iter().next() else {
                return Err(Error::InvalidParameter {
                    name: format!("zone {name}"),
                    value: path.display().to_string(),
                    reason: "a zone raster must have a u8 first band".into(),
                });
            };
            let strip = Raster {
                width: grid.width,
                height: rows.len(),
                data,
                nodata,
                georef: None,
            };
            let strip_grid = TargetGrid {
                height: rows.len(),
                ..*grid
            };
            zone_from_raster(name, &strip, &strip_grid)
        }
    }
}
