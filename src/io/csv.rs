//! CSV tables: a header and rows of string fields, quoted as RFC 4180 asks (fields with a
//! comma, quote or line break are quoted, quotes doubled), one `\n`-terminated line per row.

use crate::error::{Error, Result};
use crate::io::atomic::{io_err, write_atomically};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// A field as it goes into a cell: neutralised against formula injection, then quoted
/// when it needs it. A field starting with `=`, `+`, `-`, `@`, a tab or a carriage return
/// that is not a plain number gets a leading `'`, as OWASP recommends, so that a region code
/// like `=HYPERLINK(…)` is shown as text by Excel and WPS rather than run; numbers such as
/// `-0.25` stay numbers.
pub fn csv_field(field: &str) -> Cow<'_, str> {
    let risky =
        field.starts_with(['=', '+', '-', '@', '\t', '\r']) && field.trim().parse::<f64>().is_err();
    let field: Cow<'_, str> = if risky {
        Cow::Owned(format!("'{field}"))
    } else {
        Cow::Borrowed(field)
    };
    if field.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        field
    }
}

/// A number as a cell: rounded to `decimals` decimals (correctly, from the exact binary
/// value), trailing zeros and a trailing point dropped, so that `37.800000000000004` at 2
/// decimals is `37.8`, `900.0` is `900`, and a negative value that rounds to zero is `0`.
/// NaN and infinities, which no table should hold, give an empty cell.
pub fn csv_number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    if text == "-0" {
        text = "0".into();
    }
    text
}

/// The decimals that resolve a hundredth of `step`, a pixel's size in the units of the
/// numbers (metres, degrees): `⌈−log₁₀(step/100)⌉`, from 0 to 12 (7 when `step` is not a
/// positive size). A 30 m pixel gives 1 decimal of metres; as degrees (about 2.7e-4°), 6.
pub fn grid_decimals(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 7;
    }
    (-(step / 100.0).log10()).ceil().clamp(0.0, 12.0) as usize
}

/// One CSV line (without its line break): the fields quoted as needed, joined by commas.
pub fn csv_line<F: AsRef<str>>(fields: &[F]) -> String {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&csv_field(f.as_ref()));
    }
    line
}

/// Writes `header` then every row; each row must have as many fields as the header.
pub fn write_csv<H, R, F>(
    path: impl AsRef<Path>,
    header: &[H],
    rows: impl IntoIterator<Item = R>,
) -> Result<()>
where
    H: AsRef<str>,
    R: AsRef<[F]>,
    F: AsRef<str>,
{
    let columns = header.len();
    write_lines(
        path.as_ref(),
        header,
        rows.into_iter().enumerate().map(|(i, row)| {
            let row = row.as_ref();
            if row.len() != columns {
                return Err(Error::InvalidParameter {
                    name: format!("row {i}"),
                    value: format!("{} fields", row.len()),
                    reason: format!("the header has {columns} fields"),
                });
            }
            Ok(csv_line(row))
        }),
    )
}

/// Writes `header` then lines made by [`csv_line`] (each ends with `\n` in the file). For
/// writers that make their lines in parallel.
pub fn write_csv_lines<H: AsRef<str>>(
    path: impl AsRef<Path>,
    header: &[H],
    lines: impl IntoIterator<Item = String>,
) -> Result<()> {
    write_lines(path.as_ref(), header, lines.into_iter().map(Ok))
}

/// The header, then each line; the first bad line fails the write and leaves no file.
fn write_lines<H: AsRef<str>>(
    path: &Path,
    header: &[H],
    lines: impl Iterator<Item = Result<String>>,
) -> Result<()> {
    write_atomically(path, |w| {
        writeln!(w, "{}", csv_line(header)).map_err(io_err(path))?;
        for line in lines {
            w.write_all(line?.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
                .map_err(io_err(path))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn numbers_are_rounded_without_noise() {
        assert_eq!(csv_number(37.800000000000004, 2), "37.8");
        assert_eq!(csv_number(900.0, 2), "900");
        assert_eq!(csv_number(84486.11929225922, 2), "84486.12");
        assert_eq!(csv_number(126.72917893838883, 3), "126.729");
        assert_eq!(csv_number(-0.0001, 2), "0");
        assert_eq!(csv_number(-0.25, 4), "-0.25");
        assert_eq!(csv_number(1234.4, 0), "1234");
        assert_eq!(csv_number(f64::NAN, 2), "");
        assert_eq!(grid_decimals(30.0), 1);
        assert_eq!(grid_decimals(10.0), 1);
        assert_eq!(grid_decimals(2.7e-4), 6);
        assert_eq!(grid_decimals(9.0e-5), 7);
        assert_eq!(grid_decimals(0.0), 7);
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("@SUM(1)"), "'@SUM(1)");
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("\r=cmd"), "\"'\r=cmd\"");
        for number in ["-0.25", "+1", "-1e-5", "-9999"] {
            assert_eq!(csv_field(number), number);
        }
    }
}
