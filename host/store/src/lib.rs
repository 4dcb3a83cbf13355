//! The gateway's durable store (issue 9): messages it accepted and has not
//! delivered yet, with their retry schedule, behind one trait, [`Store`].
//!
//! Postfix's rule is the contract: **queue before acknowledge**. A future
//! returned by [`Store::enqueue`] resolves only once the message is
//! committed to stable storage, so the caller may answer `202` / `250`
//! then. Commits are grouped: SQLite's writer puts every operation waiting
//! when it is free into one transaction and one fsync; PostgreSQL groups
//! the WAL flushes of concurrent commits itself.
//!
//! Delivery is claimed with a lease ([`Store::claim_due`]): a node that
//! dies mid-delivery loses its lease when it expires and the message is
//! due again, for itself after a restart or for another node.
//!
//! Beside the queue it keeps correlation records ([`Correlation`]): which
//! IM became which mail and back, by every id either side may quote later.
//!
//! * [`sqlite`] — the embedded backend, one file, one node.
//! * [`postgres`] — one database shared by several nodes, which claim
//!   with `FOR UPDATE SKIP LOCKED`.
//! * [`schema`] — the versioned migrations of both, side by side.
//! * `conformance` (feature `conformance`) — the behaviour tests every
//!   backend passes.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod postgres;
pub mod schema;
pub mod sqlite;

pub use postgres::{PgOptions, PgStore};
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

/// A PostgreSQL error on one line: its kind, its cause (tokio-postgres
/// shows only "db error" and keeps the server's message in the source),
/// and the SQLSTATE, which tells an operator what kind of failure it was
/// (57P01 server shutting down, 53300 too many connections, 3D000 no such
/// database) where the message alone may not.
fn postgres_error(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    if let Some(cause) = std::error::Error::source(e) {
        text = format!("{text}: {cause}");
    }
    if let Some(code) = e.code() {
        text = format!("{text} (SQLSTATE {})", code.code());
    }
    // The server's DETAIL and HINT come on lines of their own.
    text.replace('\n', "; ")
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Database(postgres_error(&e))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Database(match e {
            deadpool_postgres::PoolError::Backend(e) => {
                format!("cannot connect to the database: {}", postgres_error(&e))
            }
            // Timed out waiting for a connection, or the pool is closed.
            other => format!("no database connection: {other}"),
        })
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
    /// Its name, as stored and as the queue tools print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImToMail => "im-to-mail",
            Self::MailToIm => "mail-to-im",
        }
    }

    /// The direction named `text` (as stored).
    pub fn parse(text: &str) -> Result<Self, StoreError> {
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
    /// Refused for good by the far side.
    Failed,
    /// Its lifetime ran out before delivery.
    Expired,
}

impl State {
    /// Its name, as stored and as the queue tools print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Held => "held",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    /// The state named `text` (as stored).
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "queued" => Self::Queued,
            "held" => Self::Held,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            other => return Err(StoreError::Database(format!("unknown state {other:?}"))),
        })
    }
}

/// The messages of one direction in one state ([`Store::summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSummary {
    /// Which way they go.
    pub direction: Direction,
    /// Where they stand.
    pub state: State,
    /// How many.
    pub count: u64,
    /// When the oldest was accepted.
    pub oldest_created_at: Millis,
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
    /// The same content in another form the deliverer may need instead:
    /// the 7-bit copy of an 8-bit mail, for a server without 8BITMIME.
    pub alternate: Option<Vec<u8>>,
    /// The delivery status notifications asked for, as RFC 3461 `NOTIFY=`
    /// values (`SUCCESS,FAILURE`); `None` when none were.
    pub dsn_notify: Option<String>,
    /// What ties this message to the other side's, written in the same
    /// commit as the message.
    pub correlation: Option<Correlation>,
}

/// When a new message is due, when it gives up, and whether its first
/// attempt is already under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Now: the message is accepted and due at once.
    pub now: Millis,
    /// When it stops being retried.
    pub expires_at: Millis,
    /// Claimed in the same commit by the node that accepted it, which
    /// attempts it at once while the sender waits for the answer; `None`
    /// leaves it to the next [`Store::claim_due`].
    pub lease: Option<Lease>,
}

/// A claim on a message: who attempts it, and until when nobody else may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The claiming node (its name and process).
    pub owner: String,
    /// When the claim runs out.
    pub until: Millis,
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
    /// The DSN asked for (RFC 3461 `NOTIFY=` values).
    pub dsn_notify: Option<String>,
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
    /// Who is attempting it now, while the lease runs.
    pub lease: Option<Lease>,
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
    /// The other form of it ([`NewMessage::alternate`]).
    pub alternate: Option<Vec<u8>>,
}

/// How an attempt ended, reported by the claimer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Delivered: the message leaves the queue (its correlation stays).
    Delivered,
    /// Not now (4xx, timeout, no route yet): due again at `retry_at`, unless
    /// that is past the message's lifetime, when it expires.
    Deferred {
        /// When to try again.
        retry_at: Millis,
        /// Why it failed this time.
        error: String,
    },
    /// Refused for good (5xx) after the sender was told it was accepted:
    /// kept as failed, for the notifications to report.
    Failed {
        /// The far side's answer.
        error: String,
    },
    /// Refused for good while the sender still waited for the answer: the
    /// sender hears the refusal itself, so the message and its
    /// correlation are forgotten, as if never accepted.
    Rejected,
}

/// What ties a message on one side to its counterpart on the other
/// (issue 9 §4): the ids each side knows it by and who sent it to whom,
/// so that a notification (IMDN, DSN, MDN) or a reply on either side can
/// be matched to the original. Any id may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlation {
    /// Which way the message went.
    pub direction: Direction,
    /// `imdn.Message-ID` of the IM (RFC 5438 §6.3).
    pub imdn_message_id: Option<String>,
    /// `Message-ID` of the mail, without brackets.
    pub message_id: Option<String>,
    /// The DSN envelope id (RFC 3461 §4.4 `ENVID`).
    pub envid: Option<String>,
    /// CPM `Conversation-ID`.
    pub conversation_id: Option<String>,
    /// CPM `Contribution-ID`.
    pub contribution_id: Option<String>,
    /// The IM side's sender URI.
    pub im_sender: String,
    /// The IM side's recipient URI.
    pub im_recipient: String,
    /// The mail side's sender address.
    pub mail_from: String,
    /// The mail side's recipient address.
    pub mail_to: String,
    /// The notifications the original's sender asked for, as its side
    /// writes them: IM → mail the `imdn.Disposition-Notification` value
    /// (`positive-delivery, display`, RFC 5438 §6.2), mail → IM the RCPT
    /// `NOTIFY=` values (`SUCCESS,FAILURE`, RFC 3461 §4.1).
    pub notify: Option<String>,
    /// Mail → IM: where the mail asked its MDN to go
    /// (`Disposition-Notification-To`, RFC 8098 §2.1).
    pub notify_to: Option<String>,
    /// The IM's CPIM `DateTime` as it was written (RFC 3339): an IMDN
    /// echoes it (RFC 5438 §7.2.1.1 `<datetime>`).
    pub im_date: Option<String>,
    /// The subject the message had, for a reply's `Re:`.
    pub subject: Option<String>,
    /// When the record may be forgotten (default 30 days on).
    pub expires_at: Millis,
}

/// A correlation record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlated {
    /// The ids and parties.
    pub record: Correlation,
    /// The queue entry it was written with; a delivered message has left
    /// the queue, so the id may name nothing now (`None` for records of
    /// messages never queued, and once a given-up message was notified or
    /// deleted).
    pub queue_id: Option<QueueId>,
    /// When it was written.
    pub created_at: Millis,
}

/// Which id to look a correlation up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrelationKey {
    /// An `imdn.Message-ID`.
    ImdnMessageId(String),
    /// A mail `Message-ID` (without brackets).
    MessageId(String),
    /// A DSN `ENVID` / `Original-Envelope-Id`.
    Envid(String),
    /// A CPM `Conversation-ID`.
    ConversationId(String),
    /// A CPM `Contribution-ID`.
    ContributionId(String),
}

impl CorrelationKey {
    /// The column it is looked up in, and the value.
    fn column_and_value(&self) -> (&'static str, &str) {
        match self {
            Self::ImdnMessageId(v) => ("imdn_message_id", v),
            Self::MessageId(v) => ("message_id", v),
            Self::Envid(v) => ("envid", v),
            Self::ConversationId(v) => ("conversation_id", v),
            Self::ContributionId(v) => ("contribution_id", v),
        }
    }
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

/// Refuses recipients that could not be stored one per line (or that
/// would let a line break into an SMTP command).
fn valid_recipients(recipients: &[String]) -> Result<(), StoreError> {
    if recipients.is_empty()
        || recipients
            .iter()
            .any(|r| r.is_empty() || r.contains(['\r', '\n']))
    {
        return Err(StoreError::Database(
            "a message needs recipients without line breaks".into(),
        ));
    }
    Ok(())
}

/// The store: one trait, two backends ([`SqliteStore`], [`PgStore`]).
pub trait Store: Send + Sync {
    /// Queues a message (and its correlation, in the same commit);
    /// resolves once it is durable.
    fn enqueue(&self, message: NewMessage, schedule: Schedule) -> StoreFuture<'_, QueueId>;

    /// Claims up to `limit` queued messages due at `now` whose lease (if
    /// any) has run out, for `owner`, until `now + lease`. Each claim counts
    /// as an attempt. Messages past their lifetime expire first.
    fn claim_due(
        &self,
        owner: &str,
        now: Millis,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Claimed>>;

    /// Reports the attempt `owner` made on `id` under its lease. A report
    /// from someone whose lease was lost is [`StoreError::NotFound`]: the
    /// message went to another claimer (or was held or deleted).
    fn report(
        &self,
        id: QueueId,
        owner: &str,
        attempt: Attempt,
        now: Millis,
    ) -> StoreFuture<'_, ()>;

    /// The queue, oldest first, in the given states (all when empty).
    fn list(&self, states: &[State]) -> StoreFuture<'_, Vec<Entry>>;

    /// How many messages each direction has in each state, and when the
    /// oldest of them was accepted (metrics, `interwork status`): one
    /// aggregate query, not the queue's rows.
    fn summary(&self) -> StoreFuture<'_, Vec<QueueSummary>>;

    /// One message with its content (`queue show`).
    fn get(&self, id: QueueId) -> StoreFuture<'_, Claimed>;

    /// Holds a queued message (`queue hold`: not attempted, its lease
    /// dropped) or releases a held one (`queue release`: due at `now`).
    fn set_hold(&self, id: QueueId, hold: bool, now: Millis) -> StoreFuture<'_, ()>;

    /// Makes every queued message (or one) due at `now` (`queue flush`).
    fn flush(&self, id: Option<QueueId>, now: Millis) -> StoreFuture<'_, u64>;

    /// Deletes a message whatever its state (`queue delete`).
    fn delete(&self, id: QueueId) -> StoreFuture<'_, ()>;

    /// Records a correlation of a message not queued (a mail delivered as
    /// an IM while the MTA waited).
    fn correlate(&self, record: Correlation, now: Millis) -> StoreFuture<'_, ()>;

    /// [`Store::correlate`] for a record nobody waits for (the message is
    /// delivered, its answer given or about to be): the future owns what it
    /// needs, so it can be left to run on its own, and the backend may hold
    /// the commit back a little to share it with others. SQLite takes the
    /// record in order at once (a lookup asked after this call sees it) and
    /// waits up to 25 ms for more work before the fsync; a backend without
    /// such a knob writes it as `correlate` does when the future runs.
    fn correlate_later(
        self: std::sync::Arc<Self>,
        record: Correlation,
        now: Millis,
    ) -> StoreFuture<'static, ()>
    where
        Self: 'static,
    {
        Box::pin(async move { self.correlate(record, now).await })
    }

    /// The live correlation records with that id, newest first.
    fn find(&self, key: CorrelationKey, now: Millis) -> StoreFuture<'_, Vec<Correlated>>;

    /// Notes that the notice `key` (e.g. the MDN of one message) is being
    /// sent, remembered until `expires_at`: `true` the first time, `false`
    /// for every later call with the same key, on every node — RFC 8098
    /// §2.1's "at most one MDN per message" across retries and nodes.
    fn first_notice(&self, key: String, expires_at: Millis) -> StoreFuture<'_, bool>;

    /// Forgets correlation records and notices past their expiry; returns
    /// how many.
    fn purge(&self, now: Millis) -> StoreFuture<'_, u64>;

    /// Claims up to `limit` messages of `direction` that were given up
    /// (failed or expired) and whose lease (if any) has run out, for
    /// `owner` until `now + lease`: their senders are to be told.
    fn claim_given_up(
        &self,
        direction: Direction,
        owner: &str,
        now: Millis,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<Claimed>>;

    /// The sender of given-up message `id` has been told: in one commit,
    /// the message leaves the store and `notice` (the DSN, the IMDN), if
    /// any, is queued; returns the notice's id. [`StoreError::NotFound`]
    /// when `owner` no longer holds the message's lease.
    fn notified(
        &self,
        id: QueueId,
        owner: &str,
        notice: Option<(NewMessage, Schedule)>,
    ) -> StoreFuture<'_, Option<QueueId>>;

    /// The shared directory: its version and its (IM URI, e-mail address)
    /// pairs, ordered by IM URI.
    fn directory(&self) -> StoreFuture<'_, (i64, Vec<(String, String)>)>;

    /// The directory's version, raised by every [`Store::replace_directory`]:
    /// cheap enough for every node to poll.
    fn directory_version(&self) -> StoreFuture<'_, i64>;

    /// Replaces the whole directory in one commit (the caller checked that
    /// the pairs are one to one); returns the new version.
    fn replace_directory(&self, pairs: Vec<(String, String)>) -> StoreFuture<'_, i64>;
}

#[cfg(test)]
mod tests;
