//! The SMTP client against in-process SMTP servers (the gateway's own,
//! on 127.0.0.2 and 127.0.0.3), with an in-memory MX table instead of DNS:
//! preference order, the next MX when one is down, replies → outcomes.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    fn check(&self, address: &str) -> Result<(), Reply> {
        if address.starts_with("nobody@") {
            Err(Reply::new(550, "5.1.1", "User unknown"))
        } else {
            Ok(())
        }
    }
}

struct Keep(Arc<Mailbox>);

impl MailSink for Keep {
    fn deliver(&self, tx: Transaction) -> Pin<Box<dyn Future<Output = Reply> + Send>> {
        self.0.0.lock().unwrap().push(tx);
        Box::pin(async { Reply::new(250, "2.0.0", "Ok: queued") })
    }
}

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        envelope_from: "alice@im.example.test".into(),
        envelope_to: vec![to.into()],
        dsn_notify: Default::default(),
        message_id: "x@gw.example.test".into(),
        bytes: b"From: <alice@im.example.test>\r\nTo: <b@x>\r\nSubject: hi\r\n\r\nhello\r\n"
            .to_vec(),
        seven_bit: None,
    }
}

#[tokio::test]
async fn the_next_mx_takes_the_mail_when_the_preferred_one_is_down() {
    // One port on two loopback addresses: 127.0.0.2 has no server, 127.0.0.3 has ours.
    let listener = tokio::net::TcpListener::bind("127.0.0.3:0").await.unwrap();
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
        None,
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

    let mut config = Config::parse(EMBEDDED_DEFAULT, Path::new("/nonexistent")).unwrap();
    config.smtp.delivery_port = port;
    config.smtp.delivery_deadline_secs = 10;
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
    let deliverer = Deliverer::with_resolver(&config, Arc::new(table));

    match deliverer.deliver(&mail("bob@mail.example.test")).await {
        DeliveryOutcome::Delivered { server, reply } => {
            assert!(
                server.starts_with("mx2.mail.example.test (127.0.0.3:"),
                "{server}"
            );
            assert!(reply.contains("queued"), "{reply}");
        }
        other => panic!("{other:?}"),
    }
    let kept = mailbox.0.lock().unwrap().clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].mail_from, "alice@im.example.test");
    assert_eq!(kept[0].rcpt_to, ["bob@mail.example.test"]);
    // The bytes as built, then only line ends: lettre writes `CRLF . CRLF`
    // after a message that already ends in CRLF, so one empty line follows.
    let sent = mail("bob@mail.example.test").bytes;
    assert!(kept[0].data.starts_with(&sent));
    assert!(
        kept[0].data[sent.len()..]
            .iter()
            .all(|b| matches!(b, b'\r' | b'\n'))
    );

    match deliverer.deliver(&mail("nobody@mail.example.test")).await {
        DeliveryOutcome::Permanent(f) => {
            assert_eq!(
                (f.code, f.enhanced.as_deref()),
                (Some(550), Some("5.1.1")),
                "{f:?}"
            )
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
    match deliverer.deliver(&mail("carol@mail.example.test")).await {
        DeliveryOutcome::Temporary(f) => {
            assert!(f.text.starts_with("no mail server reachable"), "{f:?}")
        }
        other => panic!("{other:?}"),
    }
}
