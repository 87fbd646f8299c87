//! Legends of rasters of codes: the TIFF colour table and GDAL's category names.
//!
//! GDAL (3.x) reads the category names of a GeoTIFF band only from its PAM side-car,
//! `NAME.tif.aux.xml`: the GTiff driver keeps offset, scale, unit, description and free
//! metadata in its GDAL_METADATA tag (42112), but category names and attribute tables go to
//! the side-car, which is also where GDAL itself writes them. So the colour table goes into
//! the file (tag 320, PhotometricInterpretation 3) and the names into the side-car, written
//! atomically after the file; the side-car also holds a raster attribute table (value, name,
//! red, green, blue), which ArcGIS shows as the layer's classes. A second side-car,
//! `NAME.qml`, is the default style QGIS loads with the layer: the same colours and names,
//! with the codes that have no colour (unchanged) transparent, as no TIFF palette can say.

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
            let [r, g, b, _] = self.colour_of(code).unwrap_or_default();
            xml.push_str(&format!(
                "      <Row index=\"{row}\">\n        <F>{code}</F>\n        <F>{}</F>\n        \
                 <F>{}</F>\n        <F>{}</F>\n        <F>{}</F>\n      </Row>\n",
                escape(name),
                r,
                g,
                b
            ));
        }
        xml.push_str("    </GDALRasterAttributeTable>\n  </PAMRasterBand>\n</PAMDataset>\n");
        xml
    }

    /// The colour of `code`, if it has one.
    fn colour_of(&self, code: u8) -> Option<[u8; 4]> {
        self.colours
            .iter()
            .find(|&&(c, _)| c == code)
            .map(|&(_, rgba)| rgba)
    }

    /// The name of `code` (its number if it has none), escaped for XML.
    fn label_of(&self, code: u8) -> String {
        self.names
            .iter()
            .find(|&&(c, _)| c == code)
            .map_or_else(|| code.to_string(), |&(_, name)| escape(name))
    }

    /// The QGIS style of a raster with this legend: a paletted renderer of every code that
    /// has a colour or a name, in code order, labelled with its name. A named code without a
    /// colour (unchanged) is transparent, which a TIFF colour table cannot say, so that the
    /// map lies over the imagery as drawn in the report.
    pub(crate) fn qml(&self) -> String {
        let mut codes: Vec<u8> = self.colours.iter().map(|&(c, _)| c).collect();
        codes.extend(self.names.iter().map(|&(c, _)| c));
        codes.sort_unstable();
        codes.dedup();
        let mut xml = format!(
            "{QML_HEAD}  <pipe>\n    <rasterrenderer type=\"paletted\" band=\"1\" \
             opacity=\"1\" alphaBand=\"-1\" nodataColor=\"\">\n      <rasterTransparency/>\n      <colorPalette>\n",
        );
        for code in codes {
            let [r, g, b, a] = self.colour_of(code).unwrap_or_default();
            let label = self.label_of(code);
            xml.push_str(&format!(
                "        <paletteEntry value=\"{code}\" color=\"#{r:02x}{g:02x}{b:02x}\" \
                 alpha=\"{a}\" label=\"{label}\"/>\n"
            ));
        }
        xml.push_str(
            "      </colorPalette>\n    </rasterrenderer>\n  </pipe>\n  \
             <blendMode>0</blendMode>\n</qgis>\n",
        );
        xml
    }

    /// The QGIS style of a polygon layer of these codes, by the integer field `field`: each
    /// coloured code is a category labelled with its name, filled with its colour at
    /// [`PATCH_FILL_ALPHA`] over the imagery and outlined in it; codes without a colour are
    /// not drawn.
    pub(crate) fn polygon_qml(&self, field: &str) -> String {
        let mut categories = String::new();
        let mut symbols = String::new();
        for (k, &(code, [r, g, b, _])) in self.colours.iter().enumerate() {
            let label = self.label_of(code);
            categories.push_str(&format!(
                "      <category value=\"{code}\" symbol=\"{k}\" label=\"{label}\" render=\"true\"/>\n"
            ));
            let option = |name: &str, value: &str| {
                format!(
                    "            <Option name=\"{name}\" type=\"QString\" value=\"{value}\"/>\n"
                )
            };
            symbols.push_str(&format!(
                "      <symbol name=\"{k}\" type=\"fill\" alpha=\"1\" clip_to_extent=\"1\" \
                 force_rhr=\"0\">\n        <layer class=\"SimpleFill\" pass=\"0\" enabled=\"1\" \
                 locked=\"0\">\n          <Option type=\"Map\">\n{}{}{}{}{}{}          </Option>\n        \
                 </layer>\n      </symbol>\n",
                option("color", &format!("{r},{g},{b},{PATCH_FILL_ALPHA}")),
                option("style", "solid"),
                option("outline_color", &format!("{r},{g},{b},255")),
                option("outline_style", "solid"),
                option("outline_width", "0.4"),
                option("outline_width_unit", "MM"),
            ));
        }
        format!(
            "{QML_HEAD}  <renderer-v2 type=\"categorizedSymbol\" attr=\"{}\" \
             symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\">\n    <categories>\n{categories}    \
             </categories>\n    <symbols>\n{symbols}    </symbols>\n  </renderer-v2>\n  \
             <blendMode>0</blendMode>\n  <featureBlendMode>0</featureBlendMode>\n</qgis>\n",
            escape(field)
        )
    }

    /// Writes the side-cars of the GeoTIFF `path` ([`side_car_paths`]) atomically: GDAL's
    /// category names and attribute table, and QGIS's default style.
    pub(crate) fn write_side_cars(&self, path: &Path) -> Result<()> {
        let [pam, qml] = side_car_paths(path);
        for (side_car, text) in [(pam, self.pam_xml()), (qml, self.qml())] {
            write_atomically(&side_car, |w| {
                w.write_all(text.as_bytes()).map_err(io_err(&side_car))
            })?;
        }
        Ok(())
    }
}

/// The start of a QGIS style document (QML) of symbology, as QGIS 3.22 writes it.
const QML_HEAD: &str = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n\
                        <qgis version=\"3.22.0\" styleCategories=\"Symbology\">\n";

/// The opacity (of 255) of a polygon's fill in [`Legend::polygon_qml`]: the imagery shows
/// through, the outline is opaque.
pub const PATCH_FILL_ALPHA: u8 = 96;

/// The side-cars of the styled GeoTIFF `path`: where GDAL looks for its PAM document
/// (`change.tif` → `change.tif.aux.xml`), and where QGIS looks for its default style
/// (`change.tif` → `change.qml`, loaded with the layer).
pub fn side_car_paths(path: &Path) -> [PathBuf; 2] {
    let mut name = path.as_os_str().to_owned();
    name.push(".aux.xml");
    [PathBuf::from(name), path.with_extension("qml")]
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
            side_car_paths(Path::new("/x/change.tif")),
            [
                Path::new("/x/change.tif.aux.xml"),
                Path::new("/x/change.qml")
            ]
        );
    }

    #[test]
    fn the_polygon_style_has_a_category_and_a_symbol_per_coloured_code() {
        let qml = LEGEND.polygon_qml("code");
        assert!(qml.contains(r#"type="categorizedSymbol" attr="code""#));
        let categories: Vec<&str> = qml.lines().filter(|l| l.contains("<category ")).collect();
        assert_eq!(categories.len(), 2, "{qml}");
        assert!(categories[0].contains(r#"value="1" symbol="0" label="a &amp; b""#));
        assert!(categories[1].contains(r#"value="3" symbol="1" label="&lt;c&gt;""#));
        assert!(qml.contains(&format!(r#"value="10,20,30,{PATCH_FILL_ALPHA}""#)));
        assert!(qml.contains(r#"name="outline_color" type="QString" value="255,0,1,255""#));
        assert_eq!(qml.matches("<symbol ").count(), 2);
    }

    #[test]
    fn the_qgis_style_lists_every_code_and_leaves_uncoloured_ones_transparent() {
        let qml = LEGEND.qml();
        let entries: Vec<&str> = qml.lines().filter(|l| l.contains("paletteEntry")).collect();
        assert_eq!(entries.len(), 3);
        assert!(entries[0].contains(r##"value="0" color="#000000" alpha="0" label="none""##));
        assert!(
            entries[1].contains(r##"value="1" color="#0a141e" alpha="255" label="a &amp; b""##)
        );
        assert!(entries[2].contains(r##"value="3" color="#ff0001" alpha="0" label="&lt;c&gt;""##));
    }
}
