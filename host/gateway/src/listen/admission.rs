//! Connection slots: how many connections a listener holds in total and
//! per source address (Postfix's `smtpd_client_connection_count_limit`).
//! A slot is taken when a connection is accepted and given back when the
//! [`Slot`] is dropped, however the connection ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// How many connections a listener keeps open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// In all.
    pub total: usize,
    /// From one source address.
    pub per_source: usize,
}

/// Why a connection got no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener holds `total` connections already.
    Total,
    /// The source holds `per_source` connections already.
    PerSource,
    /// The source may not connect at all (`sip.trusted_peers`).
    Untrusted,
}

impl Refusal {
    /// The reason, for logs.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Total => "connection limit reached",
            Self::PerSource => "per-source connection limit reached",
            Self::Untrusted => "source is not a trusted peer",
        }
    }
}

/// The slots of one listener.
#[derive(Debug)]
pub struct Admission {
    limits: ConnectionLimits,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// One connection's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    admission: Arc<Admission>,
    source: IpAddr,
}

impl Admission {
    /// Slots for `limits`.
    pub fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            held: Mutex::new(Held::default()),
        })
    }

    /// A slot for a connection from `source`, unless a limit is reached.
    pub fn admit(self: &Arc<Self>, source: IpAddr) -> Result<Slot, Refusal> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.total >= self.limits.total {
            return Err(Refusal::Total);
        }
        let from_source = held.by_source.entry(source).or_default();
        if *from_source >= self.limits.per_source {
            return Err(Refusal::PerSource);
        }
        *from_source += 1;
        held.total += 1;
        Ok(Slot {
            admission: self.clone(),
            source,
        })
    }

    /// Connections held now, in all and from `source`.
    pub fn held(&self, source: IpAddr) -> (usize, usize) {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        (
            held.total,
            held.by_source.get(&source).copied().unwrap_or(0),
        )
    }

    /// Connections held now, from every source.
    pub fn total(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// The limits.
    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .admission
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.total = held.total.saturating_sub(1);
        if let Some(count) = held.by_source.get_mut(&self.source) {
            *count -= 1;
            if *count == 0 {
                // Sources come and go: keep the map as small as the set of
                // sources connected now.
                held.by_source.remove(&self.source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn per_source_then_total_and_slots_come_back_on_drop() {
        let admission = Admission::new(ConnectionLimits {
            total: 3,
            per_source: 2,
        });
        let a1 = admission.admit(A).unwrap();
        let a2 = admission.admit(A).unwrap();
        assert_eq!(admission.admit(A).unwrap_err(), Refusal::PerSource);
        let b1 = admission.admit(B).unwrap();
        assert_eq!(admission.admit(B).unwrap_err(), Refusal::Total);
        assert_eq!(admission.held(A), (3, 2));
        drop(a1);
        assert_eq!(admission.held(A), (2, 1));
        let a3 = admission.admit(A).unwrap();
        drop((a2, a3, b1));
        assert_eq!(admission.held(A), (0, 0));
        assert!(admission.held.lock().unwrap().by_source.is_empty());
    }
}
