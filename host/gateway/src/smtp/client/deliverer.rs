//! Handing a mail to the recipient's mail system: the MX hosts in
//! preference order (or the smarthost), each of their addresses, until
//! one answers; a session per server reused from the pool, opportunistic
//! STARTTLS with a fall-back to plain text when the handshake fails, and
//! the whole delivery within the deadline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::TlsConnector;

use super::connection::{Connection, OpenError};
use super::mx::{MxLookup, MxResolver, NoRoute};
use super::pool::{IDLE_TIMEOUT, MAX_IDLE_PER_SERVER, Pool};
use super::transaction::{self, Reuse, Sent};
use super::{DeliveryOutcome, MailDelivery, SmtpFailure, tls};
use crate::BoxFuture;
use crate::config::Config;
use crate::mail::OutgoingMail;
use crate::telemetry::{self, Stage};

/// Sends mail by MX (or through a smarthost).
pub struct Deliverer {
    resolver: Arc<dyn MxLookup>,
    port: u16,
    smarthost: Option<(String, u16)>,
    hostname: String,
    deadline: Duration,
    /// `None` when rustls could not be set up: plain text only.
    tls: Option<TlsConnector>,
    pool: Pool,
}

/// Why one server did not take the mail.
enum Attempt {
    /// It answered: its answer is the outcome.
    Answered(DeliveryOutcome),
    /// It could not be talked to, or cannot take this mail: try the next.
    Unreachable(String),
}

impl Deliverer {
    /// A deliverer for a configuration, asking DNS (`dns.nameserver`).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        Ok(Self::with_resolver(
            config,
            Arc::new(MxResolver::new(config.dns.nameserver)?),
        ))
    }

    /// A deliverer for a configuration that asks `resolver` where mail goes.
    pub fn with_resolver(config: &Config, resolver: Arc<dyn MxLookup>) -> Self {
        let smarthost = config.smtp.smarthost.as_ref().and_then(|s| {
            let (host, port) = s.rsplit_once(':')?;
            Some((
                host.trim_matches(['[', ']']).to_string(),
                port.parse().ok()?,
            ))
        });
        let tls = tls::opportunistic()
            .inspect_err(|e| tracing::error!("no TLS for outgoing mail: {e}"))
            .ok();
        Self {
            resolver,
            port: config.smtp.delivery_port,
            smarthost,
            hostname: config.gateway.hostname.clone(),
            deadline: Duration::from_secs(config.smtp.delivery_deadline_secs),
            tls,
            pool: Pool::new(MAX_IDLE_PER_SERVER, IDLE_TIMEOUT),
        }
    }

    /// Delivers one mail; never takes longer than the delivery deadline.
    pub async fn deliver(&self, mail: &OutgoingMail) -> DeliveryOutcome {
        match tokio::time::timeout(self.deadline, self.deliver_now(mail)).await {
            Ok(outcome) => outcome,
            Err(_) => DeliveryOutcome::Temporary(SmtpFailure::local(format!(
                "delivery did not finish within {:?}",
                self.deadline
            ))),
        }
    }

    async fn deliver_now(&self, mail: &OutgoingMail) -> DeliveryOutcome {
        let Some(domain) = mail
            .envelope_to
            .first()
            .and_then(|to| to.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase())
        else {
            return DeliveryOutcome::Permanent(SmtpFailure::local("no recipient domain"));
        };
        if mail
            .envelope_to
            .iter()
            .any(|to| !to.to_ascii_lowercase().ends_with(&format!("@{domain}")))
        {
            // The IM side gives one recipient per message; a mail for
            // several domains would need one transaction per domain.
            return DeliveryOutcome::Permanent(SmtpFailure::local(
                "recipients in more than one domain",
            ));
        }
        if let Err(e) = check_envelope(mail) {
            return DeliveryOutcome::Permanent(SmtpFailure::local(e));
        }
        let targets: Vec<(String, u16)> = match &self.smarthost {
            Some((host, port)) => vec![(host.clone(), *port)],
            None => match timed(Stage::Dns, self.resolver.mx_hosts(&domain)).await {
                Ok(hosts) => hosts.into_iter().map(|h| (h.name, self.port)).collect(),
                Err(NoRoute::Permanent(f)) => return DeliveryOutcome::Permanent(f),
                Err(NoRoute::Temporary(f)) => return DeliveryOutcome::Temporary(f),
            },
        };
        let mut tried = Vec::new();
        for (host, port) in targets {
            let addresses = match timed(Stage::Dns, self.resolver.addresses(&host)).await {
                Ok(addresses) if addresses.is_empty() => {
                    tried.push(format!("{host}: no address"));
                    continue;
                }
                Ok(addresses) => addresses,
                Err(f) => {
                    tried.push(f.text);
                    continue;
                }
            };
            for ip in addresses {
                match self.send(&host, SocketAddr::new(ip, port), mail).await {
                    Attempt::Answered(outcome) => return outcome,
                    Attempt::Unreachable(why) => tried.push(why),
                }
            }
        }
        if tried.is_empty() {
            tried.push(format!("{domain} has no mail server address"));
        }
        DeliveryOutcome::Temporary(SmtpFailure::local(format!(
            "no mail server reachable: {}",
            tried.join("; ")
        )))
    }

    /// One server: an idle session if there is one (those opened with TLS
    /// first), else a new one, trying STARTTLS and then plain text.
    async fn send(&self, host: &str, server: SocketAddr, mail: &OutgoingMail) -> Attempt {
        let label = format!("{host} ({server})");
        for key in [(server, true), (server, false)] {
            while let Some(mut conn) = self.pool.take(key) {
                match timed(Stage::Smtp, transaction::send(&mut conn, mail, &label)).await {
                    (
                        Sent::Broken {
                            why,
                            before_mail_reply: true,
                        },
                        _,
                    ) => {
                        // Closed by the server while idle: nothing of
                        // this mail reached it.
                        tracing::debug!(%server, "idle session gone ({why}); another one");
                    }
                    (sent, reuse) => return self.finish(key, conn, sent, reuse),
                }
            }
        }
        let tls = self.tls.as_ref();
        let conn = match Connection::open(server, host, &self.hostname, tls).await {
            Err(OpenError::Tls(why)) => {
                tracing::info!(%server, "STARTTLS failed ({why}); sending in plain text");
                Connection::open(server, host, &self.hostname, None)
                    .await
                    .map(|conn| ((server, false), conn))
            }
            opened => opened.map(|conn| ((server, tls.is_some()), conn)),
        };
        let (key, mut conn) = match conn {
            Ok(opened) => opened,
            Err(e) => return Attempt::Unreachable(format!("{label}: {e}")),
        };
        tracing::debug!(%server, tls = conn.is_tls(), "SMTP session opened");
        let (sent, reuse) = timed(Stage::Smtp, transaction::send(&mut conn, mail, &label)).await;
        self.finish(key, conn, sent, reuse)
    }

    fn finish(
        &self,
        key: (SocketAddr, bool),
        conn: Connection,
        sent: Sent,
        reuse: Reuse,
    ) -> Attempt {
        if reuse == Reuse::Yes {
            self.pool.put(key, conn);
        }
        match sent {
            Sent::Answered(outcome) => Attempt::Answered(outcome),
            Sent::Broken { why, .. } | Sent::Unsuitable(why) => Attempt::Unreachable(why),
            // Never again now, not even to another MX: it may be there.
            Sent::Uncertain(why) => {
                Attempt::Answered(DeliveryOutcome::Temporary(SmtpFailure::local(why)))
            }
        }
    }
}

#[cfg(test)]
impl Deliverer {
    /// Whether each idle session to `server` opened trying TLS, and each
    /// opened in plain text, is encrypted.
    pub(super) fn idle_tls(&self, server: SocketAddr) -> (Vec<bool>, Vec<bool>) {
        (
            self.pool.idle_tls((server, true)),
            self.pool.idle_tls((server, false)),
        )
    }
}

impl MailDelivery for Deliverer {
    fn deliver<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(Deliverer::deliver(self, mail))
    }
}

/// Awaits `work`, counting its time in the stage's histogram.
async fn timed<T>(stage: Stage, work: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let done = work.await;
    telemetry::stage(stage, started.elapsed());
    done
}

/// The addresses go into command lines as they are: none may carry what
/// would end or break one (RFC 5321 §4.1.2 has no controls, spaces
/// outside quotes, or angle brackets in a path).
fn check_envelope(mail: &OutgoingMail) -> Result<(), String> {
    let bad = |a: &str| {
        a.chars()
            .any(|c| c.is_control() || c == '<' || c == '>' || c == ' ')
    };
    if bad(&mail.envelope_from) {
        return Err(format!(
            "sender {:?} cannot be sent in MAIL FROM",
            mail.envelope_from
        ));
    }
    for to in &mail.envelope_to {
        if bad(to) || !to.contains('@') {
            return Err(format!("recipient {to:?} cannot be sent in RCPT TO"));
        }
    }
    if !mail.envelope_from.is_empty() && !mail.envelope_from.contains('@') {
        return Err(format!("sender {:?} is not an address", mail.envelope_from));
    }
    Ok(())
}
