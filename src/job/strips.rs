//! How the per-pixel stage cuts a scene into strips: the rows each strip outputs, and the rows
//! it reads around them for the neighbourhood kernels.

use std::ops::Range;

/// The strips of a scene of `height` rows, `rows` rows apart, each read with `halo` rows above
/// and below its output rows wherever the scene has them.
///
/// Reads begin on a multiple of `rows` (a block boundary of the files when `rows` is a
/// multiple of their block height: reads decode whole blocks from their top, so a read that
/// began above a boundary would inflate the block above again) and go `2 · halo` rows into
/// the next block. A strip outputs the rows `halo` below its read's top (0 for the first) to
/// `halo` above its read's bottom (the scene's end for the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Strips {
    height: usize,
    rows: usize,
    halo: usize,
}

impl Strips {
    /// Strips of `rows` (at least 1) rows over `height` rows, with `halo` rows of context.
    pub(super) fn new(height: usize, rows: usize, halo: usize) -> Strips {
        Strips {
            height,
            rows: rows.max(1),
            halo,
        }
    }

    /// Rows per strip (the first strip outputs a halo more, the last what is left).
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// How many strips there are (at least one).
    pub(super) fn count(&self) -> usize {
        self.height
            .saturating_sub(self.halo)
            .div_ceil(self.rows)
            .max(1)
    }

    /// The rows strip `s` outputs.
    pub(super) fn output(&self, s: usize) -> Range<usize> {
        let start = if s == 0 { 0 } else { s * self.rows + self.halo };
        let end = if s + 1 == self.count() {
            self.height
        } else {
            (s + 1) * self.rows + self.halo
        };
        start..end
    }

    /// The rows strip `s` reads: its output rows and the halo around them in the scene.
    pub(super) fn read(&self, s: usize) -> Range<usize> {
        let output = self.output(s);
        s * self.rows..(output.end + self.halo).min(self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outputs tile the scene in order, every read starts on a multiple of the strip
    /// height and holds `halo` rows on both sides of its output wherever the scene has them.
    #[test]
    fn outputs_tile_the_scene_and_reads_hold_the_halo() {
        for height in [1, 2, 5, 37, 64, 100, 401, 1000] {
            for rows in [1, 3, 16, 37, 64, 512] {
                for halo in 0..=4 {
                    let strips = Strips::new(height, rows, halo);
                    let mut next = 0;
                    for s in 0..strips.count() {
                        let (output, read) = (strips.output(s), strips.read(s));
                        let what = format!("height {height}, rows {rows}, halo {halo}, strip {s}");
                        assert_eq!(output.start, next, "{what}");
                        assert!(output.end > output.start, "{what}");
                        assert_eq!(read.start % rows, 0, "{what}");
                        assert_eq!(read.start, output.start.saturating_sub(halo), "{what}");
                        assert_eq!(read.end, (output.end + halo).min(height), "{what}");
                        next = output.end;
                    }
                    assert_eq!(next, height, "height {height}, rows {rows}, halo {halo}");
                }
            }
        }
    }
}
