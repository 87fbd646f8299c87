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
