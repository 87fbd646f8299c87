//! CSV tables: a header and rows of string fields, quoted as RFC 4180 asks (fields with a
//! comma, quote or line break are quoted, quotes doubled), one `\n`-terminated line per row.

use crate::error::{Error, Result};
use crate::io::atomic::{io_err, write_atomically};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// Quotes a field when it needs it.
pub fn csv_field(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
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
    let path = path.as_ref();
    write_atomically(path, |w| {
        let mut line = |fields: &mut dyn Iterator<Item = &str>| -> Result<()> {
            let joined: Vec<Cow<'_, str>> = fields.map(csv_field).collect();
            writeln!(w, "{}", joined.join(",")).map_err(io_err(path))
        };
        line(&mut header.iter().map(AsRef::as_ref))?;
        for (i, row) in rows.into_iter().enumerate() {
            let row = row.as_ref();
            if row.len() != header.len() {
                return Err(Error::InvalidParameter {
                    name: format!("row {i}"),
                    value: format!("{} fields", row.len()),
                    reason: format!("the header has {} fields", header.len()),
                });
            }
            line(&mut row.iter().map(AsRef::as_ref))?;
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
}
