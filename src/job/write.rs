//! The write stage: the patch records, region totals and vector outputs, then the pages
//! people look at and, last, the completion record `summary.json`.

use super::*;

impl Job {
    /// The write stage: each patch's record (attributes, class and NDVI layers, zone and
    /// region areas), the region totals, `patches.geojson`, `patches.csv` and `regions.csv`.
    /// The stage times are left for the caller to fill in.
    pub(super) fn write_stage(
        &self,
        out: &Path,
        patched: Patched,
        facts: RunFacts,
        scene: &Scene,
        layers: Layers,
    ) -> Result<JobReport> {
        let Patched {
            tiled,
            sums,
            mut layer_sums,
            changed,
            change_path,
            patches_path,
            pixel_area,
            zone_names,
            ..
        } = patched;
        let mut attributes = tiled.attributes;
        if changed.is_some() {
            layer_sums.resize(attributes.len() + 1, Accumulator::default());
            for (a, l) in attributes.iter_mut().zip(&layer_sums[1..]) {
                l.apply_layers(a);
            }
        }
        drop(changed);
        drop(layer_sums);
        let overlays = sums.finish(&pixel_area);
        if overlays.len() != attributes.len() {
            return Err(Error::InvalidParameter {
                name: "patches".into(),
                value: format!("{} overlays", overlays.len()),
                reason: format!("{} patches were labelled", attributes.len()),
            });
        }
        let region_codes = layers.regions.map(|(_, _, codes)| codes);
        let totals = region_codes
            .as_ref()
            .map(|codes| region_totals(codes, &zone_names, &overlays, self.warning_share))
            .unwrap_or_default();
        let patches = patch_records(attributes, overlays, region_codes.as_deref());
        let extra = extra_columns(&patches, &zone_names, region_codes.is_some());
        self.check_cancel()?;
        let written = write_patch_vectors(
            out,
            &scene.georef,
            &attrs_of(&patches),
            &extra,
            &tiled.polygons,
            false,
        )?;
        let mut outputs = facts.outputs;
        outputs.extend([change_path, written.geojson, written.csv, patches_path]);
        let mut report = JobReport {
            patch_count: patches.len(),
            area_by_type_m2: area_by_type(&patches),
            patches,
            regions: totals,
            zone_names,
            stages: Vec::new(),
            execution: facts.execution,
            threshold: facts.threshold,
            relation: facts.relation,
            valid_pixels: scene.valid_pixels,
            pixels: scene.pixels,
            strip_rows: facts.strip_rows,
            opening: scene.opening,
            pixel_m: facts.pixel_m,
            mostly_cloud: facts.sky.is_some_and(|s| {
                s.masked_px as f64 > self.options.context.mostly_cloud_share * s.valid_px as f64
            }),
            sky: facts.sky,
            backend_choice: facts.backend_choice,
            outputs,
            warnings: layers.warnings,
        };
        if region_codes.is_some() {
            let path = out.join("regions.csv");
            write_regions_csv(&path, &report.regions)?;
            report.outputs.push(path);
        }
        Ok(report)
    }

    /// The pages people look at, `quicklook.png` and `report.html` (when the job painted a
    /// `quicklook`), and last the completion record `summary.json`, which lists the set it
    /// completes.
    pub(super) fn write_pages(
        &self,
        engine: &Engine,
        out: &Path,
        report: &mut JobReport,
        quicklook: Option<&Quicklook>,
    ) -> Result<()> {
        if let Some(quicklook) = quicklook {
            let picture = out.join("quicklook.png");
            quicklook.write(&picture)?;
            let page = out.join("report.html");
            let title = format!(
                "landwatch enforcement report: {} → {}",
                file_name(&self.before),
                file_name(&self.after)
            );
            write_report_html(&page, &title, report, &picture)?;
            report.outputs.extend([picture, page]);
        }
        let summary = out.join("summary.json");
        report.outputs.push(summary.clone());
        crate::io::atomic::write_atomically(&summary, |w| {
            serde_json::to_writer_pretty(&mut *w, &self.summary(report, engine)).map_err(|e| {
                Error::Io {
                    path: summary.clone(),
                    source: e.into(),
                }
            })
        })
    }

    /// The contents of `summary.json`: inputs, settings, backend, change detection, stage
    /// times, totals and the outputs of the set.
    fn summary(&self, report: &JobReport, engine: &Engine) -> Value {
        let areas: serde_json::Map<String, Value> = (1..6u8)
            .map(|c| {
                (
                    change_name(c).to_string(),
                    json!(report.area_by_type_m2[c as usize]),
                )
            })
            .collect();
        json!({
            "inputs": {"before": self.before, "after": self.after},
            "settings": {
                "sensor": self.sensor.as_ref().map(|s| s.name.clone()),
                "method": format!("{:?}", self.options.method),
                "threshold": report.threshold,
                "min_area_m2": self.min_area_m2,
                "opening": report.opening,
                "connectivity": format!("{:?}", self.connectivity),
                "strip_rows": report.strip_rows,
                "warning_share": self.warning_share,
                "zones": report.zone_names,
            },
            "backend": {
                "requested": format!("{:?}", engine.requested()),
                "device": report.execution.device.to_string(),
                "fallback": report.execution.fallback.as_ref().map(ToString::to_string),
                "measured": report.backend_choice.as_ref().map(|c| json!({
                    "gpu_seconds": c.gpu_seconds,
                    "cpu_seconds": c.cpu_seconds,
                    "chosen": c.chosen.to_string(),
                })),
            },
            "change_detection": self.detection_summary(report),
            "stages_seconds": report
                .stages
                .iter()
                .map(|s| (s.stage.to_string(), json!(s.seconds)))
                .collect::<serde_json::Map<_, _>>(),
            "pixels": {"total": report.pixels, "valid": report.valid_pixels},
            "patch_count": report.patch_count,
            "area_by_type_m2": areas,
            "regions_warned": report.regions.iter().filter(|r| r.warning).map(|r| r.code.clone()).collect::<Vec<_>>(),
            "warnings": report.warnings,
            // The set this record completes, published together.
            "outputs": report
                .outputs
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>(),
        })
    }
}

impl Job {
    /// How change was decided: the method, how its threshold was reached (rule, noise level
    /// and value), and for the contextual detector the calibration, the distances in pixels
    /// and what clouds and shadows took.
    fn detection_summary(&self, report: &JobReport) -> Value {
        let Some(model) = report.relation.context else {
            let rule = match self.options.threshold {
                Threshold::Otsu if self.options.method.measure() == 0 => {
                    "Otsu's threshold, floored at three times the noise level"
                }
                Threshold::Otsu => "Otsu's threshold",
                Threshold::Fixed(_) => "fixed by the caller",
            };
            return json!({
                "method": format!("{:?}", self.options.method),
                "threshold": {"rule": rule, "value": report.threshold, "noise": report.relation.noise},
                "normalization": {
                    "gain_q12": report.relation.normalization.gain_q12,
                    "offset_q12": report.relation.normalization.offset_q12,
                },
            });
        };
        let settings = &self.options.context;
        let roles = ["blue", "green", "red", "nir", "swir1", "swir2"];
        let sigma: serde_json::Map<String, Value> = (0..model.bands)
            .map(|j| (roles[j].to_string(), json!(model.noise.sigma[j] / 1e4)))
            .collect();
        let kind = |d: usize| match model.calibration[d].kind {
            crate::change::calibration::CalibrationKind::Radiometry => "the sensor's radiometry",
            crate::change::calibration::CalibrationKind::Percentiles => {
                "relative: 2nd and 98th percentiles onto reference reflectance"
            }
        };
        let sky = report.sky.unwrap_or_default();
        let share = |px: u64| sky.share(px);
        json!({
            "method": "contextual",
            "threshold": {
                "rule": "noise model: per-band median and 1.4826 × MAD of the normalized difference; \
                         hysteresis on the smoothed, misregistration-tolerant score",
                "noise_sigma_reflectance": sigma,
                "seed_sigma": settings.seed_sigma,
                "grow_sigma": settings.grow_sigma,
                "value": report.threshold,
                "units": "σ/256",
            },
            "calibration": {"before": kind(0), "after": kind(1)},
            "pixel_m": model.pixel_m,
            "misregistration_px": settings.radius_px(model.pixel_m),
            "smoothing_px": 2 * settings.smoothing_px(model.pixel_m) + 1,
            "normalization": {
                "gain_q12": model.noise.gain_q12[..model.bands],
                "offset_q12": model.noise.offset_q12[..model.bands],
                "median_difference": model.noise.median[..model.bands],
            },
            "sky": {
                "cloud_share": [share(sky.cloud_px[0]), share(sky.cloud_px[1])],
                "shadow_share": [share(sky.shadow_px[0]), share(sky.shadow_px[1])],
                "haze_share": [share(sky.haze_px[0]), share(sky.haze_px[1])],
                "masked_share": share(sky.masked_px),
                "cloud_regions": sky.cloud_regions,
                "mostly_cloud": report.mostly_cloud,
            },
        })
    }
}

/// The patch records: attributes with their overlays, and the region code of each.
fn patch_records(
    attributes: Vec<PatchAttributes>,
    overlays: Vec<PatchOverlay>,
    region_codes: Option<&[String]>,
) -> Vec<PatchRecord> {
    attributes
        .into_iter()
        .zip(overlays)
        .map(|(attributes, overlay)| PatchRecord {
            region_code: overlay
                .region
                .and_then(|r| region_codes.map(|c| c[r].clone())),
            attributes,
            overlay,
        })
        .collect()
}

/// Patch area by change code (index = code), in m².
fn area_by_type(patches: &[PatchRecord]) -> [f64; 6] {
    let mut area_by_type_m2 = [0.0; 6];
    for p in patches {
        if let Some(a) = area_by_type_m2.get_mut(p.attributes.code as usize) {
            *a += p.attributes.area_m2;
        }
    }
    area_by_type_m2
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
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
