//! Handing a mail to an SMTP server with lettre: connections pooled per
//! server, opportunistic STARTTLS with a fall-back to plain text when the
//! handshake fails (lettre's opportunistic mode gives up instead), and the
//! next address / next MX when a server cannot be reached.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::mx::{MxLookup, MxResolver, NoRoute};
use super::{DeliveryOutcome, MailDelivery, SmtpFailure};
use crate::BoxFuture;
use crate::config::Config;
use crate::mail::OutgoingMail;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Sends mail by MX (or through a smarthost).
pub struct Deliverer {
    resolver: Arc<dyn MxLookup>,
    port: u16,
    smarthost: Option<(String, u16)>,
    hostname: String,
    deadline: Duration,
    /// lettre transports keep a connection pool each: one per server and
    /// TLS mode, so a second mail to the same MX reuses the session.
    transports: Mutex<HashMap<(SocketAddr, bool), Transport>>,
}

/// Why one server did not take the mail.
enum Attempt {
    /// It answered: its answer is the outcome.
    Answered(DeliveryOutcome),
    /// It could not be talked to: try the next one.
    Unreachable(String),
    /// The TLS handshake failed: try it again in plain text.
    TlsFailed(String),
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
        Self {
            resolver,
            port: config.smtp.delivery_port,
            smarthost,
            hostname: config.gateway.hostname.clone(),
            deadline: Duration::from_secs(config.smtp.delivery_deadline_secs),
            transports: Mutex::new(HashMap::new()),
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
        let envelope = match envelope(mail) {
            Ok(envelope) => envelope,
            Err(e) => return DeliveryOutcome::Permanent(SmtpFailure::local(e)),
        };
        let targets: Vec<(String, u16)> = match &self.smarthost {
            Some((host, port)) => vec![(host.clone(), *port)],
            None => match self.resolver.mx_hosts(&domain).await {
                Ok(hosts) => hosts.into_iter().map(|h| (h.name, self.port)).collect(),
                Err(NoRoute::Permanent(f)) => return DeliveryOutcome::Permanent(f),
                Err(NoRoute::Temporary(f)) => return DeliveryOutcome::Temporary(f),
            },
        };
        let mut tried = Vec::new();
        for (host, port) in targets {
            let addresses = match self.resolver.addresses(&host).await {
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
                match self.send(&host, ip, port, &envelope, mail).await {
                    Attempt::Answered(outcome) => return outcome,
                    Attempt::Unreachable(why) => tried.push(why),
                    Attempt::TlsFailed(_) => unreachable!("send retries in plain text"),
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

    async fn send(
        &self,
        host: &str,
        ip: IpAddr,
        port: u16,
        envelope: &Envelope,
        mail: &OutgoingMail,
    ) -> Attempt {
        let server = SocketAddr::new(ip, port);
        match self.try_send(host, server, true, envelope, mail).await {
            Attempt::TlsFailed(why) => {
                tracing::info!(%server, "STARTTLS failed ({why}); sending in plain text");
                match self.try_send(host, server, false, envelope, mail).await {
                    Attempt::TlsFailed(why) => Attempt::Unreachable(why),
                    other => other,
                }
            }
            other => other,
        }
    }

    fn transport(&self, host: &str, server: SocketAddr, tls: bool) -> Transport {
        let mut transports = self.transports.lock().unwrap_or_else(|e| e.into_inner());
        transports
            .entry((server, tls))
            .or_insert_with(|| {
                let tls_mode = if tls {
                    // RFC 7435 opportunistic security: encrypt when offered,
                    // without authenticating the server (MX names are not
                    // authenticated by DNS either).
                    TlsParameters::builder(host.to_string())
                        .dangerous_accept_invalid_certs(true)
                        .dangerous_accept_invalid_hostnames(true)
                        .build_rustls()
                        .map(Tls::Opportunistic)
                        .unwrap_or(Tls::None)
                } else {
                    Tls::None
                };
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.ip().to_string())
                    .port(server.port())
                    .hello_name(ClientId::Domain(self.hostname.clone()))
                    .timeout(Some(self.deadline))
                    .tls(tls_mode)
                    .build()
            })
            .clone()
    }

    async fn try_send(
        &self,
        host: &str,
        server: SocketAddr,
        tls: bool,
        envelope: &Envelope,
        mail: &OutgoingMail,
    ) -> Attempt {
        let transport = self.transport(host, server, tls);
        let mut sent = transport.send_raw(envelope, &mail.bytes).await;
        // lettre refuses, before MAIL FROM, to send 8-bit data to a server
        // that does not offer 8BITMIME (RFC 6152 §3); it says so only in
        // its error text. The 7-bit copy goes instead.
        if let (Err(e), Some(seven_bit)) = (&sent, &mail.seven_bit)
            && !e.is_permanent()
            && !e.is_transient()
            && !e.is_tls()
            && e.to_string().contains("8BITMIME")
        {
            tracing::debug!(%server, "no 8BITMIME: sending the 7-bit copy");
            sent = transport.send_raw(envelope, seven_bit).await;
        }
        match sent {
            Ok(reply) => Attempt::Answered(DeliveryOutcome::Delivered {
                server: format!("{host} ({server})"),
                reply: reply.message().collect::<Vec<_>>().join(" "),
            }),
            Err(e) if e.is_tls() => Attempt::TlsFailed(e.to_string()),
            Err(e) if e.is_permanent() => Attempt::Answered(DeliveryOutcome::Permanent(
                SmtpFailure::from_reply(e.status().map(code_number), &e.to_string()),
            )),
            Err(e) if e.is_transient() => Attempt::Answered(DeliveryOutcome::Temporary(
                SmtpFailure::from_reply(e.status().map(code_number), &e.to_string()),
            )),
            Err(e) => Attempt::Unreachable(format!("{host} ({server}): {e}")),
        }
    }
}

impl MailDelivery for Deliverer {
    fn deliver<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, DeliveryOutcome> {
        Box::pin(Deliverer::deliver(self, mail))
    }
}

fn code_number(code: lettre::transport::smtp::response::Code) -> u16 {
    code.to_string().parse().unwrap_or(0)
}

fn envelope(mail: &OutgoingMail) -> Result<Envelope, String> {
    let from = if mail.envelope_from.is_empty() {
        None
    } else {
        Some(
            mail.envelope_from
                .parse()
                .map_err(|e| format!("sender {}: {e}", mail.envelope_from))?,
        )
    };
    let to = mail
        .envelope_to
        .iter()
        .map(|t| t.parse().map_err(|e| format!("recipient {t}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(from, to).map_err(|e| e.to_string())
}
