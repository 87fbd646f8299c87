//! A flat union-find over `u32` labels whose root is always the smallest label of its set
//! (union by index), with path halving. Because provisional labels are created in raster
//! order, the root of a patch is the label of its first pixel, which makes canonical
//! numbering a single forward sweep.

/// Parent links; `parent[i] == i` for roots. Index 0 is the background and never joined.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnionFind {
    pub(crate) parent: Vec<u32>,
}

impl UnionFind {
    /// A forest with only the background label 0.
    pub(crate) fn new() -> UnionFind {
        UnionFind { parent: vec![0] }
    }

    /// Adds a new singleton label and returns it.
    #[inline]
    pub(crate) fn make(&mut self) -> u32 {
        let l = self.parent.len() as u32;
        self.parent.push(l);
        l
    }

    /// Number of labels, background included.
    pub(crate) fn len(&self) -> usize {
        self.parent.len()
    }

    /// The root of `x`'s set.
    #[inline]
    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        let p = &mut self.parent;
        while p[x as usize] != x {
            let up = p[p[x as usize] as usize];
            p[x as usize] = up;
            x = up;
        }
        x
    }

    /// Joins the sets of `a` and `b`; returns the new root (the smaller one).
    #[inline]
    pub(crate) fn union(&mut self, a: u32, b: u32) -> u32 {
        let (ra, rb) = (self.find(a), self.find(b));
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi as usize] = lo;
        lo
    }

    /// Appends the labels of `other` (its label `k ≥ 1` becomes `k + offset` where
    /// `offset = self.len() - 1`); returns that offset.
    pub(crate) fn append(&mut self, other: &UnionFind) -> u32 {
        let offset = (self.parent.len() - 1) as u32;
        self.parent
            .extend(other.parent[1..].iter().map(|&p| p + offset));
        offset
    }

    /// Canonical ids: `map[l]` is 1..=n in order of each set's smallest label, 0 for 0.
    /// Returns the map and n.
    pub(crate) fn canonical(&mut self) -> (Vec<u32>, u32) {
        let mut map = vec![0u32; self.parent.len()];
        let mut next = 0u32;
        for l in 1..self.parent.len() as u32 {
            let r = self.find(l);
            map[l as usize] = if r == l {
                next += 1;
                next
            } else {
                map[r as usize]
            };
        }
        (map, next)
    }
}
