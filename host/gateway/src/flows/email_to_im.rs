//! E-mail → IM (SPEC S6): a mail accepted by the SMTP server becomes an IM
//! to the IM system that serves the recipient, and the SIP outcome becomes
//! the reply to DATA — the sending MTA keeps the mail and retries on a
//! temporary failure, so nothing is lost. Each IM delivered leaves a
//! correlation record (which mail it was made from) in the store.
//!
//! With `[im_delivery] spool = true` the gateway keeps the mail itself:
//! the IM is queued before the `250`, retried while the IM user is offline
//! (SIP 480), and a DSN goes to the mail's sender when it is given up.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use interwork_plugin_host::Plugins;
use interwork_plugin_host::bindings::mapping::Role;
use interwork_plugin_host::bindings::types::DsnNotify;

use interwork_proto::report::{self, Report};
use interwork_proto::sip::{self, Message, Request};
use interwork_proto::smtp::Notify;
use interwork_store::{Correlation, Direction, NewMessage, Schedule, after};

use crate::BoxFuture;
use crate::admission::{Admission, Ticket};
use crate::clock::now;
use crate::config::NotificationsConfig;
use crate::config::SipTransport;
use crate::im::outgoing::{Delivered, ImComposer, ImSender, PlannedIm};
use crate::loops;
use crate::mail::{dsn, incoming};
use crate::message_log::{Line, Status, plugins_used};
use crate::notify::{imdn_out, to_im};
use crate::outcome::{About, Kind, Verdict};
use crate::smtp::server::{MailSink, RecipientCheck, Reply, Transaction};
use crate::spool::{Accepted, Hop, Outcome, Spool, mail_courier, millis_now, status_of};
use crate::telemetry::{self, Stage};
use crate::threads;

/// Receive → map → convert, without the network: the SIP request an
/// accepted mail becomes for each of its recipients, and where it goes;
/// refused when it went through more than `hop_limit` hops or is automatic
/// (loops). The plugin calls run on the caller's thread, each bounded by
/// the call deadline. A refusal for any recipient refuses the mail: none
/// was delivered yet.
pub fn plan(
    plugins: &Plugins,
    composer: &ImComposer,
    tx: &Transaction,
    hop_limit: usize,
) -> Result<Vec<(PlannedIm, Correlation)>, Verdict> {
    let mut mail = incoming::parse(&tx.data, &tx.mail_from, &tx.rcpt_to, now())
        .map_err(|e| Verdict::new(Kind::Invalid, About::Content, e.to_string()))?;
    let hops = loops::check_mail_hops(&mail, hop_limit)?;
    loops::refuse_automatic(&tx.mail_from, &mail)?;
    let set = plugins.current();
    let engine = plugins.engine();
    if tx.rcpt_to.is_empty() {
        return Err(Verdict::new(
            Kind::Invalid,
            About::Recipient,
            "No recipient",
        ));
    }
    // One instance of each plugin serves all calls of the message.
    let mut mapping = set.mapping.instance(engine);
    let author = incoming::author(&mail).ok_or_else(|| {
        Verdict::new(
            Kind::Invalid,
            About::Sender,
            "The mail has no sender address",
        )
    })?;
    let sender = mapping
        .im_of_email(&author, Role::Sender)
        .map_err(|e| Verdict::of_plugin(e, About::Sender))?
        .value;
    let mut recipients = Vec::with_capacity(tx.rcpt_to.len());
    for rcpt in &tx.rcpt_to {
        let recipient = mapping
            .im_of_email(rcpt, Role::Recipient)
            .map_err(|e| Verdict::of_plugin(e, About::Recipient))?
            .value;
        recipients.push((rcpt, recipient));
    }
    drop(mapping);
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim().trim_matches(['<', '>']).to_string())
    };
    let mut conversion = set.conversion.instance(engine);
    let mut planned_ims = Vec::with_capacity(recipients.len());
    for (i, (rcpt, recipient)) in recipients.into_iter().enumerate() {
        // The plugin sees what this recipient's RCPT asked for.
        mail.dsn_notify = requested_dsn(tx, i);
        let im = conversion
            .email_to_im(&mail, &sender, &recipient)
            .map_err(|e| Verdict::of_plugin(e, About::Content))?;
        let mut planned = composer.plan(im, &sender, &recipient)?;
        loops::mark_im(&mut planned.request, hops, composer.hostname());
        let correlation = Correlation {
            direction: Direction::MailToIm,
            imdn_message_id: planned.imdn_message_id(),
            message_id: header("Message-ID"),
            envid: tx.dsn.envid.clone(),
            conversation_id: None,
            contribution_id: None,
            im_sender: sender.clone(),
            im_recipient: recipient,
            mail_from: tx.mail_from.clone(),
            mail_to: rcpt.clone(),
            notify: notify_text(tx, i),
            // RFC 8098 §2.1: the MDN goes to the address that asked, and
            // only if one did.
            notify_to: mail
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("Disposition-Notification-To"))
                .and_then(|h| incoming::address_in(&h.value)),
            im_date: None,
            subject: header("Subject"),
            // Set by whoever stores it, from store.correlation_lifetime_days.
            expires_at: 0,
        };
        planned_ims.push((planned, correlation));
    }
    Ok(planned_ims)
}

/// Whether a mail's header section names `multipart/report` (RFC 6522):
/// only those are read whole as reports, so that every other mail is not
/// parsed twice.
fn may_be_report(data: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"multipart/report";
    dsn::header_section(data)
        .windows(NEEDLE.len())
        .any(|w| w.eq_ignore_ascii_case(NEEDLE))
}

/// The `NOTIFY=` of the transaction's recipient number `i`, if it gave
/// one (RFC 3461 §4.1: each RCPT asks for itself).
fn notify_of(tx: &Transaction, i: usize) -> Option<Notify> {
    tx.dsn.recipients.get(i).and_then(|r| r.notify)
}

/// The flags of a `NOTIFY=` parameter.
fn flags_of(notify: Notify) -> DsnNotify {
    [
        (notify.success, DsnNotify::SUCCESS),
        (notify.failure, DsnNotify::FAILURE),
        (notify.delay, DsnNotify::DELAY),
    ]
    .into_iter()
    .filter(|(asked, _)| *asked)
    .fold(DsnNotify::empty(), |all, (_, flag)| all | flag)
}

/// The DSNs recipient `i` of the envelope asked for. Without `NOTIFY` an
/// MTA reports failures and delays (RFC 3461 §4.1), so that is the default.
fn requested_dsn(tx: &Transaction, i: usize) -> DsnNotify {
    notify_of(tx, i).map_or(DsnNotify::FAILURE | DsnNotify::DELAY, flags_of)
}

/// The `NOTIFY=` values asked for, as the store keeps them (`None` when
/// not given; `NEVER` for none).
fn notify_text(tx: &Transaction, i: usize) -> Option<String> {
    notify_of(tx, i).map(|notify| {
        mail_courier::notify_text(flags_of(notify)).unwrap_or_else(|| "NEVER".to_string())
    })
}

/// The e-mail → IM direction.
pub struct EmailToIm {
    plugins: Arc<Plugins>,
    composer: ImComposer,
    sender: ImSender,
    hop_limit: usize,
    spool: Arc<Spool>,
    /// `[im_delivery] spool`: queue the IM before the `250`.
    spooled: bool,
    /// `[notifications]`: how reports that come back are read.
    notifications: NotificationsConfig,
    /// How many messages may be in flight at once.
    admission: Arc<Admission>,
}

impl EmailToIm {
    /// The direction with its plugins, how it writes IMs, how it sends
    /// them, the most `Received:` fields a mail may have, the spool (its
    /// correlation records; its queue when `spooled`).
    pub fn new(
        plugins: Arc<Plugins>,
        composer: ImComposer,
        sender: ImSender,
        hop_limit: usize,
        spool: Arc<Spool>,
        spooled: bool,
    ) -> Self {
        Self {
            plugins,
            composer,
            sender,
            hop_limit,
            spool,
            spooled,
            notifications: NotificationsConfig::default(),
            admission: Admission::unlimited(),
        }
    }

    /// The direction under the node's admission limit (`[limits]
    /// max_messages_in_flight`).
    pub fn with_admission(self, admission: Arc<Admission>) -> Self {
        Self { admission, ..self }
    }

    /// The direction with the operator's notification policy.
    pub fn with_notifications(self, notifications: NotificationsConfig) -> Self {
        Self {
            notifications,
            ..self
        }
    }

    /// Routes IMs by the `[[im_domains]]` of `config` from now on.
    pub fn set_routes(&self, config: &crate::config::Config) {
        self.composer.set_routes(config);
    }

    /// The gateway's host name.
    pub fn hostname(&self) -> &str {
        self.composer.hostname()
    }

    /// One delivery of a planned IM: how it went, and where it went.
    async fn send(&self, planned: PlannedIm) -> (Result<Delivered, Verdict>, Hop) {
        let transport = match planned.transport {
            SipTransport::Udp => "udp",
            SipTransport::Tcp => "tcp",
        };
        let mut hop = Hop {
            relay: format!("{} {transport}", planned.next_hop),
            reply: String::new(),
            mode: if planned.pager { "pager" } else { "large" },
        };
        let started = std::time::Instant::now();
        let delivered = self.sender.deliver(&self.composer, planned).await;
        telemetry::stage(Stage::Sip, started.elapsed());
        hop.reply = match &delivered {
            Ok(Delivered::Pager(code, reason)) => format!("{code} {reason}"),
            Ok(Delivered::Large) => "200 OK (MSRP)".into(),
            Err(verdict) => verdict.im_answer().unwrap_or_default().to_string(),
        };
        (delivered, hop)
    }

    /// One delivery of a planned IM, as a task the spool may leave running
    /// past the first-attempt budget.
    pub fn attempt(self: &Arc<Self>, planned: PlannedIm) -> BoxFuture<'static, Outcome> {
        let this = self.clone();
        Box::pin(async move {
            match this.send(planned).await {
                (Ok(_), hop) => Outcome::Delivered(hop),
                (Err(verdict), hop) => {
                    // Kept as the SMTP reply it stands for: a DSN quotes it.
                    let reply = verdict.smtp_reply();
                    let permanent = reply.code >= 500;
                    let verdict = Verdict {
                        reason: reply.to_string().trim_end().to_string(),
                        ..verdict
                    };
                    if permanent {
                        Outcome::Permanent(verdict, hop)
                    } else {
                        Outcome::Temporary(verdict, hop)
                    }
                }
            }
        })
    }

    /// A MESSAGE kept in the queue, routed again.
    pub fn replan(&self, request: Request) -> Result<PlannedIm, Verdict> {
        self.composer.route(request)
    }

    /// Delivers one accepted mail of the SMTP session `session` as an IM;
    /// the reply goes to DATA. A report (DSN, MDN) is no mail for a
    /// person: it becomes the IMDN it stands for, or nothing.
    pub async fn deliver(self: Arc<Self>, tx: Transaction, session: &str) -> Reply {
        let mut line = Line::received(Direction::MailToIm, session);
        line.from = tx.mail_from.clone();
        line.to = tx.rcpt_to.clone();
        line.plugins = plugins_used(&self.plugins.current());
        let refused = |mut line: Line, verdict: Verdict| {
            let reply = verdict.smtp_reply();
            line.judge(&verdict);
            line.answer_given = reply.to_string();
            line.emit(Status::Refused);
            reply
        };
        // Kept until the IM is delivered or queued and its first attempt
        // is over.
        let ticket = match self.admission.admit() {
            Ok(ticket) => ticket,
            Err(verdict) => {
                telemetry::refused_early("smtp", "overloaded");
                return refused(line, verdict);
            }
        };
        if may_be_report(&tx.data)
            && let Ok(Some(report)) = report::parse(&tx.data)
        {
            return self.take_report(report, line).await;
        }
        let answered = threads::answered_ids(&tx.data);
        let planned = match plan(&self.plugins, &self.composer, &tx, self.hop_limit) {
            Ok(planned) => planned,
            Err(verdict) => return refused(line, verdict),
        };
        // The conversation the mail answers, from the store (issue 10 §5).
        let thread = threads::of_mail(self.spool.store().as_ref(), &answered, millis_now()).await;
        let mut routed = Vec::with_capacity(planned.len());
        for (mut planned, mut correlation) in planned {
            thread.apply(&mut planned.request);
            correlation.conversation_id = Some(thread.conversation_id.clone());
            correlation.contribution_id = Some(thread.contribution_id.clone());
            match self.composer.route(planned.request) {
                Ok(planned) => routed.push((planned, correlation)),
                Err(verdict) => return refused(line, verdict),
            }
        }
        if routed.len() > 1 {
            return self.deliver_each(&tx, routed, ticket, line).await;
        }
        let Some((planned, correlation)) = routed.pop() else {
            return refused(
                line,
                Verdict::new(Kind::Invalid, About::Recipient, "No valid recipients"),
            );
        };
        line.describe_im(&correlation);
        // Only a spooled IM keeps its mail's envelope and headers.
        if self.spooled {
            let envelope = Envelope::of(&tx);
            let (reply, mut line, status) = self
                .spool_im(envelope, planned, correlation, Some(ticket), line)
                .await;
            line.answer_given = reply.to_string();
            line.emit(status);
            return reply;
        }
        line.attempts = 1;
        let (delivered, hop) = self.send(planned).await;
        drop(ticket);
        let (reply, status) = match delivered {
            Ok(Delivered::Pager(code, reason)) => (
                Reply::new(250, "2.0.0", format!("Delivered as IM ({code} {reason})")),
                Status::Delivered,
            ),
            Ok(Delivered::Large) => (
                Reply::new(250, "2.0.0", "Delivered as IM (MSRP)"),
                Status::Delivered,
            ),
            Err(verdict) => {
                line.judge(&verdict);
                (verdict.smtp_reply(), Status::Refused)
            }
        };
        hop.write_to(&mut line);
        if reply.code == 250 {
            let message_id = correlation.message_id.clone().unwrap_or_default();
            self.spool.keep_correlation(correlation, &message_id);
        }
        line.answer_given = reply.to_string();
        line.emit(status);
        reply
    }

    /// A mail to several IM users: one IM each, every one spooled (one
    /// reply to DATA cannot say that one recipient took it and another did
    /// not, so the gateway takes the mail and keeps what it could not yet
    /// deliver). `250` once every IM is delivered or queued; when all are
    /// refused, the first refusal; when some are refused for good and
    /// others taken, `250` and a DSN to the mail's sender for the refused.
    async fn deliver_each(
        self: &Arc<Self>,
        tx: &Transaction,
        routed: Vec<(PlannedIm, Correlation)>,
        ticket: Ticket,
        line: Line,
    ) -> Reply {
        let total = routed.len();
        let mut ticket = Some(ticket);
        let mut refused: Vec<(String, Reply)> = Vec::new();
        let mut first_refusal = None;
        let mut lines = Vec::with_capacity(total);
        for (planned, correlation) in routed {
            let rcpt = correlation.mail_to.clone();
            let envelope = Envelope {
                rcpt_to: vec![rcpt.clone()],
                ..Envelope::of(tx)
            };
            let mut im_line = line.clone();
            im_line.to = vec![rcpt.clone()];
            im_line.describe_im(&correlation);
            let held = ticket.take();
            let (reply, im_line, status) = self
                .spool_im(envelope, planned, correlation, held, im_line)
                .await;
            lines.push((im_line, status));
            if reply.code >= 400 {
                first_refusal.get_or_insert_with(|| reply.clone());
                refused.push((rcpt, reply));
            }
        }
        let reply = self.answer_each(tx, total, refused, first_refusal).await;
        // One reply to DATA stands for every IM: each line says it.
        for (mut im_line, status) in lines {
            im_line.answer_given = reply.to_string();
            im_line.emit(status);
        }
        reply
    }

    /// The one reply to DATA of a mail to several IM users.
    async fn answer_each(
        &self,
        tx: &Transaction,
        total: usize,
        refused: Vec<(String, Reply)>,
        first_refusal: Option<Reply>,
    ) -> Reply {
        if refused.len() == total {
            return first_refusal.unwrap_or_else(|| Reply::new(451, "4.3.0", "Not delivered"));
        }
        let temporary_refusals = refused.iter().filter(|(_, r)| r.code < 500).count();
        if temporary_refusals > 0 {
            // Not queued (the store refused it): nothing keeps it, so the
            // whole mail is retried by its sender; IMs taken before are
            // sent again then, with the same imdn.Message-ID.
            return refused
                .iter()
                .find(|(_, r)| r.code < 500)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| Reply::new(451, "4.3.0", "Not delivered"));
        }
        if !refused.is_empty() {
            self.bounce(tx, &refused).await;
        }
        Reply::new(
            250,
            "2.0.0",
            format!(
                "Taken for {} of {total} IM recipients{}",
                total - refused.len(),
                if refused.is_empty() {
                    String::new()
                } else {
                    "; a DSN reports the others".to_string()
                }
            ),
        )
    }

    /// A DSN to the sender of a mail taken with `250` for the recipients
    /// the IM side refused (RFC 3464), queued like any mail.
    async fn bounce(&self, tx: &Transaction, refused: &[(String, Reply)]) {
        let recipients: Vec<String> = refused.iter().map(|(r, _)| r.clone()).collect();
        let diagnostic = refused
            .iter()
            .map(|(r, reply)| format!("{r}: {}", reply.to_string().trim_end()))
            .collect::<Vec<_>>()
            .join("; ");
        let status = refused
            .first()
            .and_then(|(_, reply)| reply.enhanced)
            .unwrap_or("5.0.0")
            .to_string();
        let failure = dsn::Failure {
            sender: &tx.mail_from,
            recipients: &recipients,
            arrival: now(),
            original: &tx.data,
            status: &status,
            diagnostic: &diagnostic,
        };
        let Some(report) = dsn::failure_report(&failure, self.hostname(), now()) else {
            return;
        };
        let now = millis_now();
        let schedule = Schedule {
            now,
            expires_at: self.spool.policy().backoff.expiry(now),
            lease: None,
        };
        let message = mail_courier::queued_notice(&report);
        match self.spool.store().enqueue(message, schedule).await {
            Ok(id) => {
                tracing::info!(queue_id = id, to = %tx.mail_from, "DSN queued for refused IM recipients")
            }
            Err(e) => {
                tracing::error!(to = %tx.mail_from, "cannot queue the DSN for refused IM recipients: {e}")
            }
        }
    }

    /// A DSN or MDN about a mail made from an IM: the IMDNs it stands for
    /// are queued for the IM's sender (and tried at once); `250` whether
    /// or not it told anyone — a report is never bounced (RFC 3464 §2).
    async fn take_report(self: &Arc<Self>, report: Report, line: Line) -> Reply {
        let store = self.spool.store().clone();
        let now = millis_now();
        let told = match to_im::read(
            store.as_ref(),
            &report,
            self.notifications.delivered_on_250,
            now,
        )
        .await
        {
            Ok(told) => told,
            Err(e) => {
                tracing::error!("cannot look the report's message up: {e}");
                return Reply::new(451, "4.3.0", "Cannot read the store now; try again later");
            }
        };
        let keep_until = after(now, self.spool.policy().correlation_lifetime);
        let mut queued = 0;
        let mut imdn_lines = Vec::new();
        for to_im::Told { record, kind } in told {
            let imdn_message_id = record.imdn_message_id.clone().unwrap_or_default();
            let owed =
                imdn_out::owed(store.as_ref(), &record, kind, self.hostname(), keep_until).await;
            let Some(request) = owed else {
                continue;
            };
            let planned = match self.composer.route(request.clone()) {
                Ok(planned) => planned,
                Err(verdict) => {
                    tracing::warn!(%imdn_message_id, "cannot route the IMDN: {}", verdict.reason);
                    continue;
                }
            };
            let queued_imdn = imdn_out::queued_imdn(&request, &record);
            // The IMDN's own line: a report by mail, as an IM to the IM
            // sender it tells.
            let mut imdn_line = line.clone();
            imdn_line.imdn_message_id = imdn_message_id.clone();
            imdn_line.as_to = vec![record.im_sender.clone()];
            let accepted = self
                .spool
                .accept(queued_imdn, self.attempt(planned), &mut imdn_line)
                .await;
            tracing::debug!(%imdn_message_id, ?kind, "report became an IMDN");
            if accepted.is_ok() {
                queued += 1;
            }
            imdn_lines.push((imdn_line, status_of(&accepted)));
        }
        let what = if queued > 0 {
            "Report taken: its IM's sender is told"
        } else {
            "Report taken: nothing to tell"
        };
        let reply = Reply::new(250, "2.0.0", what);
        if imdn_lines.is_empty() {
            // Nothing to tell: the report itself ends here.
            let mut line = line;
            line.mode = "report";
            line.reason =
                "a report about no IM the gateway knows, or one that asked for none".into();
            imdn_lines.push((line, Status::Delivered));
        }
        for (mut imdn_line, status) in imdn_lines {
            imdn_line.answer_given = reply.to_string();
            imdn_line.emit(status);
        }
        reply
    }

    /// `[im_delivery] spool`: the IM is queued, then attempted within the
    /// budget; `250` once it is in the store. The reply, and the IM's line
    /// to say once the mail's reply is known.
    async fn spool_im(
        self: &Arc<Self>,
        tx: Envelope,
        planned: PlannedIm,
        correlation: Correlation,
        ticket: Option<Ticket>,
        mut line: Line,
    ) -> (Reply, Line, Status) {
        let mut request = Vec::new();
        sip::write(&Message::Request(planned.request.clone()), &mut request);
        let message = NewMessage {
            direction: Direction::MailToIm,
            sender: tx.mail_from,
            recipients: tx.rcpt_to,
            message_id: correlation.message_id.clone().unwrap_or_default(),
            imdn_message_id: correlation.imdn_message_id.clone(),
            content: request,
            alternate: Some(tx.header_section),
            dsn_notify: correlation.notify.clone(),
            correlation: Some(correlation),
        };
        let attempt = match ticket {
            Some(ticket) => ticket.hold(self.attempt(planned)),
            None => self.attempt(planned),
        };
        let accepted = self.spool.accept(message, attempt, &mut line).await;
        let status = status_of(&accepted);
        let reply = match accepted {
            Ok(Accepted::Delivered) => Reply::new(250, "2.0.0", "Delivered as IM"),
            Ok(Accepted::Deferred(id) | Accepted::Spooled(id)) => Reply::new(
                250,
                "2.0.0",
                format!("Queued as {id}: the IM will be retried while its recipient is away"),
            ),
            Err(verdict) => verdict.smtp_reply(),
        };
        (reply, line, status)
    }
}

/// What the spool keeps of a mail beside its IM: the envelope, and the
/// header section a DSN returns.
struct Envelope {
    mail_from: String,
    rcpt_to: Vec<String>,
    header_section: Vec<u8>,
}

impl Envelope {
    fn of(tx: &Transaction) -> Self {
        Self {
            mail_from: tx.mail_from.clone(),
            rcpt_to: tx.rcpt_to.clone(),
            header_section: dsn::header_section(&tx.data).to_vec(),
        }
    }
}

/// RCPT TO policy (S1, S2): only served domains (no open relay), only
/// addresses the mapping plugin resolves; none while the node is full, so
/// that no client sends a body only to have it refused.
pub struct RecipientPolicy {
    plugins: Arc<Plugins>,
    admission: Arc<Admission>,
}

impl RecipientPolicy {
    /// The policy of these plugins, under this admission limit.
    pub fn new(plugins: Arc<Plugins>, admission: Arc<Admission>) -> Self {
        Self { plugins, admission }
    }
}

impl RecipientCheck for RecipientPolicy {
    fn check(&self, _mail_from: &str, address: &str) -> Result<(), Reply> {
        if self.admission.full() {
            return Err(self.admission.overloaded().smtp_reply());
        }
        let verdict =
            |kind, reason: &str| Verdict::new(kind, About::Recipient, reason).smtp_reply();
        let Some((_, domain)) = address.rsplit_once('@') else {
            return Err(verdict(Kind::Invalid, "Bad recipient address syntax"));
        };
        let set = self.plugins.current();
        let mut mapping = set.mapping.instance(self.plugins.engine());
        match mapping.is_served_domain(domain) {
            Ok(true) => {}
            Ok(false) => return Err(verdict(Kind::Refused, "Relaying denied")),
            Err(fault) => {
                return Err(Verdict::of_plugin(fault.into(), About::Recipient).smtp_reply());
            }
        }
        mapping
            .im_of_email(address, Role::Recipient)
            .map(drop)
            .map_err(|e| Verdict::of_plugin(e, About::Recipient).smtp_reply())
    }
}

impl MailSink for Arc<EmailToIm> {
    fn deliver(
        &self,
        tx: Transaction,
        session: &str,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send>> {
        let this = self.clone();
        let session = session.to_string();
        Box::pin(async move { EmailToIm::deliver(this, tx, &session).await })
    }
}
