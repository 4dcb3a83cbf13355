//! The gateway's durable store (issue 9): messages it accepted and has not
//! delivered yet, with their retry schedule, behind one trait, [`Store`].
//!
//! Postfix's rule is the contract: **queue before acknowledge**. A future
//! returned by [`Store::enqueue`] resolves only once the message is
//! committed to stable storage (SQLite: WAL, `synchronous = FULL`), so the
//! caller may answer `202` / `250` then. Commits are grouped: every
//! operation waiting when the writer is free goes into one transaction
//! and one fsync.
//!
//! Delivery is claimed with a lease ([`Store::claim_due`]): a node that
//! dies mid-delivery loses its lease when it expires and the message is
//! due again, for itself after a restart or for another node.
//!
//! * [`sqlite`] — the embedded backend, one file.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

mod schema;
pub mod sqlite;

pub use sqlite::SqliteStore;

/// A future the store returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Milliseconds since the Unix epoch: the store's clock, given by callers
/// so tests control it.
pub type Millis = i64;

/// `wait` after `now`, saturating: lifetimes and leases come from
/// configuration and must not wrap.
pub fn after(now: Millis, wait: Duration) -> Millis {
    now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

/// The id of a queued message, unique in its store.
pub type QueueId = i64;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("store: {0}")]
    Database(String),
    /// The store was made by a newer Interwork (its schema version is
    /// above what this binary knows).
    #[error("the store has schema version {found}; this build knows up to {known}")]
    NewerSchema {
        /// Version in the store.
        found: i64,
        /// Newest version this build can migrate to.
        known: i64,
    },
    /// The store's writer is gone (the process is stopping).
    #[error("the store is closed")]
    Closed,
    /// No such message, or not in a state that allows the operation.
    #[error("no queued message {0} in that state")]
    NotFound(QueueId),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(e.to_string())
    }
}

/// Which way a queued message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Made from an IM, to be delivered by SMTP.
    ImToMail,
    /// Made from a mail, to be delivered as an IM.
    MailToIm,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Self::ImToMail => "im-to-mail",
            Self::MailToIm => "mail-to-im",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "im-to-mail" => Ok(Self::ImToMail),
            "mail-to-im" => Ok(Self::MailToIm),
            other => Err(StoreError::Database(format!("unknown direction {other:?}"))),
        }
    }
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for its next attempt (or being attempted, under a lease).
    Queued,
    /// Kept, not attempted, until released (`queue hold`).
    Held,
    /// Delivered; kept for correlation until purged.
    Delivered,
    /// Refused for good by the far side.
    Failed,
    /// Its lifetime ran out before delivery.
    Expired,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Held => "held",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "queued" => Self::Queued,
            "held" => Self::Held,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            other => return Err(StoreError::Database(format!("unknown state {other:?}"))),
        })
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Which way it goes.
    pub direction: Direction,
    /// The sender (`MAIL FROM` or the IM sender's URI).
    pub sender: String,
    /// The recipients (`RCPT TO`s or IM URIs).
    pub recipients: Vec<String>,
    /// The Message-ID of the mail (made or received), without brackets.
    pub message_id: String,
    /// The imdn.Message-ID of the IM side, when there is one.
    pub imdn_message_id: Option<String>,
    /// What is delivered: the RFC 5322 message, or the IM request.
    pub content: Vec<u8>,
}

/// A message as the queue holds it (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its id.
    pub id: QueueId,
    /// Which way it goes.
    pub direction: Direction,
    /// The sender.
    pub sender: String,
    /// The recipients.
    pub recipients: Vec<String>,
    /// The mail's Message-ID.
    pub message_id: String,
    /// The IM's imdn.Message-ID.
    pub imdn_message_id: Option<String>,
    /// Where it stands.
    pub state: State,
    /// When it was accepted.
    pub created_at: Millis,
    /// When it stops being retried.
    pub expires_at: Millis,
    /// When it is due next.
    pub next_attempt_at: Millis,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Size of its content in bytes.
    pub size: u64,
}

/// A message claimed for delivery: its entry, its content, and the lease
/// under which the claimer may report on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// Its queue entry as claimed (attempts already counts this one).
    pub entry: Entry,
    /// What to deliver.
    pub content: Vec<u8>,
}

/// How an attempt ended, reported by the claimer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Delivered.
    Delivered,
    /// Not now (4xx, timeout, no route yet): due again at `retry_at`, unless
    /// that is past the message's lifetime, when it expires.
    Deferred {
        /// When to try again.
        retry_at: Millis,
        /// Why it failed this time.
        error: String,
    },
    /// Refused for good (5xx).
    Failed {
        /// The far side's answer.
        error: String,
    },
}

/// The retry schedule of RFC 5321 §4.5.4.1: the first retry after
/// `minimum`, each later one twice as long after the previous, at most
/// `maximum` apart; messages are given up after `lifetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait before the first retry (Postfix `minimal_backoff_time`, 300 s).
    pub minimum: Duration,
    /// Longest wait between two attempts (Postfix `maximal_backoff_time`,
    /// 4000 s).
    pub maximum: Duration,
    /// How long a message is retried (Postfix `maximal_queue_lifetime`, 5 d).
    pub lifetime: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            minimum: Duration::from_secs(300),
            maximum: Duration::from_secs(4000),
            lifetime: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl Backoff {
    /// When to try again after `attempts` failed attempts, from `now`.
    pub fn next_attempt(&self, attempts: u32, now: Millis) -> Millis {
        let doubled = self
            .minimum
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        after(now, doubled.min(self.maximum))
    }

    /// When a message accepted at `now` expires.
    pub fn expiry(&self, now: Millis) -> Millis {
        after(now, self.lifetime)
    }
}

/// The store: one trait, two backends (SQLite now; PostgreSQL next).
pub trait Store: Send + Sync {
    /// Queues a message, due at once; resolves once it is durable.
    fn enqueue(
        &self,
        message: NewMessage,
        now: Millis,
        expires_at: Millis,
    ) -> StoreFuture<'_, QueueId>;

    /// Claims up to `limit` queued messages due at `now` whose lease (if
    /// any) has run out, for `owner`, until `now + lease`. Each claim counts
    /// as an attempt.
    fn claim_due(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Claimed>>;

    /// Reports the attempt `owner` made on `id` under its lease. A report
    /// from someone whose lease was lost is [`StoreError::NotFound`]: the
    /// message went to another claimer.
    fn report(
        &self,
        id: QueueId,
        owner: &str,
        attempt: Attempt,
        now: Millis,
    ) -> StoreFuture<'_, ()>;

    /// The queue, oldest first, in the given states (all when empty).
    fn list(&self, states: &[State]) -> StoreFuture<'_, Vec<Entry>>;

    /// Holds a queued message (`queue hold`), releases a held one
    /// (`queue release`, due at once), or makes a queued one due now
    /// (`queue flush`).
    fn set_hold(&self, id: QueueId, hold: bool, now: Millis) -> StoreFuture<'_, ()>;

    /// Makes every queued message (or one) due at `now`.
    fn flush(&self, id: Option<QueueId>, now: Millis) -> StoreFuture<'_, u64>;

    /// Deletes a message whatever its state (`queue delete`).
    fn delete(&self, id: QueueId) -> StoreFuture<'_, ()>;
}

#[cfg(test)]
mod tests;
