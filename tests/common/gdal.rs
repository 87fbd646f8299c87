//! GDAL's command-line tools and its Python bindings as an independent reference: which
//! tools are there (skip, or fail under `LANDWATCH_REQUIRE_GDAL=1`), running them, and
//! comparing coordinate reference systems with `osr.SpatialReference.IsSame`.
//!
//! Every GDAL call runs with `GDAL_PAM_ENABLED=NO`, so GDAL neither writes nor reads
//! `.aux.xml` sidecars: what it reports is what the TIFF itself holds, the same bytes
//! landwatch reads.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The GDAL installation found: its tools are on `PATH`, `python` imports `osgeo`.
#[derive(Debug, Clone)]
pub struct Gdal {
    /// A Python interpreter with GDAL's bindings (`from osgeo import gdal, osr`).
    pub python: PathBuf,
}

/// GDAL's tools and Python bindings, or `None` with the reason printed. With
/// `LANDWATCH_REQUIRE_GDAL=1` a missing piece fails the test instead of skipping it.
///
/// The Python interpreter is `$LANDWATCH_GDAL_PYTHON` when set, else the first of
/// `python3` and `/usr/bin/python3` that imports `osgeo` (a `python3` from pyenv or a
/// virtual environment often lacks the distribution's GDAL bindings).
pub fn gdal(test: &str) -> Option<Gdal> {
    static FOUND: OnceLock<Result<Gdal, String>> = OnceLock::new();
    match FOUND.get_or_init(find) {
        Ok(g) => Some(g.clone()),
        Err(why) => {
            if std::env::var("LANDWATCH_REQUIRE_GDAL").as_deref() == Ok("1") {
                panic!("{test}: LANDWATCH_REQUIRE_GDAL=1 but {why}");
            }
            eprintln!("{test}: skipped, {why}");
            None
        }
    }
}

fn find() -> Result<Gdal, String> {
    for tool in [
        "gdalinfo",
        "gdalwarp",
        "gdal_translate",
        "ogr2ogr",
        "ogrinfo",
        "gdalsrsinfo",
    ] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Err(format!(
                "{tool} is not on PATH (install gdal-bin to run it)"
            ));
        }
    }
    let candidates: Vec<PathBuf> = match std::env::var_os("LANDWATCH_GDAL_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec!["python3".into(), "/usr/bin/python3".into()],
    };
    candidates
        .into_iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", "from osgeo import gdal, osr"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|python| Gdal { python })
        .ok_or_else(|| {
            "no Python interpreter imports osgeo (install python3-gdal, or point \
             LANDWATCH_GDAL_PYTHON at one that does)"
                .to_string()
        })
}

/// Runs GDAL tool `tool` with `args` (sidecars off); its standard output, or an error that
/// quotes the command line and GDAL's standard error.
pub fn run<I, S>(tool: impl AsRef<OsStr>, args: I) -> Result<Vec<u8>, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(tool);
    cmd.args(args).env("GDAL_PAM_ENABLED", "NO");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `gdalinfo -json` of `path`.
pub fn info(path: &Path) -> Result<Value, String> {
    info_with(path, &[])
}

/// `gdalinfo -json` of `path` with more options (`-mm` for computed minima and maxima).
pub fn info_with(path: &Path, options: &[&str]) -> Result<Value, String> {
    let mut args: Vec<&OsStr> = vec![OsStr::new("-json")];
    args.extend(options.iter().map(OsStr::new));
    args.push(path.as_os_str());
    let out = run("gdalinfo", args)?;
    serde_json::from_slice(&out).map_err(|e| format!("gdalinfo -json {}: {e}", path.display()))
}

/// The size and affine transform of a raster as GDAL reads them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GdalGrid {
    /// Columns and rows.
    pub size: (u64, u64),
    /// GDAL's geotransform (origin x, pixel width, row rotation, origin y, column
    /// rotation, pixel height).
    pub transform: [f64; 6],
}

impl GdalGrid {
    /// The grid of `path` according to `gdalinfo -json`; an error when GDAL sees no
    /// geotransform.
    pub fn of(path: &Path) -> Result<GdalGrid, String> {
        let j = info(path)?;
        let size = j["size"]
            .as_array()
            .and_then(|s| Some((s.first()?.as_u64()?, s.get(1)?.as_u64()?)))
            .ok_or_else(|| format!("{}: gdalinfo gives no size", path.display()))?;
        let t: Vec<f64> = j["geoTransform"]
            .as_array()
            .map(|t| t.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        let transform: [f64; 6] = t
            .try_into()
            .map_err(|_| format!("{}: gdalinfo gives no geotransform", path.display()))?;
        Ok(GdalGrid { size, transform })
    }

    /// `(xmin, ymin, xmax, ymax)` of a north-up grid, as `gdalwarp -te` takes them.
    pub fn extent(&self) -> [f64; 4] {
        let t = self.transform;
        let (w, h) = (self.size.0 as f64, self.size.1 as f64);
        let (x0, x1) = (t[0], t[0] + w * t[1]);
        let (y0, y1) = (t[3], t[3] + h * t[5]);
        [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]
    }

    /// Why `other` is not the same grid (same size, transform equal to within 1e-9 of a
    /// pixel), or `None`.
    pub fn differs(&self, other: &GdalGrid) -> Option<String> {
        let pixel = self.transform[1].abs().max(self.transform[5].abs());
        let close = self
            .transform
            .iter()
            .zip(other.transform)
            .all(|(a, b)| (a - b).abs() <= 1e-9 * pixel);
        (self.size != other.size || !close).then(|| {
            format!(
                "{:?} {:?} vs {:?} {:?}",
                self.size, self.transform, other.size, other.transform
            )
        })
    }
}

/// For each of `paths`: `Ok(())` when GDAL reads a CRS from it that
/// `osr.SpatialReference.IsSame` finds the same as the CRS of `reference`, else why not (the
/// CRS differs or is missing, with both described, or GDAL cannot open the file). An error
/// when the check itself cannot run or `reference` has no CRS. One Python process checks
/// them all.
pub fn same_crs(
    gdal: &Gdal,
    reference: &Path,
    paths: &[PathBuf],
) -> Result<Vec<Result<(), String>>, String> {
    const SCRIPT: &str = r#"
import sys
from osgeo import gdal, osr
gdal.UseExceptions()
def srs(path):
    wkt = gdal.Open(path).GetProjectionRef()
    if not wkt:
        return None
    s = osr.SpatialReference()
    s.ImportFromWkt(wkt)
    return s
def describe(s):
    if s is None:
        return "no CRS"
    try:
        proj4 = s.ExportToProj4().strip()
    except Exception:
        proj4 = "no PROJ string"
    return "%s (%s)" % (s.GetName(), proj4)
ref = srs(sys.argv[1])
if ref is None:
    print("ERR reference %s has no CRS" % sys.argv[1])
    sys.exit(0)
for path in sys.argv[2:]:
    try:
        s = srs(path)
    except Exception as e:
        print("ERR cannot open: %s" % str(e).replace("\n", " "))
        continue
    if s is not None and s.IsSame(ref) == 1:
        print("SAME")
    else:
        print("DIFF %s, the input is %s" % (describe(s), describe(ref)))
"#;
    let mut cmd = Command::new(&gdal.python);
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg(reference)
        .args(paths)
        .env("GDAL_PAM_ENABLED", "NO");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", gdal.python.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "the osr check failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    if let Some(err) = text.lines().find_map(|l| l.strip_prefix("ERR reference")) {
        return Err(format!("reference{err}"));
    }
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != paths.len() {
        return Err(format!(
            "the osr check printed {} lines for {} files: {text}",
            lines.len(),
            paths.len()
        ));
    }
    Ok(lines
        .into_iter()
        .map(|l| match l {
            "SAME" => Ok(()),
            other => Err(other
                .trim_start_matches("DIFF ")
                .trim_start_matches("ERR ")
                .to_string()),
        })
        .collect())
}

/// Runs GDAL's GeoPackage validator (`osgeo_utils.samples.validate_gpkg`, with its extra
/// checks and warnings as errors) on `path`, where GDAL ships it; panics on any error.
pub fn validate_gpkg(gdal: &Gdal, path: &Path) {
    const SCRIPT: &str = "
import sys
try:
    from osgeo_utils.samples import validate_gpkg
except ImportError:
    print('absent')
    sys.exit(0)
errors = validate_gpkg.check(sys.argv[1], abort_at_first_error=False, extra_checks=True,
                             warning_as_error=True)
print(errors if errors else 'valid')
";
    let out = Command::new(&gdal.python)
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && (text.trim() == "valid" || text.trim() == "absent"),
        "validate_gpkg {}: {text} {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
