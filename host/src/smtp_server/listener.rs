//! The SMTP listener: one task per connection drives an `SmtpSession`,
//! with RFC 5321 §4.5.3.2 timeouts and a cap on concurrent sessions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::{Capabilities, Output, RecipientCheck, Reply, SmtpSession, Transaction};

/// Where accepted mail goes: the e-mail → IM pipeline.
pub trait MailSink: Send + Sync + 'static {
    /// Delivers one transaction; the reply answers DATA.
    fn deliver(&self, tx: Transaction) -> Pin<Box<dyn Future<Output = Reply> + Send>>;
}

/// RFC 5321 §4.5.3.2.7: the server waits 5 minutes for a command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// §4.5.3.2.5 (the client's DATA block timeout is 3 minutes; the server is
/// generous so slow links finish).
const DATA_TIMEOUT: Duration = Duration::from_secs(600);

/// The SMTP server of the gateway.
pub struct SmtpServer {
    caps: Capabilities,
    check: Arc<dyn RecipientCheck + Send + Sync>,
    sink: Arc<dyn MailSink>,
    sessions: Arc<Semaphore>,
}

impl SmtpServer {
    pub fn new(
        caps: Capabilities,
        check: Arc<dyn RecipientCheck + Send + Sync>,
        sink: Arc<dyn MailSink>,
        max_sessions: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            caps,
            check,
            sink,
            sessions: Arc::new(Semaphore::new(max_sessions)),
        })
    }

    /// Accepts connections until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (mut stream, peer) = listener.accept().await?;
            let Ok(permit) = self.sessions.clone().try_acquire_owned() else {
                // RFC 5321 §3.8: 421 and close when too busy.
                let bytes =
                    Reply::new(421, "4.3.2", "Too many sessions, try again later").to_bytes();
                tokio::spawn(async move {
                    let _ = stream.write_all(&bytes).await;
                });
                continue;
            };
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve_connection(stream).await {
                    tracing::debug!(%peer, "SMTP session ended: {e}");
                }
                drop(permit);
            });
        }
    }

    async fn serve_connection(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut session = SmtpSession::new(self.caps.clone());
        stream.write_all(&session.greeting()).await?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let timeout = if session.in_data() {
                DATA_TIMEOUT
            } else {
                COMMAND_TIMEOUT
            };
            let n = match tokio::time::timeout(timeout, stream.read(&mut buf)).await {
                Ok(Ok(0)) => return Ok(()),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    let reply = Reply::new(421, "4.4.2", "Timeout, closing connection");
                    stream.write_all(&reply.to_bytes()).await?;
                    return Ok(());
                }
            };
            let mut outputs = session.feed(&buf[..n], self.check.as_ref());
            // Deliveries may uncover more outputs (pipelined commands).
            while !outputs.is_empty() {
                let mut next = Vec::new();
                for output in outputs {
                    match output {
                        Output::Send(bytes) => stream.write_all(&bytes).await?,
                        Output::Close => {
                            stream.shutdown().await?;
                            return Ok(());
                        }
                        Output::Deliver(tx) => {
                            let reply = self.sink.deliver(tx).await;
                            next.extend(session.delivered(reply, self.check.as_ref()));
                        }
                    }
                }
                outputs = next;
            }
        }
    }
}
