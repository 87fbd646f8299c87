//! The bundled demo: the Landsat 7 pair of Taizhou (2000, 2003) with illustrative zones and
//! counties, shipped inside the command so that an installed `landwatch enforce` runs it
//! anywhere.
//!
//! The files are `data/landsat_taizhou/` of the crate. A checkout or unpacked crate uses
//! them where they are (`./data/landsat_taizhou` from the crate's folder, or
//! `$LANDWATCH_DATA/landsat_taizhou`); elsewhere the copy compiled into the command is
//! written once to a folder of the system's temporary directory and used from there.

use super::Failure;
use crate::job::Job;
use crate::sensor::Sensor;
use std::path::{Path, PathBuf};

/// The demo's files, relative to `data/landsat_taizhou/`, with their contents.
const FILES: [(&str, &[u8]); 7] = [
    (
        "Taizhou_t1.tif",
        include_bytes!("../../data/landsat_taizhou/Taizhou_t1.tif"),
    ),
    (
        "Taizhou_t2.tif",
        include_bytes!("../../data/landsat_taizhou/Taizhou_t2.tif"),
    ),
    (
        "illustrative/basic_farmland.geojson",
        include_bytes!("../../data/landsat_taizhou/illustrative/basic_farmland.geojson"),
    ),
    (
        "illustrative/eco_redline.geojson",
        include_bytes!("../../data/landsat_taizhou/illustrative/eco_redline.geojson"),
    ),
    (
        "illustrative/urban_boundary.geojson",
        include_bytes!("../../data/landsat_taizhou/illustrative/urban_boundary.geojson"),
    ),
    (
        "illustrative/counties.geojson",
        include_bytes!("../../data/landsat_taizhou/illustrative/counties.geojson"),
    ),
    (
        "LICENSE",
        include_bytes!("../../data/landsat_taizhou/LICENSE"),
    ),
];

/// The folder holding the demo's files.
pub(super) fn folder() -> Result<PathBuf, Failure> {
    let candidates = [
        std::env::var_os("LANDWATCH_DATA").map(|d| PathBuf::from(d).join("landsat_taizhou")),
        Some(PathBuf::from("data/landsat_taizhou")),
    ];
    for dir in candidates.into_iter().flatten() {
        if FILES
            .iter()
            .all(|(name, bytes)| same_size(&dir.join(name), bytes))
        {
            return Ok(dir);
        }
    }
    unpack()
}

/// Whether `path` is a file of `bytes`' length.
fn same_size(path: &Path, bytes: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
}

/// Writes the compiled-in copy to `<temp>/landwatch-<version>-demo/landsat_taizhou` (once)
/// and returns that folder.
fn unpack() -> Result<PathBuf, Failure> {
    let dir = std::env::temp_dir()
        .join(format!("landwatch-{}-demo", env!("CARGO_PKG_VERSION")))
        .join("landsat_taizhou");
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if same_size(&path, bytes) {
            continue;
        }
        let failed = |e: std::io::Error| Failure {
            message: format!(
                "error: cannot unpack the demo data to {}: {e}; set LANDWATCH_DATA to a folder \
                 holding landsat_taizhou/ (data/ of the landwatch crate), or give --before, \
                 --after and --out",
                path.display()
            ),
            code: 1,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        crate::io::write_atomically(&path, |w| {
            std::io::Write::write_all(w, bytes).map_err(|source| crate::Error::Io {
                path: path.clone(),
                source,
            })
        })?;
    }
    Ok(dir)
}

/// The demo enforcement job: both dates, the three illustrative zones and the counties.
pub(super) fn enforce_job() -> Result<Job, Failure> {
    let data = folder()?;
    let zones = data.join("illustrative");
    Ok(
        Job::new(data.join("Taizhou_t1.tif"), data.join("Taizhou_t2.tif"))
            .sensor(Sensor::landsat_dn())
            .zone_geojson("basic_farmland", zones.join("basic_farmland.geojson"))
            .zone_geojson("eco_redline", zones.join("eco_redline.geojson"))
            .zone_geojson("urban_boundary", zones.join("urban_boundary.geojson"))
            .regions(zones.join("counties.geojson"), "code"),
    )
}

/// The demo pair's two dates.
pub(super) fn dates() -> Result<(PathBuf, PathBuf), Failure> {
    let data = folder()?;
    Ok((data.join("Taizhou_t1.tif"), data.join("Taizhou_t2.tif")))
}
