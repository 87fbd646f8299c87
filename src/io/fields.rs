//! Attribute fields of the vector layers written as Shapefile and GeoPackage: each column's
//! type, inferred from its JSON values, its DBF width and decimals, and its DBF name (at most
//! 10 bytes). The names and the rules are listed in `docs/VECTORS.md`.

use serde_json::Value;

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Whole numbers (DBF `N` without decimals, GeoPackage `INTEGER`).
    Integer,
    /// Real numbers (DBF `N` with decimals, GeoPackage `REAL`).
    Real,
    /// Text, UTF-8 (DBF `C`, GeoPackage `TEXT`).
    Text,
    /// True/false (DBF `N` 1 or 0, GeoPackage `BOOLEAN`).
    Logical,
}

/// A field: its name, type, and the DBF name, width and decimals it is written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// The name in GeoJSON, CSV and GeoPackage.
    pub name: String,
    /// The name in the DBF (at most 10 bytes, unique in the layer).
    pub dbf_name: String,
    /// The type.
    pub kind: FieldKind,
    /// DBF width in characters (1 to 254).
    pub width: u8,
    /// DBF decimals (0 but for `Real`).
    pub decimals: u8,
}

/// Significant digits kept by a DBF real field (a double holds 15 to 17).
const REAL_DIGITS: usize = 15;
/// The most decimals of a DBF real field.
const MAX_DECIMALS: usize = 10;
/// The widest DBF field.
const MAX_WIDTH: usize = 254;

/// What the values of one column were seen to be.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    ints: bool,
    floats: bool,
    texts: bool,
    bools: bool,
    negative: bool,
    /// Digits of the largest whole part.
    digits: usize,
    /// Bytes of the longest text.
    bytes: usize,
}

impl Tally {
    /// Notes one value.
    pub fn see(&mut self, v: &Value) {
        match v {
            Value::Null => {}
            Value::Bool(_) => self.bools = true,
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(0.0);
                if n.is_f64() {
                    self.floats = true;
                } else {
                    self.ints = true;
                }
                self.negative |= f < 0.0;
                let whole = f.abs().trunc();
                let digits = if whole < 1.0 {
                    1
                } else {
                    whole.log10().floor() as usize + 1
                };
                self.digits = self.digits.max(digits);
            }
            Value::String(s) => {
                self.texts = true;
                self.bytes = self.bytes.max(s.len());
            }
            other => {
                self.texts = true;
                self.bytes = self.bytes.max(other.to_string().len());
            }
        }
    }

    /// The field these values fit: a column of only booleans is logical, of only whole
    /// numbers integer, of numbers real, of anything else (or nothing but nulls) text.
    pub fn field(&self, name: &str, dbf_name: String) -> FieldSpec {
        let sign = usize::from(self.negative);
        let (kind, width, decimals) = if self.texts || (self.bools && (self.ints || self.floats)) {
            // Mixed columns are written as JSON text: a number takes at most its whole
            // digits, a sign, a point and 17 decimals; `false` takes 5.
            let mut bytes = self.bytes;
            if self.bools {
                bytes = bytes.max(5);
            }
            if self.ints || self.floats {
                bytes = bytes.max(sign + self.digits + 18);
            }
            (FieldKind::Text, bytes.clamp(1, MAX_WIDTH), 0)
        } else if self.bools {
            (FieldKind::Logical, 1, 0)
        } else if self.floats {
            let decimals = REAL_DIGITS.saturating_sub(self.digits).min(MAX_DECIMALS);
            let width = sign + self.digits + 1 + decimals;
            (FieldKind::Real, width.min(MAX_WIDTH), decimals)
        } else if self.ints {
            (FieldKind::Integer, (sign + self.digits).min(MAX_WIDTH), 0)
        } else {
            (FieldKind::Text, 1, 0)
        };
        FieldSpec {
            name: name.to_string(),
            dbf_name,
            kind,
            width: width as u8,
            decimals: decimals as u8,
        }
    }
}

/// DBF names of the patch attributes longer than 10 bytes (the others keep their name).
pub const DBF_NAMES: [(&str, &str); 10] = [
    ("change_type", "chg_type"),
    ("centroid_x", "cent_x"),
    ("centroid_y", "cent_y"),
    ("centroid_lon", "cent_lon"),
    ("centroid_lat", "cent_lat"),
    ("class_before", "cls_before"),
    ("class_after", "cls_after"),
    ("ndvi_before", "ndvi_bef"),
    ("ndvi_after", "ndvi_aft"),
    ("outside_urban_boundary", "out_urban"),
];

/// The DBF name of each field: the table's name, else the name cut to 10 bytes (zone
/// columns `<zone>_m2` and `in_<zone>` keep their `_m2` and `in_`); a name already taken
/// gets `_2`, `_3`… in place of its last bytes.
pub fn dbf_names(names: &[&str]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let base = match DBF_NAMES.iter().find(|(n, _)| n == name) {
            Some((_, short)) => short.to_string(),
            None if name.len() <= 10 => name.to_string(),
            None => match (name.strip_suffix("_m2"), name.strip_prefix("in_")) {
                (Some(zone), _) => format!("{}_m2", cut(zone, 7)),
                (None, Some(zone)) => format!("in_{}", cut(zone, 7)),
                _ => cut(name, 10).to_string(),
            },
        };
        let mut dbf = base.clone();
        let mut k = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&dbf)) {
            let suffix = format!("_{k}");
            dbf = format!("{}{suffix}", cut(&base, 10 - suffix.len()));
            k += 1;
        }
        taken.push(dbf);
    }
    taken
}

/// The longest prefix of `s` of at most `bytes` bytes that ends on a character boundary.
pub fn cut(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The fields of columns `names`, typed by the values `row(i)` of every row `i < count`.
pub fn infer_fields(
    names: &[&str],
    count: usize,
    row: impl Fn(usize) -> Vec<Value> + Sync,
) -> Vec<FieldSpec> {
    use rayon::prelude::*;
    let merge = |mut a: Vec<Tally>, b: Vec<Tally>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.merge(&y);
        }
        a
    };
    let tallies = (0..count)
        .into_par_iter()
        .fold(
            || vec![Tally::default(); names.len()],
            |mut t, i| {
                for (t, v) in t.iter_mut().zip(row(i)) {
                    t.see(&v);
                }
                t
            },
        )
        .reduce(|| vec![Tally::default(); names.len()], merge);
    names
        .iter()
        .zip(dbf_names(names))
        .zip(tallies)
        .map(|((name, dbf), t)| t.field(name, dbf))
        .collect()
}

impl Tally {
    /// Adds what `other` saw.
    fn merge(&mut self, other: &Tally) {
        self.ints |= other.ints;
        self.floats |= other.floats;
        self.texts |= other.texts;
        self.bools |= other.bools;
        self.negative |= other.negative;
        self.digits = self.digits.max(other.digits);
        self.bytes = self.bytes.max(other.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(values: &[Value]) -> FieldSpec {
        let mut t = Tally::default();
        values.iter().for_each(|v| t.see(v));
        t.field("f", "f".into())
    }

    #[test]
    fn columns_are_typed_by_their_values() {
        let f = field(&[json!(1), json!(12345), Value::Null]);
        assert_eq!((f.kind, f.width, f.decimals), (FieldKind::Integer, 5, 0));
        let f = field(&[json!(900.0), json!(-3_604_935.5)]);
        assert_eq!((f.kind, f.width, f.decimals), (FieldKind::Real, 17, 8));
        let f = field(&[json!(0.25)]);
        assert_eq!((f.kind, f.width, f.decimals), (FieldKind::Real, 12, 10));
        let f = field(&[json!("耕地"), Value::Null]);
        assert_eq!((f.kind, f.width), (FieldKind::Text, 6));
        assert_eq!(field(&[json!(true), Value::Null]).kind, FieldKind::Logical);
        assert_eq!(field(&[Value::Null]).kind, FieldKind::Text);
    }

    #[test]
    fn dbf_names_fit_ten_bytes_and_are_unique() {
        let names = dbf_names(&[
            "id",
            "change_type",
            "class_after",
            "basic_farmland_m2",
            "in_basic_farmland",
            "basic_farmyard_m2",
            "outside_urban_boundary",
            "永久基本农田_m2",
        ]);
        assert_eq!(
            names,
            [
                "id",
                "chg_type",
                "cls_after",
                "basic_f_m2",
                "in_basic_f",
                "basic_f__2",
                "out_urban",
                "永久_m2",
            ]
        );
    }
}
