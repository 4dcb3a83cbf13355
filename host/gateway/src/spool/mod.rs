//! The spool (issue 9): the gateway's side of `interwork_store`. The rule
//! is **nothing acknowledged is lost**: a message is attempted at once,
//! within a short budget, while its sender waits; it is answered only once
//! the far side took it, or it is committed to the store, and it is
//! retried from the queue when that attempt could not finish it. (Postfix
//! always queues first; a message delivered before its sender hears back
//! needs no queue entry, and skipping it halved the store's work.)
//!
//! | first attempt | the store | the sender hears |
//! |---|---|---|
//! | delivered | never queued (correlation kept) | `202` / `250` |
//! | refused for good | never queued | the refusal (SIP 4xx–6xx / SMTP 5xx) |
//! | "later", far side unreachable | queued, retried after the minimum backoff | `202` / `250` |
//! | still going at the budget | queued; finishes in the background | `202` / `250` |
//!
//! [`Spool::run`] is the retry worker: it claims due messages with a
//! lease, hands each to the [`Courier`] of its direction (RFC 5321
//! §4.5.4.1: backoff doubling from the minimum to the maximum, given up
//! after the queue lifetime) and reports the outcome. A message refused or
//! expired after it was accepted is kept as failed or expired until its
//! courier has queued the notice for its sender (a DSN for a mail).
//!
//! * [`mail_courier`] — IM → mail: delivery by SMTP.
//! * [`im_courier`] — mail → IM: delivery as an IM, DSN when given up.

pub mod im_courier;
pub mod mail_courier;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use interwork_store::{
    Attempt, Backoff, Claimed, Correlation, Direction, Lease, NewMessage, PgStore, QueueId,
    Schedule, SqliteStore, Store, StoreError, after,
};
use tokio::sync::Semaphore;

use crate::BoxFuture;
use crate::config::Config;
use crate::directory::Directory;
use crate::message_log::{Line, Status};
use crate::outcome::Verdict;
use crate::shutdown::Shutdown;

pub use im_courier::ImCourier;
pub use mail_courier::MailCourier;

pub use crate::clock::millis_now;

/// The store of a configuration, opened and migrated to this build's
/// schema: the PostgreSQL database of `store.url`, else the SQLite file
/// (created with its directory when missing).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &config.store.url {
        let (store, found) = PgStore::connect(url)
            .await
            .context("store.url (PostgreSQL)")?;
        tracing::info!(schema_found = found, "store open (PostgreSQL)");
        return Ok(Arc::new(store));
    }
    let path = config.store_path();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the store directory {}", dir.display()))?;
    }
    let (store, found) =
        SqliteStore::open(&path).with_context(|| format!("store {}", path.display()))?;
    tracing::info!(
        path = %path.display(),
        schema_found = found,
        "store open (SQLite)"
    );
    Ok(Arc::new(store))
}

/// The directory shared in the store (`[directory] shared`) and its
/// version.
pub async fn shared_directory(store: &dyn Store) -> anyhow::Result<(i64, Directory)> {
    let (version, pairs) = store.directory().await?;
    let directory = Directory::from_pairs(pairs)
        .map_err(|(index, e)| anyhow::anyhow!("the shared directory, entry {index}: {e}"))?;
    Ok((version, directory))
}

/// What a node says in its leases: its name and process, so that a
/// restarted node does not take its predecessor's claims for its own.
pub fn lease_owner(config: &Config) -> String {
    let name = config
        .store
        .node_name
        .as_deref()
        .unwrap_or(&config.gateway.hostname);
    format!("{name}/{}", std::process::id())
}

/// How the queue behaves, from `[store]`.
#[derive(Debug, Clone)]
pub struct QueuePolicy {
    /// The retry schedule and lifetime.
    pub backoff: Backoff,
    /// How long the sender waits for the first attempt.
    pub first_attempt_budget: Duration,
    /// A claim on a message being delivered.
    pub lease: Duration,
    /// How often the queue is looked at.
    pub scan_interval: Duration,
    /// Deliveries from the queue at once.
    pub max_in_flight: usize,
    /// How long correlation records are kept.
    pub correlation_lifetime: Duration,
}

impl QueuePolicy {
    /// The policy of a configuration.
    pub fn of(config: &Config) -> Self {
        let store = &config.store;
        Self {
            backoff: Backoff {
                minimum: Duration::from_secs(store.retry_minimum_secs),
                maximum: Duration::from_secs(store.retry_maximum_secs),
                lifetime: Duration::from_secs(store.queue_lifetime_secs),
            },
            first_attempt_budget: Duration::from_millis(store.first_attempt_budget_ms),
            lease: Duration::from_secs(store.lease_secs),
            scan_interval: Duration::from_millis(store.scan_interval_ms),
            max_in_flight: store.max_retries_in_flight,
            correlation_lifetime: Duration::from_secs(store.correlation_lifetime_days * 86_400),
        }
    }
}

/// Where an attempt went and what it heard, for the message's log line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hop {
    /// The MX host (`name (ip:port)`) or the SIP next hop; empty when none
    /// was reached.
    pub relay: String,
    /// What it answered (`250 2.0.0 Ok`, `200 OK`).
    pub reply: String,
    /// How an IM went: `pager` or `large`; empty for a mail.
    pub mode: &'static str,
}

/// How one attempt ended, in either direction.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Delivered.
    Delivered(Hop),
    /// Not now: retried.
    Temporary(Verdict, Hop),
    /// Refused for good.
    Permanent(Verdict, Hop),
}

impl Outcome {
    /// Writes where the attempt went into `line`; the status it stands
    /// for after the acknowledgement.
    pub fn describe(&self, line: &mut Line) -> Status {
        let (hop, status) = match self {
            Self::Delivered(hop) => (hop, Status::Delivered),
            Self::Temporary(verdict, hop) | Self::Permanent(verdict, hop) => {
                line.judge(verdict);
                let status = if matches!(self, Self::Permanent(..)) {
                    Status::Failed
                } else {
                    Status::Deferred
                };
                (hop, status)
            }
        };
        hop.write_to(line);
        status
    }
}

impl Hop {
    /// Writes what is known of the hop into `line`.
    pub fn write_to(&self, line: &mut Line) {
        if !self.relay.is_empty() {
            line.relay = self.relay.clone();
        }
        if !self.reply.is_empty() {
            line.answer_received = self.reply.clone();
        }
        if !self.mode.is_empty() {
            line.mode = self.mode;
        }
    }
}

/// How an accepted message stands when its sender is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// The far side took it during the first attempt.
    Delivered,
    /// Its first attempt failed for now: it is in the queue (this id) and
    /// will be retried.
    Deferred(QueueId),
    /// Its first attempt was still going at the budget: it is in the queue
    /// (this id) and the attempt finishes in the background.
    Spooled(QueueId),
}

impl Accepted {
    /// The status of its log line.
    pub fn status(self) -> Status {
        match self {
            Self::Delivered => Status::Delivered,
            Self::Deferred(_) => Status::Deferred,
            Self::Spooled(_) => Status::Spooled,
        }
    }
}

/// The status of the log line of a message whose sender heard `answer`.
pub fn status_of(answer: &Result<Accepted, Verdict>) -> Status {
    match answer {
        Ok(accepted) => accepted.status(),
        Err(_) => Status::Refused,
    }
}

/// Delivers the queued messages of one direction.
pub trait Courier: Send + Sync {
    /// One attempt at a message claimed from the queue.
    fn attempt(&self, message: Claimed) -> BoxFuture<'static, Outcome>;

    /// Whether the senders of given-up messages (refused after they were
    /// accepted, or expired) of this direction are told; those of a
    /// direction that does not (yet) stay in the store as they are.
    fn notifies(&self) -> bool;

    /// The notice to queue for the sender of a given-up message; `None`
    /// when there is nobody to tell (a mail with a null reverse-path, an
    /// IM whose sender asked for no IMDN).
    fn notice(&self, message: &Claimed) -> BoxFuture<'static, Option<NewMessage>>;
}

/// The queue of one node: accepts messages, makes their first attempt,
/// retries them, and notifies the senders of those given up.
pub struct Spool {
    store: Arc<dyn Store>,
    owner: String,
    policy: QueuePolicy,
    im_to_mail: OnceLock<Arc<dyn Courier>>,
    mail_to_im: OnceLock<Arc<dyn Courier>>,
    /// Correlation records handed to the store and not yet committed: a
    /// drain waits for them (a record lost at exit unmatches receipts).
    uncommitted: Arc<std::sync::atomic::AtomicUsize>,
}

type Attempting = BoxFuture<'static, Outcome>;

/// How often expired correlation records are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

impl Spool {
    /// A spool on `store`; `owner` names this node in its leases. The
    /// couriers are given with [`Spool::serve`].
    pub fn new(store: Arc<dyn Store>, owner: String, policy: QueuePolicy) -> Self {
        Self {
            store,
            owner,
            policy,
            uncommitted: Arc::default(),
            im_to_mail: OnceLock::new(),
            mail_to_im: OnceLock::new(),
        }
    }

    /// Who delivers the messages of `direction` (set once; the couriers
    /// hold the flows, which hold the spool).
    pub fn serve(&self, direction: Direction, courier: Arc<dyn Courier>) {
        let slot = self.slot(direction);
        if slot.set(courier).is_err() {
            tracing::warn!(?direction, "a second courier for one direction is ignored");
        }
    }

    fn slot(&self, direction: Direction) -> &OnceLock<Arc<dyn Courier>> {
        match direction {
            Direction::ImToMail => &self.im_to_mail,
            Direction::MailToIm => &self.mail_to_im,
        }
    }

    /// The store the spool is in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The spool's policy.
    pub fn policy(&self) -> &QueuePolicy {
        &self.policy
    }

    /// Keeps the correlation record of a message delivered while its
    /// sender waited, kept for the policy's correlation lifetime. Its
    /// answer does not wait for the commit: the message is delivered, and
    /// the record only lets its receipts and replies be matched later, which
    /// happens long after one group commit. Awaited, it made every answer
    /// wait for an fsync (at 3,200 IMs a second the store made 442 a
    /// second), and a slow one held every answer behind it. The commit may
    /// also wait for others to share its fsync ([`Store::correlate_later`]).
    pub fn keep_correlation(&self, mut record: Correlation, message_id: &str) {
        let now = millis_now();
        record.expires_at = after(now, self.policy.correlation_lifetime);
        // Taken by the store now, committed in the background.
        let committed = self.store.clone().correlate_later(record, now);
        let message_id = message_id.to_string();
        let uncommitted = self.uncommitted.clone();
        uncommitted.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        tokio::spawn(async move {
            if let Err(e) = committed.await {
                // Delivered all the same: only its receipts and replies
                // will not be matched.
                tracing::error!(%message_id, "cannot keep the correlation record: {e}");
            }
            uncommitted.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        });
    }

    /// Correlation records given to [`Spool::keep_correlation`] whose
    /// commit has not finished.
    pub fn uncommitted(&self) -> usize {
        self.uncommitted.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Runs `attempt` (the message's first delivery) for at most the
    /// first-attempt budget, and queues `message` durably, leased to this
    /// node, unless the attempt settled it first. `Err` only when nothing
    /// stays accepted: the store failed (the sender is told to retry) or
    /// the far side refused for good while the sender waited.
    ///
    /// The rule is that nothing acknowledged is lost, and the sender is
    /// answered only after this returns: a message the far side took (or
    /// refused for good) while its sender waited needs no queue entry, only
    /// its correlation record. Measured: the queue entry and its removal
    /// were a third of the gateway's CPU per message under load. Only a
    /// message still going at the budget, or deferred, is queued.
    pub async fn accept(
        self: &Arc<Self>,
        mut message: NewMessage,
        attempt: Attempting,
        line: &mut Line,
    ) -> Result<Accepted, Verdict> {
        let now = millis_now();
        if let Some(correlation) = message.correlation.as_mut() {
            correlation.expires_at = after(now, self.policy.correlation_lifetime);
        }
        let message_id = message.message_id.clone();
        if line.message_id.is_empty() {
            line.message_id = message_id.clone();
        }
        if line.imdn_message_id.is_empty() {
            line.imdn_message_id = message.imdn_message_id.clone().unwrap_or_default();
        }
        let mut attempt = attempt;
        let settled_first = tokio::time::timeout(self.policy.first_attempt_budget, &mut attempt)
            .await
            .ok();
        line.attempts = u32::from(settled_first.is_some());
        match &settled_first {
            Some(outcome @ Outcome::Delivered(_)) => {
                outcome.describe(line);
                if let Some(correlation) = message.correlation.take() {
                    self.keep_correlation(correlation, &message_id);
                }
                return Ok(Accepted::Delivered);
            }
            Some(outcome @ Outcome::Permanent(verdict, _)) => {
                // The sender hears the refusal: nothing stays accepted.
                outcome.describe(line);
                return Err(verdict.clone());
            }
            Some(outcome @ Outcome::Temporary(..)) => {
                outcome.describe(line);
            }
            None => {}
        }
        let schedule = Schedule {
            now,
            expires_at: self.policy.backoff.expiry(now),
            lease: Some(Lease {
                owner: self.owner.clone(),
                until: after(now, self.policy.lease),
            }),
        };
        let id = self.store.enqueue(message, schedule).await.map_err(|e| {
            line.fault = true;
            Verdict::fault(&format!("cannot queue {message_id}: {e}"))
        })?;
        line.queue_id = Some(id);
        match settled_first {
            // Deferred: queued for its retries.
            Some(outcome) => {
                self.record(id, 1, outcome, line).await;
                Ok(Accepted::Deferred(id))
            }
            None => {
                line.reason = format!(
                    "first attempt still going after {} ms; it finishes in the background",
                    self.policy.first_attempt_budget.as_millis()
                );
                let spool = self.clone();
                let mut later = line.clone();
                later.reason.clear();
                later.attempts = 1;
                tokio::spawn(async move {
                    let outcome = attempt.await;
                    let status = outcome.describe(&mut later);
                    spool.record(id, 1, outcome, &mut later).await;
                    later.emit(status);
                });
                Ok(Accepted::Spooled(id))
            }
        }
    }

    /// Records how an attempt after the acknowledgement ended.
    /// The line of a deferred one says when it is tried next.
    async fn record(&self, id: QueueId, attempts: u32, outcome: Outcome, line: &mut Line) {
        let now = millis_now();
        let attempt = match outcome {
            Outcome::Delivered(_) => Attempt::Delivered,
            Outcome::Permanent(verdict, _) => Attempt::Failed {
                error: verdict.reason,
            },
            Outcome::Temporary(verdict, _) => {
                let retry_at = self.policy.backoff.next_attempt(attempts, now);
                line.reason = format!(
                    "{}; next attempt in {} s",
                    line.reason,
                    (retry_at - now).max(0) / 1000
                );
                Attempt::Deferred {
                    retry_at,
                    error: verdict.reason,
                }
            }
        };
        match self.store.report(id, &self.owner, attempt, now).await {
            Ok(()) => {}
            Err(StoreError::NotFound(_)) => tracing::warn!(
                queue_id = id,
                "the message was held, deleted or taken by another node while this one \
                 delivered it; its outcome here is not recorded"
            ),
            Err(e) => tracing::error!(
                queue_id = id,
                "cannot record the attempt: {e}; the message is due again when the lease ends"
            ),
        }
    }

    /// The retry worker: claims due messages (as many as deliveries may
    /// start), delivers each in a task of its own, and looks again after
    /// the scan interval (at once when the claim was full).
    pub async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        let slots = Arc::new(Semaphore::new(self.policy.max_in_flight));
        let mut purged = tokio::time::Instant::now();
        loop {
            if purged.elapsed() >= PURGE_INTERVAL {
                purged = tokio::time::Instant::now();
                match self.store.purge(millis_now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(records = n, "expired correlation records purged"),
                    Err(e) => tracing::error!("cannot purge correlation records: {e}"),
                }
            }
            let free = slots.available_permits();
            let mut full = false;
            if free > 0 {
                match self
                    .store
                    .claim_due(&self.owner, millis_now(), self.policy.lease, free)
                    .await
                {
                    Ok(claimed) => {
                        full = claimed.len() == free;
                        for message in claimed {
                            let Ok(slot) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let spool = self.clone();
                            tokio::spawn(async move {
                                spool.retry(message).await;
                                drop(slot);
                            });
                        }
                    }
                    Err(e) => tracing::error!("cannot read the queue: {e}"),
                }
            }
            self.notify_given_up().await;
            if full {
                // More may be due: go on once a delivery slot is free.
                tokio::select! {
                    slot = slots.clone().acquire_owned() => drop(slot),
                    () = shutdown.signalled() => return,
                }
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.policy.scan_interval) => {}
                () = shutdown.signalled() => return,
            }
        }
    }

    async fn retry(&self, message: Claimed) {
        let (id, attempts) = (message.entry.id, message.entry.attempts);
        let mut line = Line::queued(&message.entry);
        let outcome = match self.slot(message.entry.direction).get() {
            Some(courier) => courier.attempt(message).await,
            None => Outcome::Temporary(
                Verdict::fault("this node does not deliver that direction"),
                Hop::default(),
            ),
        };
        let status = outcome.describe(&mut line);
        self.record(id, attempts, outcome, &mut line).await;
        line.emit(status);
    }

    /// Queues the notices for the senders of given-up messages of the
    /// directions that notify, each in one commit with the removal of the
    /// message it reports.
    async fn notify_given_up(&self) {
        for direction in [Direction::ImToMail, Direction::MailToIm] {
            let Some(courier) = self.slot(direction).get().filter(|c| c.notifies()) else {
                continue;
            };
            let claimed = match self
                .store
                .claim_given_up(direction, &self.owner, millis_now(), self.policy.lease, 64)
                .await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::error!("cannot read the given-up messages: {e}");
                    return;
                }
            };
            for message in claimed {
                if message.entry.state == interwork_store::State::Expired {
                    // Its last attempt said "deferred"; this is the end.
                    let mut line = Line::queued(&message.entry);
                    line.reason = format!(
                        "expired in the queue: {}",
                        message
                            .entry
                            .last_error
                            .as_deref()
                            .unwrap_or("never delivered")
                    );
                    line.emit(Status::Failed);
                }
                let notice = courier.notice(&message).await;
                let id = message.entry.id;
                let now = millis_now();
                let notice = notice.map(|notice| {
                    let schedule = Schedule {
                        now,
                        expires_at: self.policy.backoff.expiry(now),
                        lease: None,
                    };
                    (notice, schedule)
                });
                let told = notice.is_some();
                match self.store.notified(id, &self.owner, notice).await {
                    Ok(notice_id) => tracing::info!(
                        queue_id = id,
                        message_id = %message.entry.message_id,
                        notice_id,
                        "{}",
                        if told {
                            "given up: the notice for its sender is queued"
                        } else {
                            "given up: nobody to tell (a null sender, or no IMDN asked for)"
                        }
                    ),
                    Err(e) => tracing::error!(queue_id = id, "cannot queue the notice: {e}"),
                }
            }
        }
    }
}
