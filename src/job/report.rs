//! What people look at: `quicklook.png` (before | after | change over the after image, side
//! by side) and `report.html`, one self-contained page with the quicklook, the totals, the
//! regions sorted by farmland share and the largest patches.

use super::JobReport;
use crate::change::{CHANGE_PALETTE, change_name};
use crate::error::{Error, Result};
use crate::io::png::{composite_rgba, write_rgba};
use crate::raster::{Band, BandData, BandStack};
use crate::sensor::BandRole;
use std::fmt::Write as _;
use std::path::Path;

/// Longest side of one quicklook panel, in pixels.
const PANEL: usize = 640;
/// White space between panels.
const GAP: usize = 8;

/// A decimated copy of both dates' red, green and blue, filled strip by strip while a job
/// streams, so that the quicklook never needs the full-resolution bands.
#[derive(Debug, Clone)]
pub struct Quicklook {
    step: usize,
    width: usize,
    height: usize,
    before: [Vec<f32>; 3],
    after: [Vec<f32>; 3],
    /// The change code painted in each block (0: none).
    change: Vec<u8>,
}

const RGB: [BandRole; 3] = [BandRole::Red, BandRole::Green, BandRole::Blue];

impl Quicklook {
    /// A quicklook of a `width × height` scene: every `step`-th pixel of every `step`-th row,
    /// so that the longer side is at most 640 pixels.
    pub fn new(width: usize, height: usize) -> Quicklook {
        let step = width.max(height).div_ceil(PANEL).max(1);
        Quicklook {
            step,
            width: width.div_ceil(step),
            height: height.div_ceil(step),
            before: Default::default(),
            after: Default::default(),
            change: Vec::new(),
        }
    }

    /// Takes the sampled pixels of a strip of both dates: rows `rows` of the stacks, the first
    /// of which is scene row `row0`.
    pub fn add_strip(
        &mut self,
        row0: usize,
        before: &BandStack,
        after: &BandStack,
        rows: std::ops::Range<usize>,
    ) {
        for (stack, dst) in [(before, &mut self.before), (after, &mut self.after)] {
            for (k, role) in RGB.into_iter().enumerate() {
                let Some(band) = stack.band(role) else {
                    continue;
                };
                let skip = rows.start;
                let taken = rows
                    .clone()
                    .filter(|r| (row0 + r - skip).is_multiple_of(self.step));
                for r in taken {
                    for c in (0..stack.width()).step_by(self.step) {
                        let v = band.data.get_f32(r * stack.width() + c);
                        let nodata = band.nodata.is_some_and(|n| f64::from(v) == n);
                        dst[k].push(if nodata { f32::NAN } else { v });
                    }
                }
            }
        }
    }

    fn panel(&self, date: &[Vec<f32>; 3]) -> Result<Vec<u8>> {
        let n = self.width * self.height;
        if date.iter().any(|b| b.len() != n) {
            return Err(Error::MissingBand {
                needed_by: "the true-colour quicklook".into(),
                role: BandRole::Blue,
                available: "fewer than red, green and blue".into(),
            });
        }
        let bands = RGB
            .into_iter()
            .zip(date)
            .map(|(role, v)| Band::new(role, BandData::F32(v.clone())))
            .collect();
        composite_rgba(&BandStack::new(self.width, self.height, bands)?, RGB)
    }

    /// Paints the changed pixels of a strip of change codes (whole rows of `width`,
    /// starting at scene row `row0`) into the change panel: every block that holds a changed
    /// pixel takes its change type's colour, so that patches smaller than a quicklook pixel
    /// still show.
    pub fn add_change(&mut self, row0: usize, width: usize, codes: &[u8]) {
        if self.change.is_empty() {
            self.change = vec![0; self.width * self.height];
        }
        let mut painted = [false; 256];
        for &(code, _) in &CHANGE_PALETTE {
            painted[code as usize] = true;
        }
        for (i, &code) in codes.iter().enumerate() {
            if painted[code as usize] {
                let (r, c) = ((row0 + i / width) / self.step, i % width / self.step);
                self.change[r * self.width + c] = code;
            }
        }
    }

    /// The sampled pixels of both dates taken so far, as bytes: for each date its red, green
    /// and blue samples, each as a count (u64) and f32 values, all little-endian.
    pub fn samples_to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for channel in self.before.iter().chain(&self.after) {
            bytes.extend((channel.len() as u64).to_le_bytes());
            bytes.extend(channel.iter().flat_map(|v| v.to_le_bytes()));
        }
        bytes
    }

    /// Appends sampled pixels written by [`Quicklook::samples_to_bytes`] of the rows that
    /// follow those taken so far; `None` when they are not such bytes.
    pub fn append_samples(&mut self, mut bytes: &[u8]) -> Option<()> {
        for channel in self.before.iter_mut().chain(&mut self.after) {
            let (count, rest) = bytes.split_first_chunk::<8>()?;
            let n = usize::try_from(u64::from_le_bytes(*count)).ok()?;
            let (values, rest) = rest.split_at_checked(n.checked_mul(4)?)?;
            channel.extend(
                values
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
            bytes = rest;
        }
        bytes.is_empty().then_some(())
    }

    /// Writes before | after | change: the change panel is the after image dimmed, painted
    /// with the changes added by [`Quicklook::add_change`].
    pub fn write(&self, path: &Path) -> Result<()> {
        let before = self.panel(&self.before)?;
        let after = self.panel(&self.after)?;
        let mut overlay: Vec<u8> = after
            .chunks_exact(4)
            .flat_map(|p| {
                let grey = ((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) / 6) as u8;
                [grey, grey, grey, p[3]]
            })
            .collect();
        for (i, &code) in self.change.iter().enumerate() {
            if let Some(&(_, colour)) = CHANGE_PALETTE.iter().find(|&&(c, _)| c == code) {
                overlay[i * 4..i * 4 + 4].copy_from_slice(&colour);
            }
        }
        let total_width = 3 * self.width + 2 * GAP;
        let mut rgba = vec![255u8; total_width * self.height * 4];
        for (p, panel) in [before, after, overlay].iter().enumerate() {
            for row in 0..self.height {
                let src = &panel[row * self.width * 4..(row + 1) * self.width * 4];
                let x0 = p * (self.width + GAP);
                let dst = (row * total_width + x0) * 4;
                rgba[dst..dst + src.len()].copy_from_slice(src);
            }
        }
        write_rgba(path, &rgba, total_width, self.height)
    }
}

/// Standard base64 of `bytes`, for images embedded in the page.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// How change was decided, in a line: the contextual detector's noise model, or the
/// per-pixel threshold.
fn threshold_text(report: &JobReport) -> String {
    match &report.relation.context {
        Some(model) => {
            let sigma: Vec<String> = (model.noise.sigma[..model.bands].iter())
                .map(|s| format!("{:.4}", s / 1e4))
                .collect();
            format!(
                "change seeds above {:.1} σ of the noise of unchanged pixels (σ per band, reflectance: {}), on {:.0} m pixels",
                f64::from(report.threshold) / crate::change::noise::SCORE_UNITS,
                sigma.join(", "),
                model.pixel_m
            )
        }
        None => format!("threshold {}", report.threshold),
    }
}

/// The card of what clouds, cloud shadows and haze masked, when the detector looked for them.
fn sky_card(report: &JobReport) -> String {
    let Some(sky) = &report.sky else {
        return String::new();
    };
    format!(
        r#"<div class="card">masked as cloud, shadow or haze<b>{:.1}%</b>{} (before / after)</div>"#,
        100.0 * sky.share(sky.masked_px),
        sky.per_date(),
    )
}

fn hectares(m2: f64) -> String {
    format!("{:.2}", m2 / 10_000.0)
}

/// Writes `report.html`: a self-contained page (the quicklook embedded) with the totals, the
/// regions sorted by farmland share of new construction (warned first) and the 20 largest
/// patches.
pub fn write_report_html(
    path: &Path,
    title: &str,
    report: &JobReport,
    quicklook: &Path,
) -> Result<()> {
    let png = std::fs::read(quicklook).map_err(|source| Error::Io {
        path: quicklook.to_path_buf(),
        source,
    })?;
    let mut h = String::new();
    page_head(&mut h, title, report);
    totals_and_picture(&mut h, report, &png);
    area_by_type_table(&mut h, report);
    regions_table(&mut h, report);
    largest_patches_table(&mut h, report);
    stages_table(&mut h, report);
    crate::io::atomic::write_atomically(path, |w| {
        std::io::Write::write_all(w, h.as_bytes()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// The page's head, style, title and the line of what it was computed on.
fn page_head(h: &mut String, title: &str, report: &JobReport) {
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}}
h1{{font-size:22px;margin:0 0 4px}} h2{{font-size:17px;margin:24px 0 8px}}
.meta{{color:#555;font-size:13px}} img{{max-width:100%;border:1px solid #ccc}}
table{{border-collapse:collapse;font-size:13px}} th,td{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th{{background:#f0f0f0}} td.l,th.l{{text-align:left}} tr.warn td{{background:#fde0dc;font-weight:600}}
.legend span{{display:inline-block;margin-right:14px;font-size:13px}}
.legend i{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}}
.cards{{display:flex;gap:16px;flex-wrap:wrap}} .card{{border:1px solid #ddd;padding:8px 14px;border-radius:6px}}
.card b{{display:block;font-size:20px}}
.alarm{{background:#fde0dc;border:1px solid #e0a0a0;padding:8px 12px;font-weight:600}}
</style></head><body>
<h1>{t}</h1>
<div class="meta">computed on {device} · {thr} · {px} pixels, {valid} valid</div>
"#,
        t = escape(title),
        device = escape(&report.execution.device.to_string()),
        thr = escape(&threshold_text(report)),
        px = report.pixels,
        valid = report.valid_pixels,
    );
}

/// The cloud alarm, the totals' cards, the change legend and the quicklook `png`.
fn totals_and_picture(h: &mut String, report: &JobReport, png: &[u8]) {
    if report.mostly_cloud {
        h.push_str(
            r#"<p class="alarm">This pair is mostly cloud or cloud shadow: changes are reported for the clear part only. Compare a clearer pair.</p>"#,
        );
    }
    let changed: f64 = report.area_by_type_m2[1..].iter().sum();
    let warned = report.regions.iter().filter(|r| r.warning).count();
    let _ = write!(
        h,
        r#"<h2>Totals</h2><div class="cards">
<div class="card">patches<b>{}</b></div><div class="card">changed area (ha)<b>{}</b></div>
<div class="card">regions warned<b>{} / {}</b></div>{}</div>
<h2>Before | after | change</h2>
<div class="legend">"#,
        report.patch_count,
        hectares(changed),
        warned,
        report.regions.len(),
        sky_card(report),
    );
    for &(code, c) in &CHANGE_PALETTE {
        let _ = write!(
            h,
            r#"<span><i style="background:rgb({},{},{})"></i>{}</span>"#,
            c[0],
            c[1],
            c[2],
            escape(change_name(code))
        );
    }
    let _ = write!(
        h,
        r#"</div><img alt="before, after and change" src="data:image/png;base64,{}">"#,
        base64(png)
    );
}

/// Changed area and patches by change type.
fn area_by_type_table(h: &mut String, report: &JobReport) {
    h.push_str("<h2>Changed area by type</h2><table><tr><th class=l>type</th><th>area (ha)</th><th>patches</th></tr>");
    for code in 1..6u8 {
        let n = report
            .patches
            .iter()
            .filter(|p| p.attributes.code == code)
            .count();
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{}</td><td>{}</td></tr>",
            escape(change_name(code)),
            hectares(report.area_by_type_m2[code as usize]),
            n
        );
    }
    h.push_str("</table>");
}

/// The regions by farmland share of new construction (warned first), when there are any.
fn regions_table(h: &mut String, report: &JobReport) {
    if !report.regions.is_empty() {
        let mut regions: Vec<_> = report.regions.iter().collect();
        regions.sort_by(|a, b| b.farmland_share.total_cmp(&a.farmland_share));
        h.push_str("<h2>Regions by farmland share of new construction</h2><table><tr><th class=l>region</th><th>patches</th><th>new construction (ha)</th><th>on basic farmland (ha)</th><th>share</th><th class=l>warning</th></tr>");
        for r in regions {
            let _ = write!(
                h,
                "<tr{}><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}%</td><td class=l>{}</td></tr>",
                if r.warning { " class=warn" } else { "" },
                escape(&r.code),
                r.patch_count,
                hectares(r.new_construction_m2),
                hectares(r.new_construction_on_farmland_m2),
                100.0 * r.farmland_share,
                if r.warning { "warned" } else { "" }
            );
        }
        h.push_str("</table>");
    }
}

/// The 20 largest patches with their place, zones and region.
fn largest_patches_table(h: &mut String, report: &JobReport) {
    let mut largest: Vec<_> = report.patches.iter().collect();
    largest.sort_by(|a, b| b.attributes.area_m2.total_cmp(&a.attributes.area_m2));
    h.push_str("<h2>The 20 largest patches</h2><table><tr><th>id</th><th class=l>type</th><th>area (ha)</th><th>area (mu)</th><th>longitude</th><th>latitude</th><th class=l>zones</th><th class=l>region</th></tr>");
    for p in largest.into_iter().take(20) {
        let a = &p.attributes;
        let (lon, lat) = a
            .centroid_lon_lat
            .map_or((String::new(), String::new()), |c| {
                (format!("{:.5}", c[0]), format!("{:.5}", c[1]))
            });
        let zones: Vec<&str> = report
            .zone_names
            .iter()
            .zip(&p.overlay.in_zone)
            .filter(|(_, inside)| **inside)
            .map(|(z, _)| z.as_str())
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=l>{}</td><td>{}</td><td>{:.1}</td><td>{lon}</td><td>{lat}</td><td class=l>{}</td><td class=l>{}</td></tr>",
            a.id,
            escape(a.change_type),
            hectares(a.area_m2),
            a.area_mu,
            escape(&zones.join(", ")),
            escape(p.region_code.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</table>");
}

/// The time of each stage, closing the page.
fn stages_table(h: &mut String, report: &JobReport) {
    h.push_str("<h2>Stages</h2><table><tr><th class=l>stage</th><th>seconds</th></tr>");
    for s in &report.stages {
        let _ = write!(
            h,
            "<tr><td class=l>{}</td><td>{:.3}</td></tr>",
            s.stage, s.seconds
        );
    }
    h.push_str("</table></body></html>\n");
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_rfc_examples() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
