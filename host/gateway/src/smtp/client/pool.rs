//! Idle sessions per server, for the next mail to the same server: no new
//! TCP connection, greeting, EHLO and TLS handshake per mail. A session is
//! reused as it is, without a NOOP first (lettre sent one, a round trip
//! per mail; issue 11): one the server has closed shows itself at the
//! first write or reply, before the server could have taken anything,
//! and the mail goes on a fresh session (`deliverer.rs`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::connection::Connection;

/// Which sessions are alike: the server, and whether they were opened
/// trying STARTTLS (plain-text ones exist for servers whose TLS failed).
pub(super) type Key = (SocketAddr, bool);

/// Idle sessions kept per server. Enough for a burst to one MX to find a
/// session each; more are closed after their mail.
pub(super) const MAX_IDLE_PER_SERVER: usize = 32;

/// How long a session may stay idle. Servers wait minutes for a command
/// (RFC 5321 §4.5.3.2.7 says 5), some far less under load; a session
/// they closed is found out and replaced anyway.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

struct Idle {
    conn: Connection,
    since: Instant,
}

type Sessions = Mutex<HashMap<Key, Vec<Idle>>>;

/// The idle sessions.
pub(super) struct Pool {
    idle: Arc<Sessions>,
    max_per_server: usize,
    timeout: Duration,
    sweeping: Mutex<bool>,
}

impl Pool {
    /// A pool keeping `max_per_server` sessions per key for `timeout`.
    pub fn new(max_per_server: usize, timeout: Duration) -> Self {
        Self {
            idle: Arc::new(Mutex::new(HashMap::new())),
            max_per_server,
            timeout,
            sweeping: Mutex::new(false),
        }
    }

    /// The most recently used idle session for `key`, if one has not
    /// been idle too long.
    pub fn take(&self, key: Key) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let sessions = idle.get_mut(&key)?;
        let now = Instant::now();
        let found = loop {
            let Some(session) = sessions.pop() else {
                break None;
            };
            if now.duration_since(session.since) < self.timeout {
                break Some(session.conn);
            }
            // The newest is too old: so are the others (pushed earlier).
            sessions.clear();
        };
        if sessions.is_empty() {
            idle.remove(&key);
        }
        found
    }

    /// Keeps `conn` for the next mail, unless `key` has enough already.
    pub fn put(&self, key: Key, conn: Connection) {
        {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let sessions = idle.entry(key).or_default();
            if sessions.len() >= self.max_per_server {
                return;
            }
            sessions.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
        self.sweep_in_background();
    }

    /// Whether each idle session at `key` is encrypted (for tests).
    #[cfg(test)]
    pub fn idle_tls(&self, key: Key) -> Vec<bool> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.get(&key)
            .map(|sessions| sessions.iter().map(|s| s.conn.is_tls()).collect())
            .unwrap_or_default()
    }

    /// Starts, once, the task that closes sessions idle too long (with
    /// QUIT), so a server we stop sending to does not keep them open. It
    /// ends with the pool.
    fn sweep_in_background(&self) {
        let mut sweeping = self.sweeping.lock().unwrap_or_else(|e| e.into_inner());
        if *sweeping {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        *sweeping = true;
        let idle: Weak<Sessions> = Arc::downgrade(&self.idle);
        let timeout = self.timeout;
        runtime.spawn(async move {
            let mut tick = tokio::time::interval((timeout / 2).max(Duration::from_millis(100)));
            loop {
                tick.tick().await;
                let Some(idle) = idle.upgrade() else {
                    return;
                };
                let expired = expire(&idle, timeout);
                drop(idle);
                for conn in expired {
                    conn.quit().await;
                }
            }
        });
    }
}

/// Takes out every session idle for `timeout` or more.
fn expire(idle: &Sessions, timeout: Duration) -> Vec<Connection> {
    let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    let mut expired = Vec::new();
    idle.retain(|_, sessions| {
        let keep = sessions
            .split_off(sessions.partition_point(|s| now.duration_since(s.since) >= timeout));
        expired.extend(
            std::mem::replace(sessions, keep)
                .into_iter()
                .map(|s| s.conn),
        );
        !sessions.is_empty()
    });
    expired
}
