//! Legends of rasters of codes: the TIFF colour table and GDAL's category names.
//!
//! GDAL (3.x) reads the category names of a GeoTIFF band only from its PAM side-car,
//! `NAME.tif.aux.xml`: the GTiff driver keeps offset, scale, unit, description and free
//! metadata in its GDAL_METADATA tag (42112), but category names and attribute tables go to
//! the side-car, which is also where GDAL itself writes them. So the colour table goes into
//! the file (tag 320, PhotometricInterpretation 3) and the names into the side-car, written
//! atomically after the file; the side-car also holds a raster attribute table (value, name,
//! red, green, blue), which ArcGIS shows as the layer's classes.

use crate::error::Result;
use crate::io::atomic::{io_err, write_atomically};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The colours and names of the codes of a single-band u8 raster of categories, for
/// [`WriteOptions::legend`](super::WriteOptions::legend).
///
/// The colour table has 256 entries: a code without a colour is black. TIFF colour tables
/// have no alpha, so GDAL shows every entry opaque (alpha 255) and the alpha given here is
/// not stored; a transparent nodata code is declared by the file's nodata value instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Legend {
    /// The colour (RGBA) of each code that has one.
    pub colours: &'static [(u8, [u8; 4])],
    /// The name of each code that has one.
    pub names: &'static [(u8, &'static str)],
}

impl Legend {
    /// A legend of these colours and names.
    pub const fn new(
        colours: &'static [(u8, [u8; 4])],
        names: &'static [(u8, &'static str)],
    ) -> Legend {
        Legend { colours, names }
    }

    /// The TIFF ColorMap: 256 reds, then 256 greens, then 256 blues, scaled to 0–65535.
    pub(crate) fn color_map(&self) -> Vec<u16> {
        let mut map = vec![0u16; 3 * 256];
        for &(code, rgba) in self.colours {
            for (channel, &v) in rgba[..3].iter().enumerate() {
                map[channel * 256 + usize::from(code)] = u16::from(v) * 257;
            }
        }
        map
    }

    /// The category names as GDAL lists them: codes 0 to the highest named code, an empty
    /// name for a code without one.
    pub fn category_names(&self) -> Vec<&'static str> {
        let len = self.names.iter().map(|&(c, _)| usize::from(c) + 1).max();
        let mut names = vec![""; len.unwrap_or(0)];
        for &(code, name) in self.names {
            names[usize::from(code)] = name;
        }
        names
    }

    /// The GDAL PAM document of a file with this legend: its category names and a raster
    /// attribute table of the named codes.
    pub(crate) fn pam_xml(&self) -> String {
        let mut xml = String::from("<PAMDataset>\n  <PAMRasterBand band=\"1\">\n");
        xml.push_str("    <CategoryNames>\n");
        for name in self.category_names() {
            xml.push_str(&format!("      <Category>{}</Category>\n", escape(name)));
        }
        xml.push_str("    </CategoryNames>\n    <GDALRasterAttributeTable>\n");
        // Field types: 0 integer, 2 string; usages: 5 value, 2 name, 6–8 red, green, blue.
        let fields = [
            ("Value", 0, 5),
            ("Class_Name", 2, 2),
            ("Red", 0, 6),
            ("Green", 0, 7),
            ("Blue", 0, 8),
        ];
        for (i, (name, ty, usage)) in fields.iter().enumerate() {
            xml.push_str(&format!(
                "      <FieldDefn index=\"{i}\">\n        <Name>{name}</Name>\n        \
                 <Type>{ty}</Type>\n        <Usage>{usage}</Usage>\n      </FieldDefn>\n"
            ));
        }
        let mut named = self.names.to_vec();
        named.sort_by_key(|&(c, _)| c);
        for (row, (code, name)) in named.into_iter().enumerate() {
            let rgb = self
                .colours
                .iter()
                .find(|&&(c, _)| c == code)
                .map_or([0; 3], |&(_, [r, g, b, _])| [r, g, b]);
            xml.push_str(&format!(
                "      <Row index=\"{row}\">\n        <F>{code}</F>\n        <F>{}</F>\n        \
                 <F>{}</F>\n        <F>{}</F>\n        <F>{}</F>\n      </Row>\n",
                escape(name),
                rgb[0],
                rgb[1],
                rgb[2]
            ));
        }
        xml.push_str("    </GDALRasterAttributeTable>\n  </PAMRasterBand>\n</PAMDataset>\n");
        xml
    }

    /// Writes the side-car of the GeoTIFF `path` ([`pam_path`]) atomically.
    pub(crate) fn write_pam(&self, path: &Path) -> Result<()> {
        let pam = pam_path(path);
        let xml = self.pam_xml();
        write_atomically(&pam, |w| w.write_all(xml.as_bytes()).map_err(io_err(&pam)))
    }
}

/// Where GDAL looks for the PAM side-car of the file `path`: `path` with `.aux.xml` added
/// (`change.tif` → `change.tif.aux.xml`).
pub fn pam_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".aux.xml");
    PathBuf::from(name)
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEGEND: Legend = Legend::new(
        &[(1, [10, 20, 30, 255]), (3, [255, 0, 1, 0])],
        &[(0, "none"), (1, "a & b"), (3, "<c>")],
    );

    #[test]
    fn colour_map_scales_to_16_bits_and_leaves_other_codes_black() {
        let map = LEGEND.color_map();
        assert_eq!(map.len(), 768);
        assert_eq!([map[1], map[257], map[513]], [2570, 5140, 7710]);
        assert_eq!([map[3], map[259], map[515]], [65535, 0, 257]);
        assert!(
            map[..256]
                .iter()
                .enumerate()
                .all(|(i, &v)| v == 0 || i == 1 || i == 3)
        );
    }

    #[test]
    fn names_fill_the_gaps_and_are_escaped() {
        assert_eq!(LEGEND.category_names(), ["none", "a & b", "", "<c>"]);
        let xml = LEGEND.pam_xml();
        assert!(xml.contains("<Category>a &amp; b</Category>"));
        assert!(xml.contains("<Category></Category>"));
        assert!(xml.contains("<F>&lt;c&gt;</F>"));
        assert_eq!(
            pam_path(Path::new("/x/change.tif")),
            Path::new("/x/change.tif.aux.xml")
        );
    }
}
