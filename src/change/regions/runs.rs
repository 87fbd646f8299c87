//! Run-length row masks: a set of pixels kept, row by row, as sorted half-open column
//! intervals that neither overlap nor touch. Set algebra, square dilation and 8-connected
//! labelling work on the runs alone, so memory and time scale with the number of runs,
//! never with the number of pixels.

use crate::error::{Error, Result};
use crate::patch::unionfind::UnionFind;
use std::ops::Range;

/// The columns `start..end` of one row.
pub(super) type Run = (u32, u32);

/// A pixel set of a `width`-wide grid as runs per row.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RowRuns {
    width: u32,
    /// `runs[offsets[y]..offsets[y + 1]]` are row y's runs; the last row may still be open.
    offsets: Vec<usize>,
    runs: Vec<Run>,
}

impl RowRuns {
    /// A set with no rows.
    pub(super) fn new(width: u32) -> RowRuns {
        RowRuns {
            width,
            offsets: vec![0],
            runs: Vec::new(),
        }
    }

    /// Builds `height` rows; `fill(y, buf)` puts row y's intervals into the empty `buf`, in
    /// any order, overlapping or not.
    pub(super) fn build(
        width: u32,
        height: usize,
        mut fill: impl FnMut(usize, &mut Vec<Run>),
    ) -> RowRuns {
        let mut out = RowRuns::new(width);
        let mut buf = Vec::new();
        for y in 0..height {
            buf.clear();
            fill(y, &mut buf);
            buf.sort_unstable();
            for &run in &buf {
                out.push(run);
            }
            out.end_row();
        }
        out
    }

    /// Width of the grid.
    pub(super) fn width(&self) -> u32 {
        self.width
    }

    /// Number of closed rows.
    pub(super) fn height(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of runs.
    pub(super) fn len(&self) -> usize {
        self.runs.len()
    }

    /// Bytes held on the heap.
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * size_of::<usize>() + self.runs.capacity() * size_of::<Run>()
    }

    /// Indices of row y's runs.
    pub(super) fn range(&self, y: usize) -> Range<usize> {
        self.offsets[y]..self.offsets[y + 1]
    }

    /// Row y's runs; none for a row outside the set.
    pub(super) fn row(&self, y: isize) -> &[Run] {
        match usize::try_from(y) {
            Ok(y) if y < self.height() => &self.runs[self.range(y)],
            _ => &[],
        }
    }

    /// Run `i` (in raster order).
    pub(super) fn run(&self, i: usize) -> Run {
        self.runs[i]
    }

    /// Number of pixels.
    pub(super) fn pixels(&self) -> u64 {
        self.runs.iter().map(|&(s, e)| u64::from(e - s)).sum()
    }

    /// Adds `run` to the open row, after every run there that starts before it; joins it to
    /// the last one when they overlap or touch.
    fn push(&mut self, (start, end): Run) {
        if start >= end {
            return;
        }
        let open = *self.offsets.last().unwrap_or(&0) < self.runs.len();
        match self.runs.last_mut() {
            Some(last) if open && last.1 >= start => last.1 = last.1.max(end),
            _ => self.runs.push((start, end)),
        }
    }

    /// Closes the open row.
    fn end_row(&mut self) {
        self.offsets.push(self.runs.len());
    }

    /// Appends the rows of `other` below this set's.
    pub(super) fn append(&mut self, other: &RowRuns) {
        let base = self.runs.len();
        self.runs.extend_from_slice(&other.runs);
        self.offsets
            .extend(other.offsets[1..].iter().map(|&o| o + base));
    }

    /// The runs `i` for which `keep(i)`.
    pub(super) fn filter(&self, mut keep: impl FnMut(usize) -> bool) -> RowRuns {
        RowRuns::build(self.width, self.height(), |y, buf| {
            buf.extend(self.range(y).filter(|&i| keep(i)).map(|i| self.runs[i]));
        })
    }

    /// Row y of the result is `op(self.row(y), other.row(y + shift))`.
    fn combine(
        &self,
        other: &RowRuns,
        shift: isize,
        op: fn(&[Run], &[Run], &mut Vec<Run>),
    ) -> RowRuns {
        RowRuns::build(self.width, self.height(), |y, buf| {
            op(self.row(y as isize), other.row(y as isize + shift), buf)
        })
    }

    /// The union of the two sets.
    pub(super) fn union(&self, other: &RowRuns) -> RowRuns {
        self.combine(other, 0, union_rows)
    }

    /// The intersection of the two sets.
    pub(super) fn intersect(&self, other: &RowRuns) -> RowRuns {
        self.combine(other, 0, intersect_rows)
    }

    /// The pixels of this set that are not in `other`.
    pub(super) fn subtract(&self, other: &RowRuns) -> RowRuns {
        self.combine(other, 0, subtract_rows)
    }

    /// The set eroded by a 3×3 square: a pixel stays when its eight neighbours are in the set
    /// too (outside the grid counts as outside the set).
    pub(super) fn erode(&self) -> RowRuns {
        let shrunk = RowRuns::build(self.width, self.height(), |y, buf| {
            buf.extend(
                (self.row(y as isize).iter())
                    .filter(|&&(s, e)| e > s + 2)
                    .map(|&(s, e)| (s + 1, e - 1)),
            )
        });
        shrunk
            .combine(&shrunk, -1, intersect_rows)
            .combine(&shrunk, 1, intersect_rows)
    }

    /// The set dilated by a `(2r+1)²` square, clipped to the grid.
    pub(super) fn dilate(&self, r: usize) -> RowRuns {
        if r == 0 {
            return self.clone();
        }
        let (w, h) = (self.width, self.height());
        let rx = u32::try_from(r).unwrap_or(u32::MAX).min(w);
        let wide = RowRuns::build(w, h, |y, buf| {
            buf.extend(
                self.row(y as isize)
                    .iter()
                    .map(|&(s, e)| (s.saturating_sub(rx), e.saturating_add(rx).min(w))),
            )
        });
        let ry = r.min(h.saturating_sub(1));
        wide.window(ry + 1, 1).window(ry + 1, -1)
    }

    /// Row y of the result is the union of rows `y + dir·i` for `i < len`: binary
    /// decomposition of the window into doubling blocks, O(log len) unions.
    fn window(&self, len: usize, dir: isize) -> RowRuns {
        let mut block = self.clone(); // rows y .. y + dir·size
        let mut size = 1usize;
        let mut out: Option<RowRuns> = None;
        let mut covered = 0usize;
        loop {
            if len & size != 0 {
                let shift = dir * covered as isize;
                out = Some(match out {
                    None => block.combine(&block, shift, |_, b, buf| buf.extend_from_slice(b)),
                    Some(o) => o.combine(&block, shift, union_rows),
                });
                covered += size;
            }
            if size > len / 2 {
                break;
            }
            block = block.combine(&block, dir * size as isize, union_rows);
            size *= 2;
        }
        out.unwrap_or_else(|| RowRuns::build(self.width, self.height(), |_, _| {}))
    }

    /// Calls `f(i, j)` for every run `i` of this set and run `j` of `other` (same height)
    /// that share a pixel.
    pub(super) fn overlaps(&self, other: &RowRuns, mut f: impl FnMut(usize, usize)) {
        for y in 0..self.height().min(other.height()) {
            let (a, b) = (self.range(y), other.range(y));
            let (mut i, mut j) = (a.start, b.start);
            while i < a.end && j < b.end {
                let (p, q) = (self.runs[i], other.runs[j]);
                if p.0.max(q.0) < p.1.min(q.1) {
                    f(i, j);
                }
                if p.1 < q.1 { i += 1 } else { j += 1 }
            }
        }
    }

    /// The 8-connected components: `root[i]` is the index of the first run (in raster order)
    /// of run i's component.
    pub(super) fn components(&self) -> Result<Vec<u32>> {
        let n = u32::try_from(self.runs.len())
            .ok()
            .filter(|&n| n < u32::MAX)
            .ok_or_else(|| Error::TooLarge {
                what: format!("{} runs in one layer: run labels are u32", self.runs.len()),
            })?;
        // Run i is label i + 1: label 0 is the union-find's background.
        let mut uf = UnionFind {
            parent: (0..=n).collect(),
        };
        for y in 1..self.height() {
            let (a, b) = (self.range(y - 1), self.range(y));
            let (mut i, mut j) = (a.start, b.start);
            while i < a.end && j < b.end {
                let (p, q) = (self.runs[i], self.runs[j]);
                // Columns p.0..p.1 and q.0..q.1 touch, diagonals included.
                if p.0 <= q.1 && q.0 <= p.1 {
                    uf.union(i as u32 + 1, j as u32 + 1);
                }
                if p.1 < q.1 { i += 1 } else { j += 1 }
            }
        }
        Ok((1..=n).map(|l| uf.find(l) - 1).collect())
    }
}

/// Both rows' runs.
fn union_rows(a: &[Run], b: &[Run], buf: &mut Vec<Run>) {
    buf.extend_from_slice(a);
    buf.extend_from_slice(b);
}

/// The columns in both rows.
fn intersect_rows(a: &[Run], b: &[Run], buf: &mut Vec<Run>) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (s, e) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if s < e {
            buf.push((s, e));
        }
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
}

/// The columns of row `a` outside row `b`.
fn subtract_rows(a: &[Run], b: &[Run], buf: &mut Vec<Run>) {
    let mut j = 0;
    for &(start, end) in a {
        while j < b.len() && b[j].1 <= start {
            j += 1;
        }
        let mut s = start;
        for &(cs, ce) in b[j..].iter().take_while(|c| c.0 < end) {
            if cs > s {
                buf.push((s, cs));
            }
            s = s.max(ce);
        }
        if s < end {
            buf.push((s, end));
        }
    }
}

/// Appends one row to each of `layers`: column x joins `layers[b]` when bit b of
/// `class(row[x])` is set. Bytes without any bit of `live` must have class 0; runs of such
/// bytes, and of a repeated byte, are skipped eight at a time.
pub(super) fn encode_row(row: &[u8], live: u8, class: impl Fn(u8) -> u8, layers: &mut [RowRuns]) {
    let live_word = u64::from_ne_bytes([live; 8]);
    let (mut state, mut last) = (0u8, 0u8);
    let mut start = [0u32; 8];
    let mut step = |x: usize, byte: u8, state: &mut u8| {
        let c = class(byte);
        let mut diff = c ^ *state;
        while diff != 0 {
            let b = diff.trailing_zeros() as usize;
            diff &= diff - 1;
            if c & (1 << b) != 0 {
                start[b] = x as u32;
            } else {
                layers[b].push((start[b], x as u32));
            }
        }
        *state = c;
    };
    let mut chunks = row.chunks_exact(8);
    for (k, chunk) in chunks.by_ref().enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let word = u64::from_ne_bytes(bytes);
        if (state == 0 && word & live_word == 0) || word == u64::from_ne_bytes([last; 8]) {
            continue;
        }
        for (i, &byte) in chunk.iter().enumerate() {
            step(k * 8 + i, byte, &mut state);
        }
        last = chunk[7];
    }
    let tail = row.len() - chunks.remainder().len();
    for (i, &byte) in chunks.remainder().iter().enumerate() {
        step(tail + i, byte, &mut state);
    }
    step(row.len(), 0, &mut state);
    for layer in layers {
        layer.end_row();
    }
}
