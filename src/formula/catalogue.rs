//! The Awesome Spectral Indices catalogue (`data/spectral_indices/`), embedded in the
//! library and parsed once, on first use.
//!
//! Embedding (about 1 MB) rather than reading a path makes `Formula::catalogue("NDVI")` work
//! from any working directory and any installed binary, with no file to ship or find; the
//! JSON is only parsed the first time the catalogue is used (about 10 ms).

use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const INDICES_JSON: &str = include_str!("../../data/spectral_indices/spectral-indices-dict.json");
const CONSTANTS_JSON: &str = include_str!("../../data/spectral_indices/constants.json");

/// One index of the catalogue, as published.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueEntry {
    /// Short name, the key used by [`crate::formula::Formula::catalogue`] (`NDVI`, `EVI`).
    pub short_name: String,
    /// Long name.
    pub long_name: String,
    /// The formula in the catalogue's Python syntax.
    pub formula: String,
    /// Band symbols the catalogue lists for it (`N`, `R`, `RE1`, ...).
    pub bands: Vec<String>,
    /// Its constants with their default values (`None` where the catalogue gives none).
    pub constants: Vec<(String, Option<f64>)>,
    /// Application domain (`vegetation`, `water`, `burn`, ...).
    pub domain: String,
}

struct Catalogue {
    entries: Vec<CatalogueEntry>,
    /// Constant name to the default a free formula gets (see [`free_constant_default`]).
    constants: BTreeMap<String, Option<f64>>,
}

fn load() -> std::result::Result<&'static Catalogue, &'static str> {
    static CATALOGUE: OnceLock<std::result::Result<Catalogue, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(parse)
        .as_ref()
        .map_err(String::as_str)
}

fn parse() -> std::result::Result<Catalogue, String> {
    let indices: Value = serde_json::from_str(INDICES_JSON).map_err(|e| e.to_string())?;
    let Some(map) = indices.get("SpectralIndices").and_then(Value::as_object) else {
        return Err("spectral-indices-dict.json has no SpectralIndices object".into());
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let mut entries = Vec::with_capacity(map.len());
    for (short, v) in map {
        let bands = v
            .get("bands")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let constants = v
            .get("constants")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(name, c)| (name.clone(), c.get("default_value").and_then(Value::as_f64)))
                    .collect()
            })
            .unwrap_or_default();
        let domain = v
            .get("classification")
            .map(|c| text(c, "application_domain"))
            .unwrap_or_default();
        entries.push(CatalogueEntry {
            short_name: short.clone(),
            long_name: text(v, "name"),
            formula: text(v, "formula"),
            bands,
            constants,
            domain,
        });
    }
    let constants_json: Value = serde_json::from_str(CONSTANTS_JSON).map_err(|e| e.to_string())?;
    let mut constants = BTreeMap::new();
    if let Some(map) = constants_json.as_object() {
        for (name, per_index) in map {
            let defaults: Vec<Option<f64>> = per_index
                .as_object()
                .map(|m| {
                    m.values()
                        .map(|c| c.get("default_value").and_then(Value::as_f64))
                        .collect()
                })
                .unwrap_or_default();
            constants.insert(name.clone(), most_common(&defaults));
        }
    }
    Ok(Catalogue { entries, constants })
}

/// The value given most often, or `None` when there is none or two values tie.
fn most_common(values: &[Option<f64>]) -> Option<f64> {
    let mut counts: Vec<(f64, usize)> = Vec::new();
    for v in values.iter().flatten() {
        match counts.iter_mut().find(|(x, _)| x == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((*v, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    match counts.as_slice() {
        [] => None,
        [(v, _)] => Some(*v),
        [(v, n), (_, m), ..] => (n > m).then_some(*v),
    }
}

fn unreadable(reason: &str) -> Error {
    Error::InvalidParameter {
        name: "catalogue".into(),
        value: "data/spectral_indices".into(),
        reason: format!("the embedded catalogue cannot be read: {reason}"),
    }
}

/// Every index of the catalogue, sorted by short name.
pub fn catalogue() -> Result<&'static [CatalogueEntry]> {
    load().map(|c| c.entries.as_slice()).map_err(unreadable)
}

/// The catalogue index called `short_name`: an exact match first, else the only one whose
/// name matches ignoring case.
pub fn catalogue_entry(short_name: &str) -> Result<&'static CatalogueEntry> {
    let entries = catalogue()?;
    if let Some(e) = entries.iter().find(|e| e.short_name == short_name) {
        return Ok(e);
    }
    let mut folded = entries
        .iter()
        .filter(|e| e.short_name.eq_ignore_ascii_case(short_name));
    match (folded.next(), folded.next()) {
        (Some(e), None) => Ok(e),
        _ => Err(Error::UnknownName {
            kind: "spectral index",
            name: short_name.to_string(),
            known: format!(
                "the {} short names of the Awesome Spectral Indices catalogue, such as NDVI, \
                 EVI, SAVI, NDWI, MNDWI, NDBI, BI",
                entries.len()
            ),
        }),
    }
}

/// The default of a named constant in a formula that is not from the catalogue: `None` when
/// the name is not a catalogue constant, `Some(None)` when it is one without a single
/// default, else the value the catalogue's indices use most often (`L` = 0.5, `g` = 2.5,
/// `C1` = 6, `C2` = 7.5). Ties have no default and must be set.
pub(crate) fn free_constant_default(name: &str) -> Option<Option<f64>> {
    load().ok()?.constants.get(name).copied()
}
