//! The TCP accept loop every listener shares (SIP, MSRP, SMTP). It never
//! ends on an `accept()` error: a full descriptor table (EMFILE, ENFILE) or
//! a short memory shortage is logged, waited out with a growing pause and
//! retried, so service comes back as soon as descriptors are free. Each
//! connection it hands on holds a [`Slot`]; one past a limit, or from a
//! source not allowed at all, is handed on as refused, to be answered at
//! once and closed without holding anything.

mod admission;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

pub use admission::{Admission, ConnectionLimits, Refusal, Slot};

/// First pause after a failed `accept()`; doubled on each further failure.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// Longest pause: service returns at most this long after the cause ends.
const LONGEST_PAUSE: Duration = Duration::from_millis(500);
/// Refused connections are logged as a count at most this often, so that a
/// flood does not become a flood of log lines.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// A connection the gate let through or turned away.
#[derive(Debug)]
pub enum Arrival {
    /// Serve it; the slot goes with it.
    Admitted {
        /// The connection.
        stream: TcpStream,
        /// Its source.
        peer: SocketAddr,
        /// Dropped when the connection ends.
        slot: Slot,
    },
    /// Answer at once if the protocol has a way (SMTP 421), then drop.
    Refused {
        /// The connection.
        stream: TcpStream,
        /// Its source.
        peer: SocketAddr,
        /// Why.
        why: Refusal,
    },
}

/// The addresses the IM system sends from (`sip.trusted_peers`), shared
/// by the SIP endpoint and the SIP TCP listener and replaced whole by a
/// reload.
#[derive(Debug, Clone, Default)]
pub struct TrustedPeers(Arc<arc_swap::ArcSwap<Vec<IpAddr>>>);

impl TrustedPeers {
    /// Whether `ip` is one of them.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.load().contains(ip)
    }

    /// Replaces the list.
    pub fn replace(&self, peers: Vec<IpAddr>) {
        self.0.store(Arc::new(peers));
    }

    /// The list now.
    pub fn get(&self) -> Vec<IpAddr> {
        self.0.load().as_ref().clone()
    }
}

impl From<Vec<IpAddr>> for TrustedPeers {
    fn from(peers: Vec<IpAddr>) -> Self {
        Self(Arc::new(arc_swap::ArcSwap::from_pointee(peers)))
    }
}

/// A listener with its slots and, for SIP, the addresses allowed in.
#[derive(Debug)]
pub struct Gate {
    name: &'static str,
    listener: TcpListener,
    admission: Arc<Admission>,
    allowed: Option<TrustedPeers>,
    pause: Option<Duration>,
    failing_since: Option<(Instant, u64)>,
    refused: RefusalLog,
}

#[derive(Debug, Default)]
struct RefusalLog {
    last: Option<Instant>,
    pending: u64,
}

impl Gate {
    /// A gate named `name` (for logs) over `listener`.
    pub fn new(name: &'static str, listener: TcpListener, limits: ConnectionLimits) -> Self {
        Self {
            name,
            listener,
            admission: Admission::new(limits),
            allowed: None,
            pause: None,
            failing_since: None,
            refused: RefusalLog::default(),
        }
    }

    /// Only connections from `allowed` get in (checked at accept, before
    /// a byte is read; the list may be replaced while serving).
    pub fn allow_only(mut self, allowed: impl Into<TrustedPeers>) -> Self {
        let allowed = allowed.into();
        self.allowed = Some(allowed);
        self
    }

    /// The listener's address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The slots, to read what is held.
    pub fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    /// The next connection. Cancel-safe: it can sit in a `select!` with
    /// the shutdown signal.
    pub async fn next(&mut self) -> Arrival {
        loop {
            if let Some(pause) = self.pause {
                tokio::time::sleep(pause).await;
            }
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.recovered();
                    return self.sort(stream, peer);
                }
                Err(e) if is_about_one_connection(&e) => {
                    tracing::debug!(listener = self.name, "accept: {e}");
                }
                Err(e) => self.failed(&e),
            }
        }
    }

    fn sort(&mut self, stream: TcpStream, peer: SocketAddr) -> Arrival {
        let allowed = self
            .allowed
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&peer.ip()));
        let admitted = if allowed {
            self.admission.admit(peer.ip())
        } else {
            Err(Refusal::Untrusted)
        };
        match admitted {
            Ok(slot) => Arrival::Admitted { stream, peer, slot },
            Err(why) => {
                self.log_refusal(peer, why);
                Arrival::Refused { stream, peer, why }
            }
        }
    }

    fn log_refusal(&mut self, peer: SocketAddr, why: Refusal) {
        let log = &mut self.refused;
        log.pending += 1;
        if log
            .last
            .is_none_or(|last| last.elapsed() >= REFUSAL_LOG_EVERY)
        {
            let limits = self.admission.limits();
            tracing::warn!(
                listener = self.name,
                %peer,
                refused = log.pending,
                limit_total = limits.total,
                limit_per_source = limits.per_source,
                "connection refused: {} (count since the last such line)",
                why.describe()
            );
            log.last = Some(Instant::now());
            log.pending = 0;
        }
    }

    fn failed(&mut self, e: &std::io::Error) {
        let pause = self
            .pause
            .map_or(FIRST_PAUSE, |p| (p * 2).min(LONGEST_PAUSE));
        self.pause = Some(pause);
        match &mut self.failing_since {
            Some((_, count)) => *count += 1,
            None => {
                self.failing_since = Some((Instant::now(), 1));
                let hint = if matches!(e.raw_os_error(), Some(23 | 24)) {
                    " (out of file descriptors; see the open-files limit logged at start)"
                } else {
                    ""
                };
                tracing::error!(
                    listener = self.name,
                    "accept failed: {e}{hint}; retrying with pauses up to {} ms",
                    LONGEST_PAUSE.as_millis()
                );
            }
        }
    }

    fn recovered(&mut self) {
        self.pause = None;
        if let Some((since, failures)) = self.failing_since.take() {
            tracing::warn!(
                listener = self.name,
                failures,
                after_ms = since.elapsed().as_millis() as u64,
                "accepting connections again"
            );
        }
    }
}

/// Errors that concern the one connection being accepted (it was reset
/// before we took it), not the listener: retried at once.
fn is_about_one_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || matches!(e.raw_os_error(), Some(71 /* EPROTO */))
}

/// What a refused connection is told before it is dropped: written only if
/// it fits the socket buffer at once (it always does on a new connection),
/// so no refused connection is kept waiting on a slow reader.
pub fn answer_and_drop(stream: TcpStream, bytes: &[u8]) {
    let _ = stream.try_write(bytes);
    drop(stream);
}

/// Raises the soft open-files limit to the hard one (a listener that runs
/// out of descriptors refuses service until they come back) and returns
/// the limit in force.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current;
    let Some(hard) = limit.maximum else {
        // No hard limit: nothing to raise to; keep what we have.
        return Ok(soft.unwrap_or(u64::MAX));
    };
    if soft.is_some_and(|s| s < hard) {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        )?;
        tracing::info!(from = soft, to = hard, "raised the open-files limit");
    }
    Ok(hard)
}

#[cfg(test)]
mod tests;
