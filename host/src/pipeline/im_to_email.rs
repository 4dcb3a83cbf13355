//! IM → e-mail (SPEC S3, S5): a SIP MESSAGE (or a complete MSRP message)
//! becomes a mail delivered by MX, and the SMTP outcome becomes the SIP
//! answer — never before the final SMTP reply (S3 step 5).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use super::large_message::LargeMessages;
use super::{Answer, im_from_content, sender_of};
use crate::delivery::{Deliverer, DeliveryOutcome};
use crate::mail::{self, OutgoingMail};
use crate::plugin::Plugins;
use crate::plugin::bindings::mapping::Role;
use crate::plugin::bindings::types::{ImMessage, Timestamp};
use crate::sip::{Method, Request, Response};
use crate::sip_server::RequestHandler;

/// The IM → e-mail direction.
pub struct ImToEmail {
    plugins: Arc<Plugins>,
    deliverer: Arc<Deliverer>,
    hostname: String,
}

/// Now, as the plugin contract's timestamp (UTC).
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp {
        unix_seconds: i64::try_from(secs).unwrap_or(i64::MAX),
        offset_minutes: 0,
    }
}

/// Steps 1 and S5 of the pipeline, without the network: the mail that an
/// IM becomes. Blocking (plugin calls): run it off the async workers.
pub fn mail_of_im(
    plugins: &Plugins,
    im: &ImMessage,
    hostname: &str,
) -> Result<OutgoingMail, Answer> {
    let set = plugins.current();
    let engine = plugins.engine();
    // S3 step 1: the recipient's and the sender's e-mail addresses (S2).
    let recipient = im
        .recipients
        .first()
        .ok_or_else(|| Answer::new(400, "Bad Request"))?;
    let to = set
        .mapping
        .email_of_im(engine, recipient, Role::Recipient)
        .map_err(|e| Answer::from_recipient_mapping(e, hostname))?;
    let from = set
        .mapping
        .email_of_im(engine, &im.sender, Role::Sender)
        .map_err(|e| Answer::from_plugin(e, hostname))?;
    // S5: the conversion plugin decides the headers and content.
    let email = set
        .conversion
        .im_to_email(engine, im, &from.value, &to.value)
        .map_err(|e| Answer::from_plugin(e, hostname))?;
    mail::build(&email, hostname, now())
        .map_err(|e| Answer::new(500, "Server Internal Error").warning(hostname, &e.to_string()))
}

/// The IM in a SIP MESSAGE request.
pub fn im_of_message(request: &Request) -> Result<ImMessage, Answer> {
    let headers = &request.headers;
    let sender = sender_of(request)?;
    im_from_content(
        headers.get("Content-Type"),
        &request.body,
        &sender,
        &request.uri,
        headers.get("Subject"),
        now(),
    )
}

/// S3 step 5: the SIP answer of a delivery outcome.
pub fn answer_of(outcome: &DeliveryOutcome, agent: &str) -> Answer {
    match outcome {
        DeliveryOutcome::Delivered { .. } => Answer::new(202, "Accepted"),
        DeliveryOutcome::Permanent(f) => {
            let enhanced = f.enhanced.as_deref().unwrap_or_default();
            let (code, reason) = if enhanced.starts_with("5.1.") {
                (404, "Not Found")
            } else if enhanced.starts_with("5.7.") {
                (403, "Forbidden")
            } else if enhanced == "5.3.4" || f.code == Some(552) {
                (413, "Request Entity Too Large")
            } else {
                (500, "Server Internal Error")
            };
            Answer::new(code, reason).warning(agent, &f.text)
        }
        DeliveryOutcome::Temporary(f) if f.code.is_some() => {
            Answer::temporary(480, "Temporarily Unavailable", 60).warning(agent, &f.text)
        }
        DeliveryOutcome::Temporary(f) => {
            Answer::temporary(503, "Service Unavailable", 60).warning(agent, &f.text)
        }
    }
}

impl ImToEmail {
    pub fn new(plugins: Arc<Plugins>, deliverer: Arc<Deliverer>, hostname: String) -> Self {
        Self {
            plugins,
            deliverer,
            hostname,
        }
    }

    /// The plugin registry the pipeline uses.
    pub fn plugins(&self) -> Arc<Plugins> {
        self.plugins.clone()
    }

    /// Delivers one IM as mail and says how it went, as a SIP answer.
    pub async fn deliver(&self, im: ImMessage) -> Answer {
        let plugins = self.plugins.clone();
        let hostname = self.hostname.clone();
        let built = tokio::task::spawn_blocking(move || mail_of_im(&plugins, &im, &hostname)).await;
        let mail = match built {
            Ok(Ok(mail)) => mail,
            Ok(Err(answer)) => return answer,
            Err(e) => {
                return Answer::plugin_fault(&format!("plugin task failed: {e}"), &self.hostname);
            }
        };
        let outcome = self.deliverer.deliver(&mail).await;
        match &outcome {
            DeliveryOutcome::Delivered { server, reply } => tracing::info!(
                message_id = %mail.message_id,
                from = %mail.envelope_from,
                to = ?mail.envelope_to,
                %server,
                "mail delivered: {reply}"
            ),
            DeliveryOutcome::Permanent(f) | DeliveryOutcome::Temporary(f) => tracing::warn!(
                message_id = %mail.message_id,
                to = ?mail.envelope_to,
                "mail not delivered: {}",
                f.text
            ),
        }
        answer_of(&outcome, &self.hostname)
    }
}

/// Methods the gateway serves.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS";

/// The SIP server's handler: pager mode and large-message mode.
pub struct SipHandler {
    pub pager: Arc<ImToEmail>,
    pub large: Arc<LargeMessages>,
}

impl SipHandler {
    async fn answer(&self, request: Request) -> Response {
        let answer = match request.method {
            Method::Message => match im_of_message(&request) {
                Ok(im) => self.pager.deliver(im).await,
                Err(answer) => answer,
            },
            Method::Invite => self.large.invite(&request),
            Method::Bye => self.large.bye(&request),
            Method::Cancel => self.large.cancel(&request),
            Method::Options => Answer::new(200, "OK")
                .with("Allow", ALLOW)
                .with("Accept", super::ACCEPTED_TYPES),
            _ => Answer::new(405, "Method Not Allowed").with("Allow", ALLOW),
        };
        answer.into_response(&request)
    }
}

impl RequestHandler for Arc<SipHandler> {
    fn handle(
        &self,
        request: Request,
        _source: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = Response> + Send>> {
        let handler = self.clone();
        Box::pin(async move { handler.answer(request).await })
    }
}
