//! The write stage: the patch records, region totals and vector outputs, then the pages
//! people look at and, last, the completion record `summary.json`.

use super::*;
use crate::io::csv_number;

impl Job {
    /// The write stage: each patch's record (attributes, class and NDVI layers, zone and
    /// region areas), the region totals, `patches.geojson`, `patches.csv`, `regions.csv`, and
    /// the Shapefile and GeoPackage dated `time`. The stage times are left for the caller to
    /// fill in.
    pub(super) fn write_stage(
        &self,
        out: &Path,
        patched: Patched,
        facts: RunFacts,
        scene: &Scene,
        layers: Layers,
        time: SystemTime,
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
        let attrs = attrs_of(&patches);
        let written =
            write_patch_vectors(out, &scene.georef, &attrs, &extra, &tiled.polygons, false)?;
        let mut outputs = facts.outputs;
        let change_side_cars = side_car_paths(&change_path);
        outputs.push(change_path);
        outputs.extend(change_side_cars);
        outputs.extend([written.geojson, written.csv, patches_path]);
        let mut warnings = layers.warnings;
        gis_layers(
            out,
            scene,
            time,
            (&attrs, &extra, &tiled.polygons),
            &mut outputs,
            &mut warnings,
        )?;
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
            shards: facts.shards,
            outputs,
            warnings,
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
                date_title(&*self.before),
                date_title(&*self.after)
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
}

/// `patches.shp` (with its side files) and `patches.gpkg` in the imagery's CRS, dated `time`,
/// listed in `outputs`; what could not be written as asked goes to `warnings`.
fn gis_layers(
    out: &Path,
    scene: &Scene,
    time: SystemTime,
    (attrs, extra, polygons): (
        &[PatchAttributes],
        &[crate::patch::output::ExtraColumn],
        &[crate::patch::PatchPolygons],
    ),
    outputs: &mut Vec<PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let layers =
        crate::patch::output::write_patch_layers(out, &scene.georef, attrs, extra, polygons, time)?;
    outputs.extend(layers.shapefile);
    outputs.push(layers.geopackage);
    warnings.extend(layers.warnings);
    Ok(())
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

/// A date as the report's title names it: a file's name, or a source's name.
fn date_title(source: &dyn DateSource) -> String {
    match source.path() {
        Some(path) => path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        None => source.name(),
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

/// Decimals of `regions.csv`'s farmland share (a fraction): 0.0001, a hundredth of a
/// percentage point.
const SHARE_DECIMALS: usize = 4;

/// An area in m² as a cell of `regions.csv`: to 0.01 m².
fn m2(area: f64) -> String {
    csv_number(area, 2)
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
        row.extend((1..6).map(|c| m2(t.area_by_type_m2[c])));
        row.extend([
            m2(t.new_construction_m2),
            m2(t.new_construction_on_farmland_m2),
            csv_number(t.farmland_share, SHARE_DECIMALS),
            t.warning.to_string(),
        ]);
        row
    });
    crate::io::write_csv(path, &header, rows)
}
