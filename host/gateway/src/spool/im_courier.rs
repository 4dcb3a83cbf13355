//! Mail → IM through the spool (`[im_delivery] spool = true`): the SIP
//! MESSAGE a mail became, as the store keeps it (written once, so every
//! attempt carries the same `imdn.Message-ID`), routed again and sent on
//! each attempt; when it is given up, a DSN (RFC 3464) to the mail's
//! sender, queued in the IM → mail direction in the same commit that
//! removes the IM.

use std::sync::Arc;

use interwork_plugin_host::bindings::types::DsnNotify;
use interwork_proto::sip::{self, Limits, Message};
use interwork_store::{Claimed, NewMessage, State};

use super::{Courier, Outcome};
use crate::BoxFuture;
use crate::flows::email_to_im::EmailToIm;
use crate::mail::dsn::{self, Failure};
use crate::outcome::Verdict;
use crate::spool::mail_courier::{notify_flags, queued_notice};

/// Delivers queued IMs made from mails.
pub struct ImCourier(pub Arc<EmailToIm>);

/// The RFC 3463 status of a given-up message: 4.4.7 when it expired, else
/// the one its last error (an SMTP reply, `550 5.1.1 …`) carries.
fn status_of(message: &Claimed) -> String {
    let error = message.entry.last_error.as_deref().unwrap_or_default();
    let quoted = error
        .split_whitespace()
        .nth(1)
        .filter(|s| s.split('.').count() == 3 && s.starts_with(['4', '5']));
    match (message.entry.state, quoted) {
        (State::Expired, _) => "4.4.7".to_string(),
        (_, Some(status)) => status.to_string(),
        (_, None) => "5.0.0".to_string(),
    }
}

impl Courier for ImCourier {
    fn attempt(&self, message: Claimed) -> BoxFuture<'static, Outcome> {
        // Whatever size the IM was accepted at.
        let limits = Limits {
            max_message_bytes: message
                .content
                .len()
                .max(Limits::default().max_message_bytes),
            ..Limits::default()
        };
        let planned = match sip::parse_datagram(&message.content, &limits) {
            Ok(Message::Request(mut request)) => {
                // A retry is a new request of the same Call-ID: a higher
                // CSeq, or the UAS takes it for a merged request and
                // answers 482 (RFC 3261 §8.2.2.2).
                request
                    .headers
                    .set("CSeq", format!("{} MESSAGE", message.entry.attempts.max(1)));
                self.0.replan(request)
            }
            Ok(Message::Response(_)) | Err(_) => Err(Verdict::fault(&format!(
                "queued IM {} is not a SIP request",
                message.entry.id
            ))),
        };
        match planned {
            Ok(planned) => self.0.attempt(planned),
            Err(verdict) => {
                Box::pin(async move { Outcome::Permanent(verdict, Default::default()) })
            }
        }
    }

    fn notifies(&self) -> bool {
        true
    }

    fn notice(&self, message: &Claimed) -> BoxFuture<'static, Option<NewMessage>> {
        let notice = self.dsn(message);
        Box::pin(async move { notice })
    }
}

impl ImCourier {
    /// The DSN for the mail of a given-up IM; `None` for a null sender
    /// (an IMDN the gateway sent, a mail from the null reverse-path).
    fn dsn(&self, message: &Claimed) -> Option<NewMessage> {
        let entry = &message.entry;
        // RFC 3461 §4.1: a failure DSN unless the RCPT's NOTIFY left
        // FAILURE out (NEVER, SUCCESS, DELAY); none given means failures.
        if entry
            .dsn_notify
            .as_deref()
            .is_some_and(|notify| !notify_flags(Some(notify)).contains(DsnNotify::FAILURE))
        {
            return None;
        }
        let status = status_of(message);
        let diagnostic = entry
            .last_error
            .clone()
            .unwrap_or_else(|| "expired in the queue".into());
        let failure = Failure {
            sender: &entry.sender,
            recipients: &entry.recipients,
            arrival: crate::clock::at(entry.created_at),
            original: message.alternate.as_deref().unwrap_or_default(),
            status: &status,
            diagnostic: &diagnostic,
        };
        let mail = dsn::failure_report(&failure, self.0.hostname(), crate::clock::now())?;
        Some(queued_notice(&mail))
    }
}

#[cfg(test)]
mod tests {
    use interwork_store::{Direction, Entry};

    use super::*;

    fn given_up(state: State, error: &str) -> Claimed {
        Claimed {
            entry: Entry {
                id: 1,
                direction: Direction::MailToIm,
                sender: "carol@mail.example.test".into(),
                recipients: vec!["bob@gw.example.test".into()],
                message_id: "m@mail.example.test".into(),
                imdn_message_id: None,
                dsn_notify: None,
                state,
                created_at: 0,
                expires_at: 0,
                next_attempt_at: 0,
                attempts: 3,
                last_error: Some(error.into()),
                lease: None,
                size: 0,
            },
            content: Vec::new(),
            alternate: None,
        }
    }

    #[test]
    fn the_status_of_a_given_up_im_says_why() {
        assert_eq!(
            status_of(&given_up(State::Failed, "550 5.1.1 not found")),
            "5.1.1"
        );
        assert_eq!(
            status_of(&given_up(State::Expired, "451 4.4.1 offline")),
            "4.4.7"
        );
        assert_eq!(
            status_of(&given_up(State::Failed, "something odd")),
            "5.0.0"
        );
    }
}
