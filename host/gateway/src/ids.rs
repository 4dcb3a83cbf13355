//! Identifiers the gateway makes up: SIP tags and branches, Message-IDs,
//! IMDN message ids, MSRP transaction ids. Unique, not secret: a process-wide
//! sequence mixed with per-process randomness (std's hasher keys).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

static SEQUENCE: AtomicU64 = AtomicU64::new(1);
static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

/// 64 bits that differ on every call.
pub fn unique_u64() -> u64 {
    let mut hasher = KEYS.build_hasher();
    hasher.write_u64(SEQUENCE.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// A fresh token of 16 lowercase hex digits (a SIP tag, an IMDN or MSRP id).
pub fn token() -> String {
    format!("{:016x}", unique_u64())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_differ() {
        let a: std::collections::BTreeSet<String> = (0..10_000).map(|_| super::token()).collect();
        assert_eq!(a.len(), 10_000);
        assert!(a.iter().all(|t| t.len() == 16));
    }
}
