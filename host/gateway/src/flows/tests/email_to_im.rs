//! E-mail → IM in memory: an SMTP session driven line by line (as
//! Stalwart's inbound tests are), the IM system played by an in-memory
//! SIP sender; large-message mode sends its chunks to an in-process MSRP
//! receiver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use interwork_proto::msrp::{self, Continuation, Frame, MsrpUri};
use interwork_proto::sdp::{self, MsrpAnswerParams};
use interwork_proto::sip::{Method, Request, Response};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use interwork_store::{CorrelationKey, Direction, Store};

use super::{Recorded, config, default_plugins, spool};
use crate::BoxFuture;
use crate::config::SipTransport;
use crate::flows::email_to_im::{EmailToIm, RecipientPolicy};
use crate::framed::{FramedReader, MsrpStream};
use crate::im::outgoing::{ImComposer, ImSender};
use crate::sip::{ClientError, SipSender};
use crate::smtp::server::{Capabilities, Output, RecipientCheck, SmtpSession};

/// The IM system: answers by the Request-URI's user, as real user agents
/// would, and sets up an MSRP session toward `msrp` for an INVITE.
struct ImSystem {
    requests: Recorded<Request>,
    acks: Recorded<u16>,
    msrp: Option<SocketAddr>,
}

impl ImSystem {
    fn new(msrp: Option<SocketAddr>) -> Arc<Self> {
        Arc::new(Self {
            requests: Recorded::default(),
            acks: Recorded::default(),
            msrp,
        })
    }

    fn answer(&self, request: &Request) -> Result<Response, ClientError> {
        let user = request
            .uri
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or_default();
        let (code, reason) = match user {
            "busy" => (486, "Busy Here"),
            "gone" => (404, "Not Found"),
            "slow" => return Err(ClientError::Timeout(Duration::from_secs(32))),
            _ => (200, "OK"),
        };
        let mut response = Response::to(request, code, reason, "uas-tag");
        if request.method == Method::Invite && code == 200 {
            let offer = sdp::parse(&request.body).expect("the gateway's offer parses");
            let address = self.msrp.expect("an MSRP receiver for INVITEs");
            let params = MsrpAnswerParams {
                origin_user: "ims".into(),
                session_id: 1,
                session_version: 1,
                address: address.ip(),
                port: address.port(),
                path: MsrpUri::new(
                    false,
                    address.ip().to_string(),
                    Some(address.port()),
                    "ims-1",
                )
                .to_string(),
                accept_types: vec!["message/cpim".into()],
                accept_wrapped_types: vec!["*".into()],
                max_size: None,
            };
            let answer = sdp::answer_msrp(&offer, &params).expect("an answer to the offer");
            sdp::write(&answer, &mut response.body).expect("answer writes");
            response.headers.push("Contact", "<sip:bob@127.0.0.1:5070>");
            response.headers.push("Content-Type", "application/sdp");
        }
        Ok(response)
    }
}

impl SipSender for ImSystem {
    fn send_request<'a>(
        &'a self,
        request: &'a mut Request,
        _dest: SocketAddr,
        _transport: SipTransport,
        _timer_f: Duration,
    ) -> BoxFuture<'a, Result<Response, ClientError>> {
        self.requests.push(request.clone());
        let answer = self.answer(request);
        Box::pin(async move { answer })
    }

    fn send_ack<'a>(
        &'a self,
        _invite: &'a Request,
        response: &'a Response,
        _dest: SocketAddr,
        _transport: SipTransport,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        self.acks.push(response.code);
        Box::pin(async { Ok(()) })
    }
}

/// An SMTP client talking to the gateway's session in memory.
struct Client {
    session: SmtpSession,
    policy: RecipientPolicy,
    flow: Arc<EmailToIm>,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl Client {
    fn new(ims: Arc<ImSystem>) -> Self {
        let config = config();
        let plugins = default_plugins();
        let (spool, dir) = spool(&config);
        let store = spool.store().clone();
        let flow = Arc::new(EmailToIm::new(
            plugins.clone(),
            ImComposer::with_msrp_address(&config, "127.0.0.1:2855".parse().unwrap()),
            ImSender::new(ims, "<sip:interwork@127.0.0.1:5060>".into()),
            config.limits.mail_hop_limit,
            spool,
            false,
        ));
        let session = SmtpSession::new(Capabilities {
            hostname: "gw.example.test".into(),
            max_size: 1 << 20,
            starttls: false,
        });
        Self {
            session,
            policy: RecipientPolicy::new(plugins, crate::admission::Admission::unlimited()),
            flow,
            store,
            _dir: dir,
        }
    }

    /// Sends `text` (CRLF added); the server's answer must start with
    /// `expect`. Deliveries it asks for run here, as the listener runs them.
    async fn cmd(&mut self, text: &str, expect: &str) -> String {
        let mut outputs = self.session.feed(
            format!("{text}\r\n").as_bytes(),
            &self.policy as &dyn RecipientCheck,
        );
        let mut said = String::new();
        while !outputs.is_empty() {
            let mut next = Vec::new();
            for output in outputs {
                match output {
                    Output::Send(bytes) => said.push_str(&String::from_utf8(bytes).unwrap()),
                    Output::Deliver(tx) => {
                        let reply = self.flow.clone().deliver(tx, "smtp:test").await;
                        next.extend(self.session.delivered(reply, &self.policy));
                    }
                    Output::Close | Output::StartTls => {}
                }
            }
            outputs = next;
        }
        assert!(
            said.starts_with(expect),
            "{text:?}: expected {expect:?}, got {said:?}"
        );
        said
    }

    async fn mail(&mut self, to: &str, body: &str, expect: &str) -> String {
        self.cmd("MAIL FROM:<zhang@mail.example.test>", "250").await;
        self.cmd(&format!("RCPT TO:<{to}>"), "250").await;
        self.cmd("DATA", "354").await;
        let data = format!(
            "From: Zhang San <zhang@mail.example.test>\r\nTo: <{to}>\r\n\
             Subject: =?UTF-8?B?5Y2I6aWt?=\r\nDisposition-Notification-To: <zhang@mail.example.test>\r\n\
             \r\n{body}\r\n."
        );
        self.cmd(&data, expect).await
    }
}

#[tokio::test]
async fn a_mail_becomes_a_cpim_message_and_250() {
    let ims = ImSystem::new(None);
    let mut c = Client::new(ims.clone());
    c.cmd("EHLO mail.example.test", "250-gw.example.test").await;
    c.mail(
        "alice@im.example.test",
        "see you at noon",
        "250 2.0.0 Delivered as IM (200 OK)",
    )
    .await;
    let requests = ims.requests.all();
    assert_eq!(requests.len(), 1);
    let message = &requests[0];
    assert_eq!(message.method, Method::Message);
    assert_eq!(message.uri, "sip:alice@im.example.test");
    assert!(
        message
            .headers
            .get("From")
            .is_some_and(|f| f.starts_with("<sip:zhang@mail.example.test>;tag=")),
        "{message:?}"
    );
    assert_eq!(message.headers.get("Content-Type"), Some("message/cpim"));
    let cpim = String::from_utf8_lossy(&message.body);
    assert!(cpim.contains("\r\nSubject: 午饭\r\n"), "{cpim}");
    assert!(
        cpim.contains("imdn.Disposition-Notification: negative-delivery, display"),
        "{cpim}"
    );
    assert!(cpim.ends_with("\r\n\r\nsee you at noon\r\n"), "{cpim:?}");
    c.cmd("QUIT", "221").await;
}

#[tokio::test]
async fn a_mail_delivered_as_im_leaves_its_correlation_record() {
    let ims = ImSystem::new(None);
    let mut c = Client::new(ims.clone());
    c.cmd("EHLO mail.example.test", "250").await;
    for (to, message_id, expect) in [
        (
            "alice@im.example.test",
            "abc.1@mail.example.test",
            "250 2.0.0 Delivered",
        ),
        (
            "gone@im.example.test",
            "abc.2@mail.example.test",
            "550 5.1.1",
        ),
    ] {
        c.cmd("MAIL FROM:<zhang@mail.example.test>", "250").await;
        c.cmd(&format!("RCPT TO:<{to}>"), "250").await;
        c.cmd("DATA", "354").await;
        let data = format!(
            "From: <zhang@mail.example.test>\r\nTo: <{to}>\r\n\
             Message-ID: <{message_id}>\r\nSubject: hi\r\n\r\nhello\r\n."
        );
        c.cmd(&data, expect).await;
    }
    let cpim = String::from_utf8_lossy(&ims.requests.all()[0].body).into_owned();
    let imdn = cpim
        .lines()
        .find_map(|l| l.strip_prefix("imdn.Message-ID: "))
        .expect("an imdn.Message-ID");
    let now = crate::spool::millis_now();
    let found = c
        .store
        .find(
            CorrelationKey::MessageId("abc.1@mail.example.test".into()),
            now,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let record = &found[0].record;
    assert_eq!(record.direction, Direction::MailToIm);
    assert_eq!(record.imdn_message_id.as_deref(), Some(imdn));
    assert_eq!(
        (
            record.mail_from.as_str(),
            record.mail_to.as_str(),
            record.im_sender.as_str(),
            record.im_recipient.as_str()
        ),
        (
            "zhang@mail.example.test",
            "alice@im.example.test",
            "sip:zhang@mail.example.test",
            "sip:alice@im.example.test"
        )
    );
    let by_imdn = c
        .store
        .find(CorrelationKey::ImdnMessageId(imdn.to_string()), now)
        .await
        .unwrap();
    assert_eq!(by_imdn.len(), 1);
    // Refused: nothing was delivered, nothing to correlate.
    let refused = c
        .store
        .find(
            CorrelationKey::MessageId("abc.2@mail.example.test".into()),
            now,
        )
        .await
        .unwrap();
    assert!(refused.is_empty());
    assert!(
        c.store.list(&[]).await.unwrap().is_empty(),
        "nothing queued"
    );
}

#[tokio::test]
async fn each_recipient_gets_the_receipts_its_own_rcpt_asked_for() {
    // RFC 3461 §4.1: NOTIFY is per recipient; one mail, two IM users.
    let ims = ImSystem::new(None);
    let mut c = Client::new(ims.clone());
    c.cmd("EHLO mail.example.test", "250").await;
    c.cmd("MAIL FROM:<zhang@mail.example.test>", "250").await;
    c.cmd(
        "RCPT TO:<alice@im.example.test> NOTIFY=SUCCESS,FAILURE",
        "250",
    )
    .await;
    c.cmd("RCPT TO:<carol@im.example.test> NOTIFY=NEVER", "250")
        .await;
    c.cmd("DATA", "354").await;
    c.cmd(
        "From: <zhang@mail.example.test>\r\nMessage-ID: <two.1@mail.example.test>\r\n\
         Subject: hi\r\n\r\nhello both\r\n.",
        "250 2.0.0 Taken for 2 of 2",
    )
    .await;
    let asked = |user: &str| {
        let request = ims
            .requests
            .all()
            .into_iter()
            .find(|r| r.uri.starts_with(&format!("sip:{user}@")))
            .unwrap_or_else(|| panic!("an IM for {user}"));
        let cpim = String::from_utf8_lossy(&request.body).into_owned();
        cpim.lines()
            .find_map(|l| l.strip_prefix("imdn.Disposition-Notification: "))
            .map(str::to_string)
    };
    assert_eq!(
        asked("alice").as_deref(),
        Some("positive-delivery, negative-delivery")
    );
    assert_eq!(asked("carol"), None, "NOTIFY=NEVER asks for nothing");
    let now = crate::spool::millis_now();
    let mut records: Vec<(String, Option<String>)> = c
        .store
        .find(
            CorrelationKey::MessageId("two.1@mail.example.test".into()),
            now,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.record.mail_to, f.record.notify))
        .collect();
    records.sort();
    assert_eq!(
        records,
        [
            (
                "alice@im.example.test".to_string(),
                Some("SUCCESS,FAILURE".to_string())
            ),
            (
                "carol@im.example.test".to_string(),
                Some("NEVER".to_string())
            ),
        ]
    );
}

#[tokio::test]
async fn sip_answers_and_rcpt_refusals_become_smtp_replies() {
    let ims = ImSystem::new(None);
    let mut c = Client::new(ims.clone());
    c.cmd("EHLO mail.example.test", "250").await;
    c.mail("gone@im.example.test", "x", "550 5.1.1").await;
    c.mail("busy@im.example.test", "x", "450 4.2.1").await;
    c.mail("slow@im.example.test", "x", "451 4.4.1").await;
    // Refused at RCPT, never reaching the IM system.
    c.cmd("MAIL FROM:<zhang@mail.example.test>", "250").await;
    c.cmd("RCPT TO:<bob@elsewhere.example.test>", "550 5.7.1")
        .await;
    c.cmd("RCPT TO:<nobody@gw.example.test>", "550 5.1.1").await;
    // A number whose country code cannot be: the mapping says invalid.
    c.cmd("RCPT TO:<+8-613912345678@im.example.test>", "553 5.1.3")
        .await;
    c.cmd("RSET", "250").await;
    assert_eq!(ims.requests.all().len(), 3);
}

/// The IM side's MSRP receiver: answers every SEND 200 (RFC 4975 §7.2) and
/// returns the chunks' bodies once the last one (`$`) arrived.
async fn msrp_receiver() -> (SocketAddr, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (reader, mut writer) = stream.into_split();
        let mut frames = FramedReader::new(reader, MsrpStream(msrp::Limits::default()), 8192);
        let mut chunks = Vec::new();
        while let Some(frame) = frames.read_frame().await.unwrap() {
            let Frame::Request(send) = frame else {
                continue;
            };
            let mut out = Vec::new();
            msrp::write(
                &Frame::Response(msrp::Response::to_request(&send, 200, Some("OK"))),
                &mut out,
            );
            writer.write_all(&out).await.unwrap();
            chunks.push(send.body.clone());
            if send.continuation == Continuation::Complete {
                break;
            }
        }
        chunks
    });
    (address, task)
}

#[tokio::test]
async fn a_large_mail_goes_as_invite_msrp_chunks_and_bye() {
    let (msrp_at, receiver) = msrp_receiver().await;
    let ims = ImSystem::new(Some(msrp_at));
    let mut c = Client::new(ims.clone());
    c.cmd("EHLO mail.example.test", "250").await;
    let body = "0123456789".repeat(500);
    c.mail(
        "alice@im.example.test",
        &body,
        "250 2.0.0 Delivered as IM (MSRP)",
    )
    .await;
    let chunks = receiver.await.unwrap();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c.len() <= 2048));
    let cpim = String::from_utf8(chunks.concat()).unwrap();
    assert!(
        cpim.starts_with("From: <sip:zhang@mail.example.test>\r\n"),
        "{cpim}"
    );
    assert!(cpim.ends_with(&format!("\r\n\r\n{body}\r\n")), "{cpim:?}");
    let methods: Vec<Method> = ims.requests.all().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, [Method::Invite, Method::Bye]);
    assert_eq!(ims.acks.all(), [200]);
    let invite = &ims.requests.all()[0];
    assert_eq!(invite.headers.get("Content-Type"), Some("application/sdp"));
    let bye = &ims.requests.all()[1];
    assert_eq!(
        bye.uri, "sip:bob@127.0.0.1:5070",
        "BYE to the answer's Contact"
    );
    assert!(
        bye.headers
            .get("To")
            .is_some_and(|t| t.contains("tag=uas-tag"))
    );
}
