//! The SMTP client against in-process SMTP servers (the gateway's own,
//! on 127.0.0.2 and 127.0.0.3, and a scripted one that offers only what a
//! test asks), with an in-memory MX table instead of DNS: preference
//! order, the next MX when one is down, replies → outcomes, DSN
//! parameters, the 7-bit copy, dot-stuffing, session reuse.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use interwork_plugin_host::bindings::types::DsnNotify;
use interwork_proto::smtp::{Dsn, Notify, RecipientDsn, Ret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::config::{Config, EMBEDDED_DEFAULT};
use crate::listen::{ConnectionLimits, Gate};
use crate::shutdown;
use crate::smtp::server::{
    Capabilities, MailSink, RecipientCheck, Reply, SmtpServer, Timeouts, Transaction,
};

/// MX records and addresses from a table.
struct MxTable {
    mx: BTreeMap<&'static str, Vec<(&'static str, u16)>>,
    hosts: BTreeMap<&'static str, IpAddr>,
}

impl MxLookup for MxTable {
    fn mx_hosts<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<MxHost>, NoRoute>> {
        let found = match self.mx.get(domain) {
            Some(list) => {
                let mut hosts: Vec<MxHost> = list
                    .iter()
                    .map(|(name, preference)| MxHost {
                        name: name.to_string(),
                        preference: *preference,
                    })
                    .collect();
                hosts.sort_by_key(|h| h.preference);
                Ok(hosts)
            }
            None => Err(NoRoute::Permanent(SmtpFailure {
                code: Some(550),
                enhanced: Some("5.1.2".into()),
                text: format!("domain {domain} does not exist"),
                server: None,
            })),
        };
        Box::pin(async move { found })
    }

    fn addresses<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Vec<IpAddr>, SmtpFailure>> {
        let found = Ok(self.hosts.get(host).into_iter().copied().collect());
        Box::pin(async move { found })
    }
}

/// A mail system: refuses `nobody@`, keeps the rest.
#[derive(Default)]
struct Mailbox(Mutex<Vec<Transaction>>);

impl RecipientCheck for Mailbox {
    fn check(&self, _mail_from: &str, address: &str) -> Result<(), Reply> {
        if address.starts_with("nobody@") {
            Err(Reply::new(550, "5.1.1", "User unknown"))
        } else {
            Ok(())
        }
    }
}

struct Keep(Arc<Mailbox>);

impl MailSink for Keep {
    fn deliver(
        &self,
        tx: Transaction,
        _session: &str,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send>> {
        self.0.0.lock().unwrap().push(tx);
        Box::pin(async { Reply::new(250, "2.0.0", "Ok: queued") })
    }
}

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        envelope_from: "alice@im.example.test".into(),
        envelope_to: vec![to.into()],
        dsn_notify: Default::default(),
        envid: None,
        message_id: "x@gw.example.test".into(),
        bytes: b"From: <alice@im.example.test>\r\nTo: <b@x>\r\nSubject: hi\r\n\r\nhello\r\n"
            .to_vec(),
        seven_bit: None,
    }
}

/// The gateway's own SMTP server on `ip`, keeping what it is given.
struct OurServer {
    port: u16,
    mailbox: Arc<Mailbox>,
    stop: shutdown::ShutdownTrigger,
    serving: tokio::task::JoinHandle<()>,
}

async fn our_server(ip: &str) -> OurServer {
    our_server_with_tls(ip, None).await
}

async fn our_server_with_tls(ip: &str, tls: Option<tokio_rustls::TlsAcceptor>) -> OurServer {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mailbox = Arc::new(Mailbox::default());
    let server = SmtpServer::new(
        Capabilities {
            hostname: "mx2.mail.example.test".into(),
            max_size: 1 << 20,
            starttls: false,
        },
        mailbox.clone(),
        Arc::new(Keep(mailbox.clone())),
        tls,
        Timeouts {
            command: Duration::from_secs(10),
            data: Duration::from_secs(10),
            tls_handshake: Duration::from_secs(10),
        },
    );
    let gate = Gate::new(
        "SMTP",
        listener,
        ConnectionLimits {
            total: 10,
            per_source: 10,
        },
    );
    let (stop, stopped) = shutdown::channel();
    let serving = tokio::spawn(server.serve(gate, stopped));
    OurServer {
        port,
        mailbox,
        stop,
        serving,
    }
}

fn config(port: u16) -> Config {
    let mut config = Config::parse(EMBEDDED_DEFAULT, Path::new("/nonexistent")).unwrap();
    config.smtp.delivery_port = port;
    config.smtp.delivery_deadline_secs = 10;
    config
}

/// mail.example.test → mx.mail.example.test at `ip`.
fn one_mx(ip: &str) -> Arc<MxTable> {
    Arc::new(MxTable {
        mx: BTreeMap::from([("mail.example.test", vec![("mx.mail.example.test", 10)])]),
        hosts: BTreeMap::from([("mx.mail.example.test", ip.parse().unwrap())]),
    })
}

#[tokio::test]
async fn the_next_mx_takes_the_mail_when_the_preferred_one_is_down() {
    // One port on two loopback addresses: 127.0.0.2 has no server, 127.0.0.3 has ours.
    let OurServer {
        port,
        mailbox,
        stop,
        serving,
    } = our_server("127.0.0.3").await;
    let table = MxTable {
        mx: BTreeMap::from([(
            "mail.example.test",
            vec![("mx2.mail.example.test", 20), ("mx1.mail.example.test", 10)],
        )]),
        hosts: BTreeMap::from([
            ("mx1.mail.example.test", "127.0.0.2".parse().unwrap()),
            ("mx2.mail.example.test", "127.0.0.3".parse().unwrap()),
        ]),
    };
    let table = Arc::new(table);
    let deliverer = Deliverer::with_resolver(&config(port), table.clone());

    match deliverer.deliver(&mail("bob@mail.example.test")).await {
        DeliveryOutcome::Delivered { server, reply, dsn } => {
            assert!(
                server.starts_with("mx2.mail.example.test (127.0.0.3:"),
                "{server}"
            );
            assert_eq!(reply, "2.0.0 Ok: queued");
            assert!(!dsn, "no DSN asked");
        }
        other => panic!("{other:?}"),
    }
    let kept = mailbox.0.lock().unwrap().clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].mail_from, "alice@im.example.test");
    assert_eq!(kept[0].rcpt_to, ["bob@mail.example.test"]);
    // The bytes as built: the message ends in CRLF, so only ". CRLF"
    // was added, and the server's unstuffing takes that off again.
    assert_eq!(kept[0].data, mail("bob@mail.example.test").bytes);
    assert_eq!(
        kept[0].dsn,
        Dsn {
            recipients: vec![RecipientDsn::default()],
            ..Dsn::default()
        }
    );

    match deliverer.deliver(&mail("nobody@mail.example.test")).await {
        DeliveryOutcome::Permanent(f) => {
            assert_eq!(
                (f.code, f.enhanced.as_deref()),
                (Some(550), Some("5.1.1")),
                "{f:?}"
            );
            assert_eq!(f.text, "550 5.1.1 User unknown");
        }
        other => panic!("{other:?}"),
    }
    match deliverer.deliver(&mail("bob@nowhere.example.test")).await {
        DeliveryOutcome::Permanent(f) => assert_eq!(f.enhanced.as_deref(), Some("5.1.2")),
        other => panic!("{other:?}"),
    }

    // Stopped by its shutdown argument, not aborted.
    stop.trigger();
    serving.await.unwrap();
    // With no server left, every MX is unreachable: a temporary failure.
    // (A new deliverer: the stopped listener's sessions live on, and the
    // first one's idle session would still take the mail.)
    let deliverer = Deliverer::with_resolver(&config(port), table);
    match deliverer.deliver(&mail("carol@mail.example.test")).await {
        DeliveryOutcome::Temporary(f) => {
            assert!(f.text.starts_with("no mail server reachable"), "{f:?}")
        }
        other => panic!("{other:?}"),
    }
}

fn with_dsn(to: &str) -> OutgoingMail {
    OutgoingMail {
        dsn_notify: DsnNotify::SUCCESS | DsnNotify::FAILURE,
        envid: Some("iw+1=2".into()),
        ..mail(to)
    }
}

#[tokio::test]
async fn dsn_parameters_reach_a_server_that_offers_dsn() {
    let server = our_server("127.0.0.1").await;
    let deliverer = Deliverer::with_resolver(&config(server.port), one_mx("127.0.0.1"));

    match deliverer.deliver(&with_dsn("bob@mail.example.test")).await {
        DeliveryOutcome::Delivered { dsn, .. } => assert!(dsn, "the server took the request"),
        other => panic!("{other:?}"),
    }
    // A notification of ours (null reverse-path) never asks for one.
    let bounce = OutgoingMail {
        envelope_from: String::new(),
        ..with_dsn("carol@mail.example.test")
    };
    match deliverer.deliver(&bounce).await {
        DeliveryOutcome::Delivered { dsn, .. } => assert!(!dsn),
        other => panic!("{other:?}"),
    }
    let kept = server.mailbox.0.lock().unwrap().clone();
    assert_eq!(
        kept[0].dsn,
        Dsn {
            // Sent as xtext (iw+2B1+3D2), decoded by the server.
            envid: Some("iw+1=2".into()),
            ret: Some(Ret::Hdrs),
            recipients: vec![RecipientDsn {
                notify: Some(Notify {
                    success: true,
                    failure: true,
                    delay: false,
                }),
                orcpt: Some("bob@mail.example.test".into()),
            }],
        }
    );
    assert_eq!(kept[1].mail_from, "");
    assert_eq!(kept[1].dsn.envid, None);
    assert_eq!(kept[1].dsn.ret, None);
    assert_eq!(kept[1].dsn.recipients, [RecipientDsn::default()]);
    server.stop.trigger();
}

#[tokio::test]
async fn lines_starting_with_a_dot_arrive_byte_for_byte() {
    let server = our_server("127.0.0.1").await;
    let deliverer = Deliverer::with_resolver(&config(server.port), one_mx("127.0.0.1"));
    let bytes = b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\n. \r\nlast line without CRLF".to_vec();
    let dotted = OutgoingMail {
        bytes: bytes.clone(),
        ..mail("bob@mail.example.test")
    };
    assert!(matches!(
        deliverer.deliver(&dotted).await,
        DeliveryOutcome::Delivered { .. }
    ));
    let kept = server.mailbox.0.lock().unwrap().clone();
    // Unstuffed by the server; a CRLF was added before the final ".".
    assert_eq!(kept[0].data, [bytes, b"\r\n".to_vec()].concat());
    server.stop.trigger();
}

/// What the scripted server saw.
#[derive(Default)]
struct Seen {
    connections: usize,
    /// Every command line, without CRLF.
    commands: Vec<String>,
    /// Each message, still dot-stuffed, without the final "." CRLF.
    messages: Vec<Vec<u8>>,
    /// A command arrived before the reply to the one before it.
    pipelined: bool,
}

/// An SMTP server with a fixed EHLO reply, answering 250 to everything
/// and reading DATA to the final ".", one command at a time; after
/// `close_after` messages on a connection it closes it without a word.
async fn scripted(ehlo: &'static str, close_after: usize) -> (u16, Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            shared.lock().unwrap().connections += 1;
            let seen = shared.clone();
            tokio::spawn(async move {
                stream.write_all(b"220 scripted ESMTP\r\n").await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let mut in_data = false;
                let mut messages = 0;
                let mut tls_asked = false;
                loop {
                    // After "220" to STARTTLS: the ClientHello gets a
                    // plain-text line, which is no TLS record.
                    if tls_asked {
                        let _ = stream.read(&mut chunk).await;
                        let _ = stream.write_all(b"500 no TLS here\r\n").await;
                        return;
                    }
                    let end = if in_data {
                        buf.windows(5)
                            .position(|w| w == b"\r\n.\r\n")
                            .map(|i| i + 5)
                    } else {
                        buf.windows(2).position(|w| w == b"\r\n").map(|i| i + 2)
                    };
                    let Some(end) = end else {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let item: Vec<u8> = buf.drain(..end).collect();
                    let reply: &[u8] = if in_data {
                        in_data = false;
                        messages += 1;
                        seen.lock()
                            .unwrap()
                            .messages
                            .push(item[..item.len() - 3].to_vec());
                        b"250 2.0.0 Ok: queued\r\n"
                    } else {
                        let line = String::from_utf8_lossy(&item[..item.len() - 2]).into_owned();
                        let verb = line
                            .split(' ')
                            .next()
                            .unwrap_or_default()
                            .to_ascii_uppercase();
                        let mut seen = seen.lock().unwrap();
                        seen.pipelined |= !buf.is_empty();
                        seen.commands.push(line);
                        match verb.as_str() {
                            "EHLO" => ehlo.as_bytes(),
                            "DATA" => {
                                in_data = true;
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => b"221 bye\r\n",
                            "STARTTLS" => {
                                tls_asked = true;
                                b"220 go ahead\r\n"
                            }
                            _ => b"250 2.0.0 Ok\r\n",
                        }
                    };
                    if stream.write_all(reply).await.is_err() {
                        return;
                    }
                    if messages == close_after {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

/// No DSN, no PIPELINING, no 8BITMIME.
const PLAIN_EHLO: &str = "250-scripted\r\n250-SIZE 100000\r\n250 ENHANCEDSTATUSCODES\r\n";

#[tokio::test]
async fn a_server_without_dsn_gets_no_dsn_parameters_and_the_seven_bit_copy() {
    let (port, seen) = scripted(PLAIN_EHLO, usize::MAX).await;
    let deliverer = Deliverer::with_resolver(&config(port), one_mx("127.0.0.1"));
    let seven_bit =
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n.dot\r\n".to_vec();
    let eight_bit = OutgoingMail {
        bytes: "Content-Transfer-Encoding: 8bit\r\n\r\ncafé\r\n.dot\r\n".into(),
        seven_bit: Some(seven_bit.clone()),
        ..with_dsn("bob@mail.example.test")
    };
    match deliverer.deliver(&eight_bit).await {
        DeliveryOutcome::Delivered { dsn, reply, .. } => {
            assert!(!dsn, "no DSN offered");
            assert_eq!(reply, "2.0.0 Ok: queued");
        }
        other => panic!("{other:?}"),
    }
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.commands,
        [
            "EHLO gw.example.test".to_string(),
            format!("MAIL FROM:<alice@im.example.test> SIZE={}", seven_bit.len()),
            "RCPT TO:<bob@mail.example.test>".to_string(),
            "DATA".to_string(),
        ]
    );
    assert!(!seen.pipelined, "PIPELINING was not offered");
    // The 7-bit copy, dot-stuffed on the wire.
    assert_eq!(
        seen.messages,
        [b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n..dot\r\n".to_vec()]
    );
}

#[tokio::test]
async fn two_mails_to_one_mx_share_one_session_without_noop() {
    let (port, seen) = scripted(
        "250-scripted\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 DSN\r\n",
        usize::MAX,
    )
    .await;
    let deliverer = Deliverer::with_resolver(&config(port), one_mx("127.0.0.1"));
    for to in ["bob@mail.example.test", "carol@mail.example.test"] {
        match deliverer.deliver(&with_dsn(to)).await {
            DeliveryOutcome::Delivered { dsn, .. } => assert!(dsn),
            other => panic!("{other:?}"),
        }
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.connections, 1);
    assert_eq!(
        seen.commands,
        [
            "EHLO gw.example.test",
            "MAIL FROM:<alice@im.example.test> RET=HDRS ENVID=iw+2B1+3D2",
            "RCPT TO:<bob@mail.example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@mail.example.test",
            "DATA",
            "MAIL FROM:<alice@im.example.test> RET=HDRS ENVID=iw+2B1+3D2",
            "RCPT TO:<carol@mail.example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;carol@mail.example.test",
            "DATA",
        ]
    );
    assert!(seen.pipelined, "MAIL, RCPT and DATA in one write");
}

#[tokio::test]
async fn an_idle_session_the_server_closed_is_replaced_by_a_fresh_one() {
    // The server hangs up after each message, so the session kept idle is
    // dead when the second mail comes.
    let (port, seen) = scripted("250-scripted\r\n250 PIPELINING\r\n", 1).await;
    let deliverer = Deliverer::with_resolver(&config(port), one_mx("127.0.0.1"));
    for to in ["bob@mail.example.test", "carol@mail.example.test"] {
        assert!(
            matches!(
                deliverer.deliver(&mail(to)).await,
                DeliveryOutcome::Delivered { .. }
            ),
            "{to}"
        );
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.connections, 2);
    assert_eq!(seen.messages.len(), 2, "each mail once");
}

#[tokio::test]
async fn starttls_when_offered_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=mx.mail.example.test",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
        ])
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let acceptor =
        crate::smtp::server::tls_acceptor(&dir.path().join("c.pem"), &dir.path().join("k.pem"))
            .unwrap();
    let server = our_server_with_tls("127.0.0.1", Some(acceptor)).await;
    let deliverer = Deliverer::with_resolver(&config(server.port), one_mx("127.0.0.1"));
    assert!(matches!(
        deliverer.deliver(&mail("bob@mail.example.test")).await,
        DeliveryOutcome::Delivered { .. }
    ));
    let address = format!("127.0.0.1:{}", server.port).parse().unwrap();
    assert_eq!(deliverer.idle_tls(address), (vec![true], vec![]));
    assert_eq!(server.mailbox.0.lock().unwrap()[0].helo, "gw.example.test");
    server.stop.trigger();
}

#[tokio::test]
async fn a_failed_tls_handshake_falls_back_to_plain_text() {
    // STARTTLS offered and accepted, then the "handshake" gets an SMTP
    // line instead of a ServerHello; the next session goes in plain text.
    let (port, seen) = scripted("250-scripted\r\n250 STARTTLS\r\n", usize::MAX).await;
    let deliverer = Deliverer::with_resolver(&config(port), one_mx("127.0.0.1"));
    assert!(matches!(
        deliverer.deliver(&mail("bob@mail.example.test")).await,
        DeliveryOutcome::Delivered { .. }
    ));
    let address = format!("127.0.0.1:{port}").parse().unwrap();
    assert_eq!(deliverer.idle_tls(address), (vec![], vec![false]));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.connections, 2);
    assert_eq!(seen.messages.len(), 1);
    assert_eq!(
        seen.commands.iter().filter(|c| *c == "STARTTLS").count(),
        1,
        "{:?}",
        seen.commands
    );
}
