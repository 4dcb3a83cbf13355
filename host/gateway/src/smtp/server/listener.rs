//! The SMTP listener: one task per connection drives an `SmtpSession`,
//! with RFC 5321 §4.5.3.2 timeouts, a TLS handshake deadline, and the
//! session limits of its [`Gate`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::{Capabilities, Output, RecipientCheck, Reply, SmtpSession, Transaction};
use interwork_store::Direction;

use crate::listen::{Arrival, Gate, Refusal, answer_and_drop};
use crate::message_log::{Line, Status, plugins_used};
use crate::shutdown::Shutdown;
use interwork_plugin_host::Plugins;

/// Where accepted mail goes: the e-mail → IM direction.
pub trait MailSink: Send + Sync + 'static {
    /// Delivers one transaction of the SMTP session `session` (its id in
    /// the log, `smtp:…`); the reply answers DATA.
    fn deliver(
        &self,
        tx: Transaction,
        session: &str,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send>>;
}

/// The recipient check of one session: a refused RCPT has its outcome
/// line (nothing else will say it: no message was taken).
struct LoggedCheck<'a> {
    check: &'a (dyn RecipientCheck + Send + Sync),
    session: &'a str,
    /// The plugins that decide, named in the line.
    plugins: Option<&'a Plugins>,
}

impl RecipientCheck for LoggedCheck<'_> {
    fn check(&self, mail_from: &str, address: &str) -> Result<(), Reply> {
        self.check.check(mail_from, address).inspect_err(|reply| {
            let mut line = Line::received(Direction::MailToIm, self.session);
            line.from = mail_from.to_string();
            line.to = vec![address.to_string()];
            line.answer_given = reply.to_string();
            line.reason = "recipient refused at RCPT TO".into();
            if let Some(plugins) = self.plugins {
                line.plugins = plugins_used(&plugins.current());
            }
            line.emit(Status::Refused);
        })
    }
}

/// How long the server waits for the client (RFC 5321 §4.5.3.2).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For the next command (RFC 5321 §4.5.3.2.7).
    pub command: Duration,
    /// For the next data block inside DATA (§4.5.3.2.6).
    pub data: Duration,
    /// For the TLS handshake after STARTTLS.
    pub tls_handshake: Duration,
}

/// The SMTP server of the gateway.
pub struct SmtpServer {
    caps: Capabilities,
    check: Arc<dyn RecipientCheck + Send + Sync>,
    sink: Arc<dyn MailSink>,
    tls: Option<TlsAcceptor>,
    timeouts: Timeouts,
    /// Signalled when the gateway drains: new sessions get `421`, open
    /// ones finish their transaction and get `421` after it.
    draining: Option<Shutdown>,
    /// The plugins behind `check`, for the lines of refused recipients.
    plugins: Option<Arc<Plugins>>,
}

/// What a session hears when the gateway is going down (RFC 5321 §3.8).
fn shutting_down() -> Reply {
    Reply::new(421, "4.3.2", "Service shutting down, try again later")
}

/// How a stretch of a session ended.
enum Next {
    Done,
    StartTls,
}

/// The STARTTLS acceptor of a PEM certificate chain and private key.
pub fn tls_acceptor(
    certificate: &std::path::Path,
    private_key: &std::path::Path,
) -> anyhow::Result<TlsAcceptor> {
    use anyhow::Context as _;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let certs = CertificateDer::pem_file_iter(certificate)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("smtp.tls_certificate {}", certificate.display()))?;
    let key = PrivateKeyDer::from_pem_file(private_key)
        .with_context(|| format!("smtp.tls_private_key {}", private_key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("smtp.tls_certificate and smtp.tls_private_key do not make a TLS identity")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl SmtpServer {
    /// A server offering `caps`, checking recipients with `check`, handing
    /// mail to `sink`.
    pub fn new(
        caps: Capabilities,
        check: Arc<dyn RecipientCheck + Send + Sync>,
        sink: Arc<dyn MailSink>,
        tls: Option<TlsAcceptor>,
        timeouts: Timeouts,
    ) -> Arc<Self> {
        Arc::new(Self {
            caps: Capabilities {
                starttls: tls.is_some(),
                ..caps
            },
            check,
            sink,
            tls,
            timeouts,
            draining: None,
            plugins: None,
        })
    }

    /// The server, told of the gateway's drain by `draining`, naming
    /// `plugins` in the lines of the recipients they refuse.
    pub fn with_drain(
        self: Arc<Self>,
        draining: Shutdown,
        plugins: Option<Arc<Plugins>>,
    ) -> Arc<Self> {
        let mut server = Arc::try_unwrap(self).unwrap_or_else(|shared| Self {
            caps: shared.caps.clone(),
            check: shared.check.clone(),
            sink: shared.sink.clone(),
            tls: shared.tls.clone(),
            timeouts: shared.timeouts,
            draining: None,
            plugins: None,
        });
        server.draining = Some(draining);
        server.plugins = plugins;
        Arc::new(server)
    }

    fn is_draining(&self) -> bool {
        self.draining.as_ref().is_some_and(Shutdown::is_signalled)
    }

    /// Serves the connections `gate` lets in until `shutdown`; those past
    /// its limits get `421` and are closed at once (RFC 5321 §3.8).
    pub async fn serve(self: Arc<Self>, mut gate: Gate, mut shutdown: Shutdown) {
        loop {
            let arrival = tokio::select! {
                arrival = gate.next() => arrival,
                () = shutdown.signalled() => return,
            };
            match arrival {
                Arrival::Refused { stream, why, .. } => {
                    crate::telemetry::refused_early("smtp", "connections");
                    let reply = match why {
                        Refusal::Total => {
                            Reply::new(421, "4.3.2", "Too many sessions, try again later")
                        }
                        Refusal::PerSource | Refusal::Untrusted => Reply::new(
                            421,
                            "4.7.0",
                            "Too many connections from your address, try again later",
                        ),
                    };
                    answer_and_drop(stream, &reply.to_bytes());
                }
                Arrival::Admitted { stream, .. } if self.is_draining() => {
                    crate::telemetry::refused_early("smtp", "draining");
                    answer_and_drop(stream, &shutting_down().to_bytes());
                }
                Arrival::Admitted { stream, peer, slot } => {
                    let server = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = server.serve_connection(stream).await {
                            tracing::debug!(%peer, "SMTP session ended: {e}");
                        }
                        drop(slot);
                    });
                }
            }
        }
    }

    async fn serve_connection(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut session = SmtpSession::new(self.caps.clone());
        let id = format!("smtp:{}", crate::ids::token());
        if let Ok(peer) = stream.peer_addr() {
            tracing::debug!(session = %id, %peer, "SMTP session opened");
        }
        stream.write_all(&session.greeting()).await?;
        match self.drive(&mut session, &mut stream, &id).await? {
            Next::Done => Ok(()),
            Next::StartTls => {
                let Some(acceptor) = self.tls.clone() else {
                    return Ok(());
                };
                // A client that asked for TLS and then stays silent would
                // hold its slot for good: the handshake has a deadline.
                let handshake = self.timeouts.tls_handshake;
                let mut tls = tokio::time::timeout(handshake, acceptor.accept(stream))
                    .await
                    .map_err(|_| {
                        std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("TLS handshake not done in {} s", handshake.as_secs()),
                        )
                    })??;
                // The session refuses a second STARTTLS itself.
                self.drive(&mut session, &mut tls, &id).await.map(drop)
            }
        }
    }

    /// Runs the session over a stream until it closes or asks for TLS.
    async fn drive<S>(
        &self,
        session: &mut SmtpSession,
        stream: &mut S,
        id: &str,
    ) -> std::io::Result<Next>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let check = LoggedCheck {
            check: self.check.as_ref(),
            session: id,
            plugins: self.plugins.as_deref(),
        };
        let mut buf = vec![0u8; 64 * 1024];
        let mut draining = self.draining.clone();
        loop {
            let timeout = if session.in_data() {
                self.timeouts.data
            } else {
                self.timeouts.command
            };
            // Draining: a session between transactions is told at once
            // (RFC 5321 §3.8); one inside a transaction finishes it first.
            let idle = !session.in_transaction();
            if idle && self.is_draining() {
                stream.write_all(&shutting_down().to_bytes()).await?;
                return Ok(Next::Done);
            }
            let read = tokio::time::timeout(timeout, stream.read(&mut buf));
            let drained = async {
                match draining.as_mut() {
                    Some(draining) if idle => draining.signalled().await,
                    _ => std::future::pending().await,
                }
            };
            let n = tokio::select! {
                read = read => match read {
                    Ok(Ok(0)) => return Ok(Next::Done),
                    Ok(Ok(n)) => n,
                    Ok(Err(e)) => return Err(e),
                    Err(_) => {
                        let reply = Reply::new(421, "4.4.2", "Timeout, closing connection");
                        stream.write_all(&reply.to_bytes()).await?;
                        return Ok(Next::Done);
                    }
                },
                () = drained => continue,
            };
            let mut outputs = session.feed(&buf[..n], &check);
            // Deliveries may uncover more outputs (pipelined commands).
            while !outputs.is_empty() {
                let mut next = Vec::new();
                for output in outputs {
                    match output {
                        Output::Send(bytes) => stream.write_all(&bytes).await?,
                        Output::Close => {
                            stream.shutdown().await?;
                            return Ok(Next::Done);
                        }
                        Output::StartTls => {
                            stream.flush().await?;
                            return Ok(Next::StartTls);
                        }
                        Output::Deliver(tx) => {
                            let reply = self.sink.deliver(tx, id).await;
                            next.extend(session.delivered(reply, &check));
                        }
                    }
                }
                outputs = next;
            }
        }
    }
}
