//! IM → e-mail (SPEC S3, S4, S5): a SIP MESSAGE, or a complete MSRP message
//! of a session an INVITE set up, becomes a mail, which is delivered by MX
//! and queued durably unless its first attempt settles it (`spool`); the IM
//! side is answered once the mail is delivered or in the store — `202` —,
//! or with the SMTP refusal's SIP error when refused during the first
//! attempt (S3 step 5).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use interwork_plugin_host::Plugins;
use interwork_plugin_host::bindings::mapping::Role;
use interwork_plugin_host::bindings::types::ImMessage;
use interwork_proto::imdn::{self, Notification};
use interwork_proto::sip::{Method, Request, Response, Uri};
use interwork_store::{Correlation, Direction, after};

use crate::admission::{Admission, Ticket};
use crate::clock::now;
use crate::config::NotificationsConfig;
use crate::im::file_transfer::FileTransfers;
use crate::im::incoming::{content_media, im_from_content, im_of_message, sender_of};
use crate::im::typing;
use crate::im::wire_dispositions;
use crate::loops;
use crate::mail::{self, OutgoingMail};
use crate::message_log::{Line, Status, plugins_used};
use crate::msrp::{MessageSink, Session};
use crate::notify::to_mail::{self, notification_of};
use crate::outcome::{About, Kind, Verdict};
use crate::shutdown::Shutdown;
use crate::sip::dialog::MsrpSessionSetup;
use crate::sip::{Answer, RequestHandler, inspection};
use crate::spool::mail_courier::{envid_of, queued_mail, queued_notice};
use crate::spool::{Accepted, MailCourier, Spool, millis_now, status_of};
use crate::telemetry;
use crate::threads::{self, MailThread};

/// The IM → e-mail direction.
pub struct ImToEmail {
    plugins: Arc<Plugins>,
    spool: Arc<Spool>,
    courier: Arc<MailCourier>,
    hostname: String,
    /// `[notifications]`: which IMDNs become reports by mail.
    notifications: NotificationsConfig,
    /// How many messages may be in flight at once.
    admission: Arc<Admission>,
    /// RCS file transfers: the file fetched for the mail.
    file_transfers: Arc<FileTransfers>,
}

/// Map and convert (S3 step 1, S5), without the network: the mail that an
/// IM becomes. The plugin calls run on the caller's thread: each is bounded
/// by the call deadline, and handing them to another thread cost more than
/// they do (measured: 14 % of the CPU went to those hand-offs).
pub fn mail_of_im(
    plugins: &Plugins,
    im: &ImMessage,
    thread: &MailThread,
    hostname: &str,
) -> Result<OutgoingMail, Verdict> {
    let set = plugins.current();
    let engine = plugins.engine();
    // S3 step 1: the recipients' and the sender's e-mail addresses (S2).
    // A group IM (RFC 5365) becomes one mail to all of its recipients;
    // each must map, or the sender hears which one did not.
    if im.recipients.is_empty() {
        return Err(Verdict::new(
            Kind::Invalid,
            About::Recipient,
            "no recipient",
        ));
    }
    // One instance of each plugin serves all calls of the message.
    let mut mapping = set.mapping.instance(engine);
    let mut to = Vec::with_capacity(im.recipients.len());
    for recipient in &im.recipients {
        let address = mapping
            .email_of_im(recipient, Role::Recipient)
            .map_err(|e| Verdict::of_plugin(e, About::Recipient))?
            .value;
        to.push(address);
    }
    let from = mapping
        .email_of_im(&im.sender, Role::Sender)
        .map_err(|e| Verdict::of_plugin(e, About::Sender))?;
    drop(mapping);
    // S5: the conversion plugin decides the headers and content; the
    // envelope is the mapping's.
    let mut email = set
        .conversion
        .instance(engine)
        .im_to_email(im, &from.value, &to)
        .map_err(|e| Verdict::of_plugin(e, About::Content))?;
    thread.apply(&mut email);
    let im_domain = Uri::parse(&im.sender)
        .ok()
        .and_then(|uri| uri.host)
        .unwrap_or_default();
    // What the plugin wrote cannot be written as a mail: the IM (through
    // the plugin's conversion) is at fault, not the gateway.
    mail::build(&email, hostname, im_domain, now())
        .map_err(|e| Verdict::new(Kind::Invalid, About::Content, e.to_string()))
}

impl ImToEmail {
    /// The direction with its plugins, the spool its mails are queued in,
    /// the courier that delivers them and the gateway's host name
    /// (Message-IDs, `Warning` agent).
    pub fn new(
        plugins: Arc<Plugins>,
        spool: Arc<Spool>,
        courier: Arc<MailCourier>,
        hostname: String,
    ) -> Self {
        Self {
            plugins,
            spool,
            courier,
            hostname,
            notifications: NotificationsConfig::default(),
            admission: Admission::unlimited(),
            file_transfers: Arc::new(FileTransfers::disabled()),
        }
    }

    /// The direction fetching the files of RCS file transfers
    /// (`[file_transfer]`); without, an FT-HTTP IM becomes a mail with
    /// the link.
    pub fn with_file_transfers(self, file_transfers: Arc<FileTransfers>) -> Self {
        Self {
            file_transfers,
            ..self
        }
    }

    /// The direction under the node's admission limit (`[limits]
    /// max_messages_in_flight`).
    pub fn with_admission(self, admission: Arc<Admission>) -> Self {
        Self { admission, ..self }
    }

    /// A ticket for one more message, or the answer for its sender.
    pub fn admit(&self) -> Result<Ticket, Verdict> {
        self.admission.admit()
    }

    /// The direction with the operator's notification policy.
    pub fn with_notifications(self, notifications: NotificationsConfig) -> Self {
        Self {
            notifications,
            ..self
        }
    }

    /// An IMDN from the IM side (RFC 5438 §7.2.1) from `from`: the DSN or
    /// MDN it stands for goes to the sender of the mail its IM was made
    /// from, when that mail asked; never a mail of its own. `Ok` once that
    /// report is queued, or there is none to send.
    pub async fn take_notification(
        &self,
        notification: Result<Notification, Verdict>,
        from: &str,
        session: String,
    ) -> Result<(), Verdict> {
        let notification = notification?;
        let now = millis_now();
        let keep_until = after(now, self.spool.policy().correlation_lifetime);
        let notice = to_mail::answer(
            self.spool.store().as_ref(),
            &notification,
            from,
            &crate::notify::NoticePolicy {
                config: &self.notifications,
                plugins: Some(&self.plugins),
            },
            &self.hostname,
            now,
            keep_until,
        )
        .await
        .map_err(|e| Verdict::fault(&format!("cannot read the store: {e}")))?;
        let Some(notice) = notice else {
            return Ok(());
        };
        let message = queued_notice(&notice.mail);
        // The report's own line: an IMDN from `from`, as a mail to the
        // mail's sender. The IM side hears 200 whatever becomes of it: a
        // report refused for good cannot be told to anyone.
        let mut line = Line::received(Direction::ImToMail, session);
        line.mode = "report";
        line.imdn_message_id = notification.message_id.clone();
        line.from = from.to_string();
        line.as_from = notice.mail.envelope_from.clone();
        line.as_to = notice.mail.envelope_to.clone();
        line.plugins = plugins_used(&self.plugins.current());
        line.answer_given = "200 OK".into();
        let accepted = self
            .spool
            .accept(message, self.courier.deliver(notice.mail), &mut line)
            .await;
        tracing::debug!(key = %notice.key, "IMDN became a report by mail");
        line.emit(status_of(&accepted));
        Ok(())
    }

    /// The plugin registry the direction uses.
    pub fn plugins(&self) -> Arc<Plugins> {
        self.plugins.clone()
    }

    /// The gateway's host name, the agent of its SIP warnings.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Delivers one IM as mail (map → convert → first attempt, queued
    /// unless that attempt settles it); `Ok` once the mail is delivered or
    /// durably queued. The ticket is kept until the first attempt is over.
    /// `line` is what the receiving side knows (session, mode); the
    /// [`Delivery`] says it, once per mail, with the answer given.
    pub async fn deliver(&self, im: ImMessage, ticket: Ticket, mut line: Line) -> Delivery {
        line.imdn_message_id = im.imdn_message_id.clone().unwrap_or_default();
        line.from = im.sender.clone();
        line.to = im.recipients.clone();
        line.plugins = plugins_used(&self.plugins.current());
        // An RCS file transfer: its file, fetched while the ticket is held.
        let im = match self.file_transfers.resolve(im, &line.session).await {
            Ok(im) => im,
            Err(verdict) => return Delivery::refused(line, verdict),
        };
        let thread = threads::of_im(self.spool.store().as_ref(), &im, millis_now()).await;
        let mut mail = match mail_of_im(&self.plugins, &im, &thread, &self.hostname) {
            Ok(mail) => mail,
            Err(verdict) => return Delivery::refused(line, verdict),
        };
        mail.envid = envid_of(&mail);
        line.message_id = mail.message_id.clone();
        line.as_from = mail.envelope_from.clone();
        let mut copies = by_domain(mail).into_iter();
        let Some(first) = copies.next() else {
            let verdict = Verdict::new(Kind::Invalid, About::Recipient, "no recipient");
            return Delivery::refused(line, verdict);
        };
        let mut lines = Vec::new();
        let mut first_line = line.clone();
        first_line.as_to = first.envelope_to.clone();
        let message = queued_mail(&first, correlation_of(&im, &first));
        let attempt = ticket.hold(self.courier.deliver(first));
        let accepted = self.spool.accept(message, attempt, &mut first_line).await;
        lines.push((first_line, status_of(&accepted)));
        // A group IM to several mail domains: one transaction, and one
        // queue entry, per domain (RFC 5321 §3.3 names the recipients of
        // one transaction; an MX takes mail for its own domains). The IM
        // is accepted once any copy is; a copy refused for good then has
        // its line, as the IM's answer cannot say it.
        let mut accepted = accepted;
        for copy in copies {
            let mut copy_line = line.clone();
            copy_line.as_to = copy.envelope_to.clone();
            let message = queued_mail(&copy, correlation_of(&im, &copy));
            let copy_accepted = self
                .spool
                .accept(message, self.courier.deliver(copy), &mut copy_line)
                .await;
            lines.push((copy_line, status_of(&copy_accepted)));
            if accepted.is_err() && copy_accepted.is_ok() {
                accepted = copy_accepted;
            }
        }
        Delivery {
            result: accepted,
            lines,
        }
    }

    /// S3 step 5: the SIP answer of a delivery.
    pub fn answer(&self, delivered: &Result<Accepted, Verdict>) -> Answer {
        match delivered {
            Ok(_) => Answer::new(202, "Accepted"),
            Err(verdict) => verdict.sip_answer(&self.hostname),
        }
    }
}

/// How the delivery of one IM went, with the log lines of its mails, said
/// once its sender is answered ([`Delivery::answered`]).
#[must_use = "its lines are said by `answered`"]
pub struct Delivery {
    /// `Ok` once a mail is delivered or queued; else the refusal.
    pub result: Result<Accepted, Verdict>,
    lines: Vec<(Line, Status)>,
}

impl Delivery {
    /// Refused before any mail was made (mapping, conversion).
    pub fn refused(mut line: Line, verdict: Verdict) -> Self {
        line.judge(&verdict);
        Self {
            result: Err(verdict),
            lines: vec![(line, Status::Refused)],
        }
    }

    /// Says its lines with the answer its sender got; its result.
    pub fn answered(self, answer: &str) -> Result<Accepted, Verdict> {
        for (mut line, status) in self.lines {
            line.answer_given = answer.to_string();
            line.emit(status);
        }
        self.result
    }
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// The mail split into one copy per recipient domain, in the order the
/// domains first appear; the copies share bytes and Message-ID.
fn by_domain(mail: OutgoingMail) -> Vec<OutgoingMail> {
    let mut domains: Vec<String> = Vec::new();
    for to in &mail.envelope_to {
        let domain = domain_of(to).to_ascii_lowercase();
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() <= 1 {
        return vec![mail];
    }
    domains
        .iter()
        .map(|domain| OutgoingMail {
            envelope_to: mail
                .envelope_to
                .iter()
                .filter(|to| domain_of(to).eq_ignore_ascii_case(domain))
                .cloned()
                .collect(),
            ..mail.clone()
        })
        .collect()
}

/// What ties the IM to its mail, for receipts and replies (issue 9 §4).
fn correlation_of(im: &ImMessage, mail: &OutgoingMail) -> Correlation {
    let header = |name: &str| {
        im.extra_headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim().to_string())
    };
    Correlation {
        direction: Direction::ImToMail,
        imdn_message_id: im.imdn_message_id.clone(),
        message_id: Some(mail.message_id.clone()),
        envid: mail.envid.clone(),
        conversation_id: header("Conversation-ID"),
        contribution_id: header("Contribution-ID"),
        im_sender: im.sender.clone(),
        im_recipient: im.recipients.first().cloned().unwrap_or_default(),
        mail_from: mail.envelope_from.clone(),
        mail_to: mail.envelope_to.join(", "),
        notify: Some(wire_dispositions(im.dispositions).to_string()).filter(|d| !d.is_empty()),
        notify_to: None,
        im_date: interwork_proto::dates::format_rfc3339(&interwork_proto::dates::Timestamp {
            unix_seconds: im.date.unix_seconds,
            offset_minutes: im.date.offset_minutes,
        })
        .ok(),
        subject: im.subject.clone(),
        // The queue sets it from store.correlation_lifetime_days.
        expires_at: 0,
    }
}

/// The log's name of the SIP transaction a request came in.
fn session_of(request: &Request) -> String {
    format!("sip:{}", request.headers.get("Call-ID").unwrap_or_default())
}

/// The log line of a request's message, as the request names its sender
/// and recipient (the flow replaces them with the IM's own once parsed).
fn line_of(request: &Request) -> Line {
    let mut line = Line::received(Direction::ImToMail, session_of(request));
    line.from = request.headers.get("From").unwrap_or_default().to_string();
    line.to = vec![request.uri.clone()];
    line
}

/// The `Retry-After` of a request refused while the gateway drains: a
/// restart takes seconds, or another node takes the traffic.
const DRAIN_RETRY_AFTER_SECS: u32 = 5;

/// Receiving from the SIP side: pager mode (MESSAGE) and the dialogs of
/// large-message mode (INVITE, BYE, CANCEL).
pub struct SipIn {
    /// The direction pager MESSAGEs go to.
    pub pager: Arc<ImToEmail>,
    /// The sessions INVITEs set up.
    pub sessions: Arc<MsrpSessionSetup>,
    /// Signalled when the gateway drains: new messages and sessions are
    /// answered `503` with Retry-After; what is in flight finishes.
    pub draining: Option<Shutdown>,
}

impl SipIn {
    /// Admission, then the loop check, of a request that brings a message
    /// (MESSAGE) or a session (INVITE): one the node has no room for costs
    /// only its answer.
    fn admit(&self, request: &Request) -> Result<Ticket, Response> {
        let hostname = self.pager.hostname();
        if self.draining.as_ref().is_some_and(Shutdown::is_signalled) {
            let verdict = Verdict {
                retry_after: Some(DRAIN_RETRY_AFTER_SECS),
                ..Verdict::new(Kind::Overloaded, About::Gateway, "shutting down")
            };
            telemetry::refused_early("sip", "draining");
            return Err(verdict.sip_answer(hostname).into_response(request));
        }
        let ticket = self.pager.admit().map_err(|verdict| {
            telemetry::refused_early("sip", "overloaded");
            verdict.sip_answer(hostname).into_response(request)
        })?;
        loops::check_im(request, hostname)
            .map(|()| ticket)
            .map_err(|verdict| {
                // A message turned away: its line, as any refusal has.
                let answer = verdict.sip_answer(hostname);
                let mut line = line_of(request);
                line.judge(&verdict);
                line.answer_given = answer.status();
                line.emit(Status::Refused);
                answer.into_response(request)
            })
    }

    async fn answer(&self, request: Request) -> Response {
        // RFC 3261 §8.2, before anything is spent on the request.
        let sessions = &self.sessions.sessions;
        if let Err(answer) = inspection::inspect(&request, |call_id| sessions.has_call(call_id)) {
            return answer.into_response(&request);
        }
        let answer = match request.method {
            Method::Message => {
                let content_type = request.headers.get("Content-Type");
                let media = content_media(content_type, &request.body);
                if media.as_deref() == Some(typing::CONTENT_TYPE) {
                    let sender = request.headers.get("From").unwrap_or_default();
                    typing::drop_indication(sender, &session_of(&request), "pager");
                    return Answer::new(200, "OK").into_response(&request);
                }
                let ticket = match self.admit(&request) {
                    Ok(ticket) => ticket,
                    Err(answer) => return answer,
                };
                let notification = (media.as_deref() == Some(imdn::IMDN_CONTENT_TYPE))
                    .then(|| notification_of(content_type, &request.body))
                    .flatten();
                if let Some(notification) = notification {
                    let taken = match sender_of(&request) {
                        Ok(from) => {
                            self.pager
                                .take_notification(notification, &from, session_of(&request))
                                .await
                        }
                        Err(verdict) => Err(verdict),
                    };
                    // The gateway is where the notification ends: 200.
                    let answer = match taken {
                        Ok(()) => Answer::new(200, "OK"),
                        Err(verdict) => verdict.sip_answer(self.pager.hostname()),
                    };
                    return answer.into_response(&request);
                }
                let mut line = line_of(&request);
                line.mode = "pager";
                let delivery = match im_of_message(&request, now()) {
                    Ok(im) => self.pager.deliver(im, ticket, line).await,
                    Err(verdict) => Delivery::refused(line, verdict),
                };
                let answer = self.pager.answer(&delivery.result);
                let _ = delivery.answered(&answer.status());
                answer
            }
            Method::Invite => match self.admit(&request) {
                // The session's messages take tickets of their own.
                Ok(_ticket) => self.sessions.invite(&request),
                Err(answer) => return answer,
            },
            Method::Bye => self.sessions.bye(&request),
            Method::Cancel => self.sessions.cancel(&request),
            Method::Options => inspection::capabilities(),
            // §8.2.1 answered the others.
            Method::Ack | Method::Other(_) => {
                Answer::new(405, "Method Not Allowed").with("Allow", inspection::ALLOW)
            }
        };
        answer.into_response(&request)
    }
}

impl RequestHandler for Arc<SipIn> {
    fn handle(
        &self,
        request: Request,
        _source: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = Response> + Send>> {
        let handler = self.clone();
        Box::pin(async move { handler.answer(request).await })
    }
}

/// Receiving complete MSRP messages: they go the way pager messages go
/// (S4 step 3).
pub struct MsrpIn(pub Arc<ImToEmail>);

impl MessageSink for MsrpIn {
    fn deliver(
        &self,
        session: Arc<Session>,
        content_type: Option<String>,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Result<(), Verdict>> + Send>> {
        let direction = self.0.clone();
        Box::pin(async move {
            let media = content_media(content_type.as_deref(), &body);
            if media.as_deref() == Some(typing::CONTENT_TYPE) {
                typing::drop_indication(
                    &session.sender,
                    &format!("sip:{}", session.call_id),
                    "large",
                );
                return Ok(());
            }
            let notification = (media.as_deref() == Some(imdn::IMDN_CONTENT_TYPE))
                .then(|| notification_of(content_type.as_deref(), &body))
                .flatten();
            if let Some(notification) = notification {
                return direction
                    .take_notification(
                        notification,
                        &session.sender,
                        format!("sip:{}", session.call_id),
                    )
                    .await;
            }
            let ticket = direction.admit()?;
            let mut line = Line::received(Direction::ImToMail, format!("sip:{}", session.call_id));
            line.mode = "large";
            let im = im_from_content(
                content_type.as_deref(),
                &body,
                &session.sender,
                &session.recipient,
                session.subject.as_deref(),
                now(),
            );
            let delivery = match im {
                Ok(mut im) => {
                    threads::add_missing(&mut im, session.cpm_headers.clone());
                    direction.deliver(im, ticket, line).await
                }
                Err(verdict) => {
                    line.from = session.sender.clone();
                    line.to = vec![session.recipient.clone()];
                    Delivery::refused(line, verdict)
                }
            };
            let answer = match &delivery.result {
                Ok(_) => "MSRP 200 OK".to_string(),
                Err(verdict) => {
                    let status = verdict.msrp_status();
                    format!(
                        "MSRP {} {}",
                        status.code,
                        status.comment.as_deref().unwrap_or("")
                    )
                    .trim_end()
                    .to_string()
                }
            };
            delivery.answered(&answer).map(|_| ())
        })
    }
}
