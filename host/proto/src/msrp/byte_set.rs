//! Which byte positions of a message have arrived.

/// A set of 1-based byte positions kept as sorted, disjoint, non-touching
/// inclusive ranges, so duplicates and overlaps cost nothing extra.
#[derive(Debug, Default, Clone)]
pub(crate) struct ByteSet {
    ranges: Vec<(u64, u64)>,
}

impl ByteSet {
    /// Adds positions `first..=last`; `first > last` adds nothing.
    pub(crate) fn insert(&mut self, first: u64, last: u64) {
        if first > last {
            return;
        }
        let (mut first, mut last) = (first, last);
        // Absorb every range that overlaps or touches the new one.
        self.ranges.retain(|&(a, b)| {
            let apart = b.saturating_add(1) < first || last.saturating_add(1) < a;
            if !apart {
                first = first.min(a);
                last = last.max(b);
            }
            apart
        });
        let at = self.ranges.partition_point(|&(a, _)| a < first);
        self.ranges.insert(at, (first, last));
    }

    /// Number of positions in the set.
    pub(crate) fn len(&self) -> u64 {
        self.ranges.iter().map(|&(a, b)| b - a + 1).sum()
    }

    /// Whether every position `1..=total` is present.
    pub(crate) fn covers(&self, total: u64) -> bool {
        total == 0
            || self
                .ranges
                .first()
                .is_some_and(|&(a, b)| a == 1 && b >= total)
    }

    /// The highest position present, or 0.
    pub(crate) fn max(&self) -> u64 {
        self.ranges.last().map_or(0, |&(_, b)| b)
    }

    /// The stored ranges that intersect `first..=last`.
    pub(crate) fn overlapping(&self, first: u64, last: u64) -> impl Iterator<Item = (u64, u64)> {
        self.ranges
            .iter()
            // An empty range (an interrupted chunk that carried no byte:
            // last = first - 1) overlaps nothing; without this test it gave
            // (first, first - 1) and the caller's `b - first` overflowed
            // (found by the msrp_reassembly fuzz target).
            .filter(move |&&(a, b)| first <= last && a <= last && b >= first)
            .map(move |&(a, b)| (a.max(first), b.min(last)))
    }
}
