//! What the job checks before it reads a pixel or writes a file: each grid's georeferencing
//! and CRS (a transform, a CRS with a place on the Earth, longitude/latitude for
//! `patches.geojson`, ground areas), the zone and region layers placed on the imagery's
//! grid, and the output folder. A refusal names the file and the CRS, and leaves the output
//! folder as it was.

use super::*;
use crate::geo::{GeodeticFrame, LonLat};
use crate::io::same_file;

/// A protected zone ready to rasterize strip by strip.
pub(super) enum ZoneInput {
    /// Polygons in the imagery's CRS.
    Layer(crate::io::FeatureLayer),
    /// A u8 raster on the imagery's grid.
    Raster(PathBuf),
}

/// The zone and region layers of a job, read and placed on the imagery's grid.
pub(super) struct Layers {
    /// Each zone by name.
    pub zones: Vec<(String, ZoneInput)>,
    /// The regions layer in the imagery's CRS, its code field and the codes in file order.
    pub regions: Option<(crate::io::FeatureLayer, String, Vec<String>)>,
    /// What the layers held that the job leaves out (features that are not polygons).
    pub warnings: Vec<String>,
}

/// The georeference of the grid `what` names (a file, or the change raster), checked for
/// everything the job will need of it: a transform, a CRS with a place on the Earth, a
/// conversion to longitude/latitude (for `patches.geojson`) and ground areas (for every
/// area the job reports).
pub(super) fn checked_georef(
    what: &Path,
    width: usize,
    height: usize,
    georef: Option<GeoReference>,
) -> Result<GeoReference> {
    let refuse = |reason: String| Error::Georeference {
        path: what.to_path_buf(),
        reason,
    };
    let georef = georef.ok_or_else(|| {
        refuse(
            "has no georeferencing (no geotransform), so patches have no place on the \
             Earth; georeference it first (for example gdal_translate -a_srs EPSG:… -a_ullr …)"
                .into(),
        )
    })?;
    let crs = georef.crs.ok_or_else(|| {
        refuse(
            "has a geotransform but no CRS, so ground areas and longitude/latitude are \
             unknown; assign one (for example gdal_edit.py -a_srs EPSG:4549)"
                .into(),
        )
    })?;
    let in_crs = |e: Error| refuse(format!("its CRS cannot be used: {e}"));
    crs.check_usable().map_err(in_crs)?;
    LonLat::new(&crs, GeodeticFrame::Wgs84).map_err(in_crs)?;
    crate::geo::PixelArea::of_grid(Some(&georef), width, height).map_err(in_crs)?;
    Ok(georef)
}

/// Checks that `out` is a folder the job can write into, or one it can create, without
/// creating or touching anything.
pub(super) fn check_output_folder(out: &Path) -> Result<()> {
    use std::io::ErrorKind as K;
    let refuse = |kind: K, reason: &str| Error::Io {
        path: out.to_path_buf(),
        source: std::io::Error::new(kind, reason.to_string()),
    };
    match std::fs::metadata(out) {
        Ok(m) if !m.is_dir() => Err(refuse(K::NotADirectory, "exists and is not a folder")),
        Ok(m) if m.permissions().readonly() => {
            Err(refuse(K::PermissionDenied, "is a read-only folder"))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // The nearest existing ancestor must be a folder for the job to create it.
            let absolute = std::path::absolute(out).map_err(|source| Error::Io {
                path: out.to_path_buf(),
                source,
            })?;
            match absolute.ancestors().skip(1).find(|a| a.exists()) {
                Some(a) if a.is_dir() => Ok(()),
                _ => Err(refuse(
                    K::NotADirectory,
                    "cannot be created: a part of its path is not a folder",
                )),
            }
        }
        Err(source) => Err(Error::Io {
            path: out.to_path_buf(),
            source,
        }),
    }
}

/// What messages name a date by: a file's path, or a source's name.
pub(super) fn source_path(source: &dyn DateSource) -> PathBuf {
    source
        .path()
        .map_or_else(|| source.name().into(), Path::to_path_buf)
}

/// The two dates as their headers describe them, checked to share one grid.
pub(super) struct Dates {
    /// The imagery's grid: size, transform and CRS.
    pub grid: TargetGrid,
    /// The band roles and radiometry of both stacks.
    pub layout: (Vec<BandRole>, Sensor),
    /// The taller block height of the two files, in rows.
    pub block_rows: usize,
}

impl Job {
    /// Reads both dates' headers and checks them before any pixel is read: the scene size,
    /// each georeference, one grid and one band count for both, and the band layout.
    pub(super) fn open_dates(&self) -> Result<Dates> {
        let (info_b, info_a) = (self.before.info()?, self.after.info()?);
        let (name_b, name_a) = (source_path(&*self.before), source_path(&*self.after));
        self.check_scene_size(&name_b, info_b.width, info_b.height)?;
        self.check_scene_size(&name_a, info_a.width, info_a.height)?;
        let georef = checked_georef(&name_b, info_b.width, info_b.height, info_b.georef)?;
        checked_georef(&name_a, info_a.width, info_a.height, info_a.georef)?;
        let grid_of = |i: &crate::io::SourceInfo| Grid {
            width: i.width,
            height: i.height,
            georef: i.georef,
        };
        let dates = format!(
            "{} (before) and {} (after)",
            name_b.display(),
            name_a.display()
        );
        check_same_grid(&grid_of(&info_b), &grid_of(&info_a)).map_err(|e| match e {
            Error::GridMismatch { what } => Error::GridMismatch {
                what: format!("{dates}: {what}"),
            },
            e => e,
        })?;
        if info_b.band_count != info_a.band_count {
            return Err(Error::GridMismatch {
                what: format!(
                    "{dates}: the before date has {} bands, the after date {}; both need the \
                     same bands in the same order",
                    info_b.band_count, info_a.band_count
                ),
            });
        }
        let (width, height) = (info_b.width, info_b.height);
        if width == 0 || height == 0 {
            return Err(Error::EmptyRaster { width, height });
        }
        let layout = self.stack_layout(info_b.band_count)?;
        Ok(Dates {
            grid: TargetGrid {
                width,
                height,
                georef,
            },
            layout,
            // Strips end on block boundaries of either file (for speed only: results do not
            // depend on the strip height).
            block_rows: info_b.block_rows.max(info_a.block_rows),
        })
    }
}

impl Job {
    /// The job's own settings, checked before anything is read.
    pub(super) fn check_settings(&self) -> Result<()> {
        let invalid = |name: &str, value: String, reason: &str| Error::InvalidParameter {
            name: name.into(),
            value,
            reason: reason.into(),
        };
        if !(self.min_area_m2.is_finite() && self.min_area_m2 >= 0.0) {
            return Err(invalid(
                "min_area_m2",
                self.min_area_m2.to_string(),
                "the minimum mapping unit is a finite area of 0 m² or more",
            ));
        }
        if !(0.0..=1.0).contains(&self.warning_share) {
            return Err(invalid(
                "warning_share",
                self.warning_share.to_string(),
                "a share of new construction lies in 0..=1",
            ));
        }
        if let Some(rows) = self.tile_rows
            && !(1..=MAX_TILE_ROWS).contains(&rows)
        {
            return Err(invalid(
                "tile_rows",
                rows.to_string(),
                &format!("a strip has 1 to {MAX_TILE_ROWS} rows"),
            ));
        }
        for (i, (name, _)) in self.zones.iter().enumerate() {
            if self.zones[..i].iter().any(|(other, _)| other == name) {
                return Err(invalid(
                    "zones",
                    name.clone(),
                    "a zone name is given twice; each zone becomes its own columns",
                ));
            }
        }
        if let Some(time) = self.timestamp {
            crate::io::stamp::checked(time)?;
        }
        self.options.context.validate()
    }

    /// Refuses a scene of more pixels than [`Job::max_pixels`] allows, before any is read.
    pub(super) fn check_scene_size(&self, path: &Path, width: usize, height: usize) -> Result<()> {
        let pixels = (width as u64).checked_mul(height as u64);
        match pixels {
            Some(n) if n <= self.max_pixels => Ok(()),
            _ => Err(Error::TooLarge {
                what: format!(
                    "{}: declares {width}×{height} = {} pixels, more than the limit of {} \
                     (raise it with --max-pixels, or Job::max_pixels, if the scene is real)",
                    path.display(),
                    (width as u128) * (height as u128),
                    self.max_pixels
                ),
            }),
        }
    }

    /// The last checks before work, once the imagery's grid is known: the zone and region
    /// layers placed on it, the output folder, and that no output would replace an input
    /// (`inputs`, with the zone and region files). Then the folder is locked and a private
    /// staging folder opened in it.
    pub(super) fn ready(
        &self,
        grid: &TargetGrid,
        out: &Path,
        inputs: &[&Path],
    ) -> Result<(Layers, OutputSet)> {
        let layers = self.layers(grid)?;
        check_output_folder(out)?;
        let layer_files = self.zones.iter().map(|(_, source)| match source {
            ZoneSource::GeoJson(p) | ZoneSource::Raster(p) => p.as_path(),
        });
        let region_file = self.regions.iter().map(|(p, _)| p.as_path());
        let inputs: Vec<&Path> = inputs
            .iter()
            .copied()
            .chain(layer_files)
            .chain(region_file)
            .collect();
        if let Ok(entries) = std::fs::read_dir(out) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !is_job_output(&name) {
                    continue;
                }
                if let Some(input) = inputs.iter().find(|i| same_file(i, &entry.path())) {
                    return Err(Error::OutputIsInput {
                        output: entry.path(),
                        input: input.to_path_buf(),
                    });
                }
            }
        }
        let set = OutputSet::begin(out)?;
        Ok((layers, set))
    }

    /// Reads the zone and region layers and places them on `grid`: vector layers (GeoJSON,
    /// Shapefile, GeoPackage) are converted to the imagery's CRS, rasters checked against its grid, and the regions'
    /// code field checked.
    pub(super) fn layers(&self, grid: &TargetGrid) -> Result<Layers> {
        let mut warnings = Vec::new();
        let zones = self
            .zones
            .iter()
            .map(|(name, source)| {
                let input = match source {
                    ZoneSource::GeoJson(path) => {
                        let layer = read_polygon_layer(path)?;
                        let what = format!("zone layer '{name}' ({})", path.display());
                        warn_skipped(&mut warnings, &what, &layer);
                        ZoneInput::Layer(in_grid_crs(&layer, grid, &what)?.into_owned())
                    }
                    ZoneSource::Raster(path) => {
                        let info = read_info(path)?;
                        let on_grid = (info.width, info.height) == (grid.width, grid.height)
                            && info.georef.is_none_or(|g| g == grid.georef);
                        if !on_grid || info.data_type != crate::raster::DataType::U8 {
                            return Err(Error::GridMismatch {
                                what: format!(
                                    "zone raster '{name}' ({}) is {}×{} {} on {}; a Byte \
                                     raster on the imagery's {}×{} grid ({}) is needed",
                                    path.display(),
                                    info.width,
                                    info.height,
                                    info.data_type,
                                    GeoReference::describe(info.georef.as_ref()),
                                    grid.width,
                                    grid.height,
                                    grid.georef
                                ),
                            });
                        }
                        ZoneInput::Raster(path.clone())
                    }
                };
                Ok((name.clone(), input))
            })
            .collect::<Result<Vec<_>>>()?;
        let regions = self
            .regions
            .as_ref()
            .map(|(path, field)| -> Result<_> {
                let layer = read_polygon_layer(path)?;
                let what = format!("the regions layer ({})", path.display());
                warn_skipped(&mut warnings, &what, &layer);
                let layer = in_grid_crs(&layer, grid, &what)?.into_owned();
                // The codes, and an early error for a missing field.
                let codes = region_rows_from_layer(&layer, field, grid, 0..0)
                    .map_err(|e| match e {
                        Error::InvalidParameter { reason, .. } => Error::InvalidParameter {
                            name: "--region-field".into(),
                            value: field.clone(),
                            reason: format!("in {}, {reason}", path.display()),
                        },
                        e => e,
                    })?
                    .codes;
                Ok((layer, field.clone(), codes))
            })
            .transpose()?;
        Ok(Layers {
            zones,
            regions,
            warnings,
        })
    }
}

/// A warning for the features of a layer that were left out.
/// Warns of what reading `layer` left out or repaired.
fn warn_skipped(warnings: &mut Vec<String>, what: &str, layer: &crate::io::FeatureLayer) {
    if !layer.skipped.is_empty() {
        warnings.push(format!("{what}: left out: {}", layer.skipped.join(", ")));
    }
    if !layer.repaired.is_empty() {
        warnings.push(format!("{what}: repaired: {}", layer.repaired.join(", ")));
    }
}
