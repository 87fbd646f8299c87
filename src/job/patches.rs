//! The patch stages of the job, streamed strip by strip, and the outputs they write.

use super::*;

impl Job {
    /// The patch stages, streamed strip by strip: clean-up of the whole change raster (one
    /// byte a pixel), then [`patches_tiled`] labels, sieves and traces strip by strip, and
    /// its sink writes `change.tif` and `patches.tif`, paints the quicklook and gathers the
    /// classes, NDVI, zone and region areas of every patch.
    pub(super) fn finish(
        &self,
        engine: &Engine,
        out: &Path,
        pixels: PixelResults,
        layers: Layers,
        mut timer: Timer,
    ) -> Result<JobReport> {
        let PixelResults {
            change: raw,
            sky,
            pixel_m,
            changed,
            mut quicklook,
            execution,
            threshold,
            relation,
            mut outputs,
            strip_rows,
            backend_choice,
        } = pixels;
        let (width, height) = (raw.width, raw.height);
        let n = width * height;
        let georef = raw.georef.ok_or_else(|| Error::InvalidParameter {
            name: "change".into(),
            value: format!("{width}×{height}"),
            reason: "the change raster has no georeferencing; patches need map coordinates".into(),
        })?;
        let valid_pixels = raw
            .data
            .iter()
            .filter(|&&c| c != crate::change::CHANGE_NODATA)
            .count() as u64;
        let Layers {
            zones,
            regions,
            warnings,
        } = layers;

        // Clean-up: an opening of the whole change mask (types never merge or change).
        let opening = self.opening.side(pixel_m);
        let opened = match opening {
            Some(size) => {
                let element = StructuringElement::square(size)?;
                engine
                    .morphology(&raw, MorphOp::Open, element, MorphScope::WholeMask)?
                    .output
            }
            None => raw.clone(),
        };
        self.report("morphology", 1, 1);
        timer.lap("morphology");
        self.check_cancel()?;
        if self.raw_change {
            let path = out.join("change_raw.tif");
            write_geotiff_with(&path, &raw, &OUTPUT_TIFF)?;
            outputs.push(path);
        }
        // Patches lie inside the opened change: keep only the entries of those pixels, and
        // mark them one bit each.
        let changed = changed.map(|c| c.keep_opened(&raw.data, &opened.data));
        let changed_bits: Vec<u64> = if changed.is_some() {
            opened
                .data
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
        drop(raw);

        // Labelling, sieve, attributes, zones, regions and polygons, strip by strip.
        let change_path = out.join("change.tif");
        let patches_path = out.join("patches.tif");
        let mut change_writer = GeoTiffStripWriter::create(
            &change_path,
            width,
            height,
            Some(&georef),
            Some(crate::change::CHANGE_NODATA),
            &OUTPUT_TIFF,
        )?;
        let mut patch_writer = GeoTiffStripWriter::create(
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
        let mut sums = OverlaySums::new(0, &names);
        let mut layers: Vec<Accumulator> = Vec::new();
        let mut cursor = 0usize;
        let tiling = TilingOptions {
            tile_width: width,
            tile_height: strip_rows,
            connectivity: self.connectivity,
            min_area_m2: self.min_area_m2,
        };
        let strips = height.div_ceil(strip_rows) as u64;
        let mut done = 0u64;
        let tiled = patches_tiled(&opened, &tiling, |w, ids| {
            self.check_cancel()?;
            let rows = w.row..w.row + w.height;
            let codes: Vec<u8> = opened.data[w.row * width..(w.row + w.height) * width]
                .par_iter()
                .zip(ids)
                .map(|(&c, &id)| if id == 0 && is_changed(c) { 0 } else { c })
                .collect();
            let masks = zones
                .iter()
                .map(|(name, input)| zone_rows(name, input, &grid, rows.clone()))
                .collect::<Result<Vec<_>>>()?;
            let region_index = regions
                .as_ref()
                .map(|(layer, field, _)| region_rows_from_layer(layer, field, &grid, rows.clone()))
                .transpose()?;
            let mask_data: Vec<&[u8]> = masks.iter().map(|m| m.mask.data.as_slice()).collect();
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
                    &pixel_area,
                )
            };
            let layer_sums = || {
                let Some(changed) = &changed else { return };
                let start = w.row * width;
                for (i, &id) in ids.iter().enumerate() {
                    let p = start + i;
                    if changed_bits[p / 64] >> (p % 64) & 1 == 0 {
                        continue;
                    }
                    let k = cursor;
                    cursor += 1;
                    if id == 0 {
                        continue;
                    }
                    if layers.len() <= id as usize {
                        layers.resize(id as usize + 1, Accumulator::default());
                    }
                    let [cb, ca] = changed.classes(k);
                    layers[id as usize].add_layers([Some(cb), Some(ca)], changed.ndvi(k));
                }
            };
            let outputs = || -> Result<()> {
                change_writer.write_rows(&codes)?;
                patch_writer.write_rows(ids)?;
                if let Some(q) = &mut quicklook {
                    q.add_change(w.row, width, &codes);
                }
                Ok(())
            };
            let ((), ((), written)) = rayon::join(overlay, || rayon::join(layer_sums, outputs));
            written?;
            done += 1;
            self.report("patches", done, strips);
            Ok(())
        })?;
        drop(opened);
        drop(changed_bits);
        change_writer.finish()?;
        patch_writer.finish()?;
        timer.lap("patches");

        // Records, totals and outputs.
        let mut attributes = tiled.attributes;
        if changed.is_some() {
            layers.resize(attributes.len() + 1, Accumulator::default());
            for (a, l) in attributes.iter_mut().zip(&layers[1..]) {
                l.apply_layers(a);
            }
        }
        drop(changed);
        drop(layers);
        let overlays = sums.finish(&pixel_area);
        if overlays.len() != attributes.len() {
            return Err(Error::InvalidParameter {
                name: "patches".into(),
                value: format!("{} overlays", overlays.len()),
                reason: format!("{} patches were labelled", attributes.len()),
            });
        }
        let region_codes = regions.map(|(_, _, codes)| codes);
        let totals = region_codes
            .as_ref()
            .map(|codes| region_totals(codes, &zone_names, &overlays, self.warning_share))
            .unwrap_or_default();
        let patches: Vec<PatchRecord> = attributes
            .into_iter()
            .zip(overlays)
            .map(|(attributes, overlay)| PatchRecord {
                region_code: overlay
                    .region
                    .and_then(|r| region_codes.as_ref().map(|c| c[r].clone())),
                attributes,
                overlay,
            })
            .collect();
        let extra = extra_columns(&patches, &zone_names, region_codes.is_some());
        self.check_cancel()?;
        let written = write_patch_vectors(
            out,
            &georef,
            &attrs_of(&patches),
            &extra,
            &tiled.polygons,
            false,
        )?;
        outputs.extend([change_path, written.geojson, written.csv, patches_path]);
        let mut area_by_type_m2 = [0.0; 6];
        for p in &patches {
            if let Some(a) = area_by_type_m2.get_mut(p.attributes.code as usize) {
                *a += p.attributes.area_m2;
            }
        }
        let mut report = JobReport {
            patch_count: patches.len(),
            patches,
            regions: totals,
            zone_names,
            stages: Vec::new(),
            execution,
            threshold,
            relation,
            valid_pixels,
            pixels: n as u64,
            area_by_type_m2,
            strip_rows,
            opening,
            pixel_m,
            mostly_cloud: sky.is_some_and(|s| {
                s.masked_px as f64 > self.options.context.mostly_cloud_share * s.valid_px as f64
            }),
            sky,
            backend_choice,
            outputs,
            warnings,
        };
        if region_codes.is_some() {
            let path = out.join("regions.csv");
            write_regions_csv(&path, &report.regions)?;
            report.outputs.push(path);
        }
        timer.lap("write");
        report.stages = timer.stages;
        if let Some(quicklook) = &quicklook {
            let picture = out.join("quicklook.png");
            quicklook.write(&picture)?;
            let page = out.join("report.html");
            let title = format!(
                "landwatch enforcement report: {} → {}",
                file_name(&self.before),
                file_name(&self.after)
            );
            write_report_html(&page, &title, &report, &picture)?;
            report.outputs.extend([picture, page]);
        }
        // The completion record, written last: it lists the set it completes.
        let summary = out.join("summary.json");
        report.outputs.push(summary.clone());
        crate::io::atomic::write_atomically(&summary, |w| {
            serde_json::to_writer_pretty(&mut *w, &self.summary(&report, engine)).map_err(|e| {
                Error::Io {
                    path: summary.clone(),
                    source: e.into(),
                }
            })
        })?;
        Ok(report)
    }
}

fn attrs_of(patches: &[PatchRecord]) -> Vec<PatchAttributes> {
    patches.iter().map(|p| p.attributes.clone()).collect()
}

/// Zone areas and flags, the urban-boundary flag and the region code as patch columns.
fn extra_columns(
    patches: &[PatchRecord],
    zone_names: &[String],
    with_regions: bool,
) -> Vec<crate::patch::output::ExtraColumn> {
    let mut columns = Vec::new();
    for (z, name) in zone_names.iter().enumerate() {
        columns.push((
            format!("{name}_m2"),
            patches
                .iter()
                .map(|p| json!(p.overlay.zone_area_m2[z]))
                .collect(),
        ));
        columns.push((
            format!("in_{name}"),
            patches
                .iter()
                .map(|p| json!(p.overlay.in_zone[z]))
                .collect(),
        ));
    }
    if zone_names.iter().any(|z| z == URBAN_BOUNDARY) {
        columns.push((
            "outside_urban_boundary".into(),
            patches
                .iter()
                .map(|p| json!(p.overlay.outside_urban_boundary))
                .collect(),
        ));
    }
    if with_regions {
        columns.push((
            "region".into(),
            patches.iter().map(|p| json!(p.region_code)).collect(),
        ));
    }
    columns
}

/// `regions.csv`: one row per region, in file order.
fn write_regions_csv(path: &Path, totals: &[RegionTotals]) -> Result<()> {
    let mut header = vec!["region".to_string(), "patches".to_string()];
    header.extend((1..6u8).map(|c| {
        let name = change_name(c).replace([' ', '-'], "_");
        format!("area_{name}_m2")
    }));
    header.extend(
        [
            "new_construction_m2",
            "new_construction_on_farmland_m2",
            "farmland_share",
            "warning",
        ]
        .map(String::from),
    );
    let rows = totals.iter().map(|t| {
        let mut row = vec![t.code.clone(), t.patch_count.to_string()];
        row.extend((1..6).map(|c| t.area_by_type_m2[c].to_string()));
        row.extend([
            t.new_construction_m2.to_string(),
            t.new_construction_on_farmland_m2.to_string(),
            t.farmland_share.to_string(),
            t.warning.to_string(),
        ]);
        row
    });
    crate::io::write_csv(path, &header, rows)
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
