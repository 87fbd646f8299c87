//! The names a formula may use: band symbols of the Awesome Spectral Indices catalogue and
//! the functions of the language.

use crate::sensor::BandRole;

/// Catalogue band symbols that map to a landwatch band role.
pub const AVAILABLE_BANDS: [(&str, BandRole); 6] = [
    ("B", BandRole::Blue),
    ("G", BandRole::Green),
    ("R", BandRole::Red),
    ("N", BandRole::Nir),
    ("S1", BandRole::Swir1),
    ("S2", BandRole::Swir2),
];

/// Catalogue band symbols that no landwatch band role carries, with their names.
pub const UNAVAILABLE_BANDS: [(&str, &str); 15] = [
    ("A", "aerosols"),
    ("G1", "green 1"),
    ("N2", "near infrared 2"),
    ("RE1", "red edge 1"),
    ("RE2", "red edge 2"),
    ("RE3", "red edge 3"),
    ("T", "thermal infrared"),
    ("T1", "thermal infrared 1"),
    ("T2", "thermal infrared 2"),
    ("WV", "water vapour"),
    ("Y", "yellow"),
    ("VV", "radar VV backscatter"),
    ("VH", "radar VH backscatter"),
    ("HH", "radar HH backscatter"),
    ("HV", "radar HV backscatter"),
];

/// The band role of an available band symbol.
pub fn band_role(symbol: &str) -> Option<BandRole> {
    AVAILABLE_BANDS
        .iter()
        .find(|(s, _)| *s == symbol)
        .map(|&(_, r)| r)
}

/// Why a catalogue band symbol cannot be used, or `None` when it is not a band symbol that
/// landwatch knows to be unavailable.
pub fn unavailable_band(symbol: &str) -> Option<String> {
    let available = AVAILABLE_BANDS.map(|(s, _)| s).join(", ");
    if let Some((_, what)) = UNAVAILABLE_BANDS.iter().find(|(s, _)| *s == symbol) {
        return Some(format!(
            "band {symbol} ({what}) is unavailable: landwatch stacks carry {available}"
        ));
    }
    // Hyperspectral reflectance at a wavelength, R550, R1080_1120, ...
    let rest = symbol.strip_prefix('R')?;
    if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return Some(format!(
            "band {symbol} (hyperspectral reflectance at {rest} nm) is unavailable: landwatch \
             stacks carry {available}"
        ));
    }
    None
}

/// A function of the formula language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Func {
    Sqrt,
    Abs,
    Min,
    Max,
    Exp,
    Log,
    Clamp,
    Where,
}

/// Every function: name, argument count, use.
pub(crate) const FUNCTIONS: [(&str, Func, usize, &str); 8] = [
    ("sqrt", Func::Sqrt, 1, "sqrt(x)"),
    ("abs", Func::Abs, 1, "abs(x)"),
    ("min", Func::Min, 2, "min(a, b)"),
    ("max", Func::Max, 2, "max(a, b)"),
    ("exp", Func::Exp, 1, "exp(x)"),
    ("log", Func::Log, 1, "log(x), the natural logarithm"),
    ("clamp", Func::Clamp, 3, "clamp(x, low, high)"),
    (
        "where",
        Func::Where,
        3,
        "where(condition, if_true, if_false)",
    ),
];

/// Looks a function up by name: the function and its argument count.
pub(crate) fn function(name: &str) -> Option<(Func, usize, &'static str)> {
    FUNCTIONS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, f, arity, usage)| (f, arity, usage))
}

/// The function names, comma separated, for messages.
pub(crate) fn function_names() -> String {
    FUNCTIONS.map(|(n, ..)| n).join(", ")
}
