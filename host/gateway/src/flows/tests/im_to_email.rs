//! IM → e-mail in memory: SIP requests handed to the gateway's handler,
//! the mail taken by an in-memory mail system.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use interwork_store::{CorrelationKey, State, Store};

use interwork_proto::sip::{self, Limits, Message, Request};

use super::{Recorded, config, default_plugins, spool};
use crate::BoxFuture;
use crate::flows::im_to_email::{ImToEmail, SipIn};
use crate::mail::OutgoingMail;
use crate::msrp::Sessions;
use crate::sip::RequestHandler;
use crate::sip::dialog::{MsrpOffer, MsrpSessionSetup};
use crate::smtp::client::{DeliveryOutcome, MailDelivery, SmtpFailure};
use crate::spool::MailCourier;

/// The recipient's mail system: takes every mail but for a few local parts
/// that answer as real servers do.
#[derive(Default)]
struct MailSystem {
    mails: Recorded<OutgoingMail>,
}

impl MailDelivery for MailSystem {
    fn deliver<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, DeliveryOutcome> {
        self.mails.push(mail.clone());
        let local = mail.envelope_to[0].split('@').next().unwrap_or_default();
        let outcome = match local {
            "reject-user" => DeliveryOutcome::Permanent(SmtpFailure::from_reply(
                Some(550),
                "5.1.1 <reject-user@mail.example.test>: Recipient address rejected",
            )),
            "policy-block" => {
                DeliveryOutcome::Permanent(SmtpFailure::from_reply(Some(554), "5.7.1 blocked"))
            }
            "too-big" => {
                DeliveryOutcome::Permanent(SmtpFailure::from_reply(Some(552), "5.3.4 too big"))
            }
            "defer" => {
                DeliveryOutcome::Temporary(SmtpFailure::from_reply(Some(451), "4.3.0 later"))
            }
            "down" => DeliveryOutcome::Temporary(SmtpFailure::local("connection refused")),
            "slow" => {
                return Box::pin(async move {
                    tokio::time::sleep(SLOW).await;
                    DeliveryOutcome::Delivered {
                        server: "mx.mail.example.test (127.0.0.1:25)".into(),
                        reply: "2.0.0 Ok: queued at last".into(),
                        dsn: false,
                    }
                });
            }
            _ => DeliveryOutcome::Delivered {
                server: "mx.mail.example.test (127.0.0.1:25)".into(),
                reply: "2.0.0 Ok: queued".into(),
                dsn: false,
            },
        };
        Box::pin(async move { outcome })
    }
}

/// How long the "slow" mail system takes: past the first-attempt budget.
const SLOW: Duration = Duration::from_millis(400);

struct Gateway {
    handler: Arc<SipIn>,
    mail: Arc<MailSystem>,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn gateway() -> Gateway {
    let mut config = config();
    config.store.first_attempt_budget_ms = 100;
    let mail = Arc::new(MailSystem::default());
    let (spool, dir) = spool(&config);
    let store = spool.store().clone();
    let courier = Arc::new(MailCourier::new(
        mail.clone(),
        store.clone(),
        config.gateway.hostname.clone(),
        spool.policy().clone(),
    ));
    let pager = Arc::new(ImToEmail::new(
        default_plugins(),
        spool,
        courier,
        config.gateway.hostname.clone(),
    ));
    let sessions = Arc::new(MsrpSessionSetup {
        sessions: Arc::new(Sessions::default()),
        offer: MsrpOffer {
            address: "127.0.0.1:2855".parse().unwrap(),
            max_size: 1 << 20,
            contact: "<sip:interwork@127.0.0.1:5060>".into(),
        },
        agent: config.gateway.hostname,
    });
    Gateway {
        handler: Arc::new(SipIn {
            pager,
            sessions,
            draining: None,
        }),
        mail,
        store,
        _dir: dir,
    }
}

fn request(to: &str, content_type: &str, body: &str) -> Request {
    request_with(to, "", content_type, body.as_bytes())
}

/// A MESSAGE with `extra` header lines and a body of any bytes.
fn request_with(to: &str, extra: &str, content_type: &str, body: &[u8]) -> Request {
    let mut text = format!(
        "MESSAGE {to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-mem-1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@im.example.test>;tag=a1\r\n\
         To: <{to}>\r\n\
         Call-ID: mem-1@127.0.0.1\r\n\
         CSeq: 1 MESSAGE\r\n\
         Subject: lunch?\r\n\
         {extra}\
         Content-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    text.extend_from_slice(body);
    match sip::parse_datagram(&text, &Limits::default()).expect("parses") {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

impl Gateway {
    async fn send(&self, request: Request) -> sip::Response {
        let source: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        self.handler.handle(request, source).await
    }
}

#[tokio::test]
async fn a_message_becomes_one_mail_and_202() {
    let gw = gateway();
    let response = gw
        .send(request("sip:bob@mail.example.test", "text/plain", "noon?"))
        .await;
    assert_eq!((response.code, response.reason.as_str()), (202, "Accepted"));
    let mails = gw.mail.mails.all();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.envelope_from, "alice@im.example.test");
    assert_eq!(mail.envelope_to, ["bob@mail.example.test"]);
    let text = String::from_utf8_lossy(&mail.bytes);
    assert!(text.contains("From: <alice@im.example.test>\r\n"), "{text}");
    assert!(text.contains("To: <bob@mail.example.test>\r\n"), "{text}");
    assert!(text.contains("Subject: lunch?\r\n"), "{text}");
    assert!(
        text.contains(&format!("Message-ID: <{}>", mail.message_id)),
        "{text}"
    );
    assert!(mail.message_id.ends_with("@gw.example.test"), "{text}");
    assert!(
        text.ends_with("noon?") || text.contains("noon?\r\n"),
        "{text}"
    );
}

#[tokio::test]
async fn every_failure_gets_the_answer_of_the_verdict_table() {
    let gw = gateway();
    for (to, content_type, code) in [
        // No mailbox for an IM user of ours: not found.
        ("sip:carol@im.example.test", "text/plain", 404),
        ("sip:reject-user@mail.example.test", "text/plain", 404),
        ("sip:policy-block@mail.example.test", "text/plain", 403),
        ("sip:too-big@mail.example.test", "text/plain", 413),
        // A recipient the mapping plugin calls malformed: 400, as the
        // contract says (it was answered 404 before the verdict table).
        ("sip:bad..dots@mail.example.test", "text/plain", 400),
        (
            "sip:bob@mail.example.test",
            "multipart/signed;boundary=x",
            415,
        ),
        // A multipart whose parts cannot be told apart.
        (
            "sip:bob@mail.example.test",
            "multipart/mixed;boundary=x",
            400,
        ),
    ] {
        let response = gw.send(request(to, content_type, "hi")).await;
        assert_eq!(response.code, code, "{to} {content_type}: {response:?}");
        assert!(
            response.headers.get("Retry-After").is_none(),
            "{response:?}"
        );
        if code == 415 {
            // RFC 3261 §8.2.3, before any plugin ran: the lists, no Warning.
            assert!(response.headers.get("Accept").is_some(), "{response:?}");
            assert!(
                response.headers.get("Accept-Encoding").is_some(),
                "{response:?}"
            );
            continue;
        }
        assert!(
            response
                .headers
                .get("Warning")
                .is_some_and(|w| w.starts_with("399 gw.example.test \"")),
            "{to}: {response:?}"
        );
    }
    // Refused before delivery: only the mails a mail system saw.
    assert_eq!(gw.mail.mails.all().len(), 3);
    // Refused while the sender waited: nothing stays accepted.
    assert!(gw.store.list(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_mail_system_that_says_later_gets_the_mail_queued_and_the_sender_202() {
    let gw = gateway();
    for to in ["sip:defer@mail.example.test", "sip:down@mail.example.test"] {
        let response = gw.send(request(to, "text/plain", "hi")).await;
        assert_eq!(response.code, 202, "{to}: {response:?}");
    }
    let queued = gw.store.list(&[State::Queued]).await.unwrap();
    let errors: Vec<_> = queued
        .iter()
        .map(|e| {
            (
                e.recipients[0].as_str(),
                e.attempts,
                e.last_error.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("defer@mail.example.test", 1, Some("4.3.0 later")),
            ("down@mail.example.test", 1, Some("connection refused")),
        ]
    );
    // Due again after the minimum backoff (300 s), not before.
    let wait = queued[0].next_attempt_at - queued[0].created_at;
    assert!((299_000..=301_000).contains(&wait), "{wait} ms");
}

#[tokio::test]
async fn a_first_attempt_past_the_budget_is_answered_202_and_finishes_after() {
    let gw = gateway();
    let started = std::time::Instant::now();
    let response = gw
        .send(request("sip:slow@mail.example.test", "text/plain", "hi"))
        .await;
    assert_eq!(response.code, 202);
    assert!(
        started.elapsed() < SLOW,
        "answered after {:?}",
        started.elapsed()
    );
    let queued = gw.store.list(&[]).await.unwrap();
    assert_eq!(queued.len(), 1, "queued while it is being delivered");
    assert!(queued[0].lease.is_some(), "{queued:?}");
    tokio::time::sleep(SLOW * 2).await;
    assert!(
        gw.store.list(&[]).await.unwrap().is_empty(),
        "delivered in the background"
    );
    assert_eq!(gw.mail.mails.all().len(), 1);
}

#[tokio::test]
async fn a_delivered_im_leaves_its_correlation_record() {
    let gw = gateway();
    let response = gw
        .send(request("sip:bob@mail.example.test", "text/plain", "noon?"))
        .await;
    assert_eq!(response.code, 202);
    assert!(gw.store.list(&[]).await.unwrap().is_empty(), "delivered");
    let mail = &gw.mail.mails.all()[0];
    let found = gw
        .store
        .find(
            CorrelationKey::MessageId(mail.message_id.clone()),
            crate::spool::millis_now(),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let record = &found[0].record;
    assert_eq!(
        (
            record.im_sender.as_str(),
            record.im_recipient.as_str(),
            record.mail_from.as_str(),
            record.mail_to.as_str(),
        ),
        (
            "sip:alice@im.example.test",
            "sip:bob@mail.example.test",
            "alice@im.example.test",
            "bob@mail.example.test",
        )
    );
    let days = (record.expires_at - found[0].created_at) / 86_400_000;
    assert_eq!(days, 30);
}

#[tokio::test]
async fn options_and_unknown_methods_are_answered_by_the_handler() {
    let gw = gateway();
    let mut options = request("sip:bob@mail.example.test", "text/plain", "");
    options.method = sip::Method::Options;
    options.headers.set("CSeq", "1 OPTIONS");
    let response = gw.send(options).await;
    assert_eq!(response.code, 200);
    assert!(
        response
            .headers
            .get("Allow")
            .is_some_and(|a| a.contains("MESSAGE"))
    );
    let mut info = request("sip:bob@mail.example.test", "text/plain", "");
    info.method = sip::Method::Other("INFO".into());
    info.headers.set("CSeq", "1 INFO");
    assert_eq!(gw.send(info).await.code, 405);
    assert!(gw.mail.mails.all().is_empty());
}

/// A PNG's first bytes with the line ends and NULs a binary part has.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\xff\r\n--x\r\n";

/// Text and a PNG in one MESSAGE, binary, as RCS clients send them.
fn text_and_png() -> Vec<u8> {
    let mut body =
        b"--b1\r\nContent-Type: text/plain;charset=utf-8\r\n\r\nLook: \xc3\xa9t\xc3\xa9\r\n\
--b1\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"beach.png\"\r\n\
Content-ID: <png1@im.example.test>\r\n\r\n"
            .to_vec();
    body.extend_from_slice(PNG);
    body.extend_from_slice(b"\r\n--b1--\r\n");
    body
}

#[tokio::test]
async fn a_multipart_message_becomes_a_mail_of_the_same_parts() {
    use mail_parser::MimeHeaders;
    let gw = gateway();
    let response = gw
        .send(request_with(
            "sip:bob@mail.example.test",
            "",
            "multipart/mixed; boundary=b1",
            &text_and_png(),
        ))
        .await;
    assert_eq!(response.code, 202, "{response:?}");
    let mails = gw.mail.mails.all();
    let mail = mail_parser::MessageParser::new()
        .parse(&mails[0].bytes)
        .unwrap();
    assert_eq!(
        mail.content_type().map(|ct| ct.ctype()),
        Some("multipart"),
        "{}",
        String::from_utf8_lossy(&mails[0].bytes)
    );
    assert_eq!(
        mail.content_type().and_then(|ct| ct.subtype()),
        Some("mixed")
    );
    // The root, then the two leaves, in order and byte for byte.
    assert_eq!(mail.parts.len(), 3);
    assert_eq!(mail.parts[1].contents(), "Look: été".as_bytes());
    let png = &mail.parts[2];
    assert_eq!(png.contents(), PNG);
    assert_eq!(png.attachment_name(), Some("beach.png"));
    assert_eq!(png.content_id(), Some("png1@im.example.test"));
}

#[tokio::test]
async fn typing_indications_are_answered_200_and_never_become_mail() {
    let gw = gateway();
    let typing = b"<?xml version=\"1.0\"?><isComposing xmlns=\"urn:ietf:params:xml:ns:im-iscomposing\"><state>active</state></isComposing>";
    for _ in 0..20 {
        let response = gw
            .send(request_with(
                "sip:bob@mail.example.test",
                "",
                "application/im-iscomposing+xml",
                typing,
            ))
            .await;
        assert_eq!((response.code, response.reason.as_str()), (200, "OK"));
    }
    let text = gw
        .send(request("sip:bob@mail.example.test", "text/plain", "done"))
        .await;
    assert_eq!(text.code, 202);
    assert_eq!(gw.mail.mails.all().len(), 1);
}

#[tokio::test]
async fn the_rfc_3261_checks_answer_before_any_mail() {
    let gw = gateway();
    let response = gw
        .send(request_with(
            "sip:bob@mail.example.test",
            "Require: foo\r\n",
            "text/plain",
            b"hi",
        ))
        .await;
    assert_eq!(
        (response.code, response.reason.as_str()),
        (420, "Bad Extension")
    );
    assert_eq!(response.headers.get("Unsupported"), Some("foo"));
    let mut tagged = request("sip:bob@mail.example.test", "text/plain", "hi");
    tagged
        .headers
        .set("To", "<sip:bob@mail.example.test>;tag=elsewhere");
    assert_eq!(gw.send(tagged).await.code, 481);
    let im_scheme = request("im:bob@mail.example.test", "text/plain", "hi");
    assert_eq!(gw.send(im_scheme).await.code, 416);
    assert!(gw.mail.mails.all().is_empty());
}
