//! One SMTP session to one server, over TCP or TLS: connect, greeting,
//! EHLO (HELO when EHLO is refused), opportunistic STARTTLS, then replies
//! read and commands written for the transactions that follow
//! (`transaction.rs`). The wire format is `interwork_proto::smtp::client`.

use std::net::SocketAddr;
use std::time::Duration;

use interwork_proto::smtp::client::{self, Command, Extensions, ReplyError, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::tls;

/// How long a connection attempt may take before the next address is
/// tried; the delivery deadline bounds everything after it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the TLS handshake after STARTTLS may take: a server that
/// stalls in it leaves time, within the delivery deadline, to send in
/// plain text instead.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a session failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum SessionError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection.
    #[error("connection closed by the server")]
    Closed,
    /// The server sent something that is not a reply.
    #[error("{0}")]
    Reply(#[from] ReplyError),
}

/// Why a session could not be set up.
#[derive(Debug, thiserror::Error)]
pub(super) enum OpenError {
    /// No TCP connection within [`CONNECT_TIMEOUT`].
    #[error("connection timed out")]
    ConnectTimeout,
    /// Connecting, or the session before the transaction, failed.
    #[error("{0}")]
    Session(#[from] SessionError),
    /// The greeting, EHLO or HELO was answered with this (RFC 5321 §3.1:
    /// a 554 greeting; §3.8: 421).
    #[error("{0}")]
    Refused(Response),
    /// The TLS handshake after STARTTLS failed: the caller may try again
    /// in plain text.
    #[error("STARTTLS failed: {0}")]
    Tls(String),
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// One open session, greeted and EHLO'd, between transactions.
pub(super) struct Connection {
    stream: Stream,
    /// Bytes read and not yet taken as a reply: at most one reply in
    /// progress (its bounds are the parser's) and what came with it.
    pending: Vec<u8>,
    /// What the last EHLO offered (nothing after HELO).
    pub extensions: Extensions,
}

impl Connection {
    /// Connects to `server`, reads the greeting, says EHLO as `hello`, and
    /// starts TLS when `tls` is given and the server offers STARTTLS.
    /// `host` is the server's name, for SNI.
    pub async fn open(
        server: SocketAddr,
        host: &str,
        hello: &str,
        tls: Option<&TlsConnector>,
    ) -> Result<Self, OpenError> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(server))
            .await
            .map_err(|_| OpenError::ConnectTimeout)?
            .map_err(SessionError::from)?;
        // Each command group and the message go in one write, and the
        // next waits for the reply: Nagle's algorithm with the server's
        // delayed ACK would hold every write ~40 ms (issue 11).
        tcp.set_nodelay(true).map_err(SessionError::from)?;
        let mut conn = Self {
            stream: Stream::Plain(tcp),
            pending: Vec::new(),
            extensions: Extensions::default(),
        };
        let greeting = conn.reply().await?;
        if greeting.code != 220 {
            return Err(OpenError::Refused(greeting));
        }
        conn.hello(hello).await?;
        if let Some(connector) = tls
            && conn.extensions.starttls
        {
            conn.command(&Command::StartTls).await?;
            let reply = conn.reply().await?;
            if reply.code != 220 {
                // RFC 3207 §4: the client may go on without TLS.
                tracing::debug!(%server, "STARTTLS answered {reply}; staying in plain text");
                return Ok(conn);
            }
            // RFC 3207 §4.2 / RFC 7435: nothing a server sent in plain
            // text after its 220 may count as said over TLS.
            if !conn.pending.is_empty() {
                return Err(OpenError::Tls("data after the 220 to STARTTLS".into()));
            }
            let Stream::Plain(tcp) = conn.stream else {
                return Err(OpenError::Tls("TLS already started".into()));
            };
            let handshake = connector.connect(tls::server_name(host, server.ip()), tcp);
            let tls_stream = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake)
                .await
                .map_err(|_| OpenError::Tls("handshake timed out".into()))?
                .map_err(|e| OpenError::Tls(e.to_string()))?;
            conn.stream = Stream::Tls(Box::new(tls_stream));
            // RFC 3207 §4.2: forget what was offered before TLS.
            conn.extensions = Extensions::default();
            conn.hello(hello).await?;
        }
        Ok(conn)
    }

    /// EHLO, or HELO when the server refuses EHLO with 5xx (RFC 5321
    /// §3.2: a server of RFC 821 alone answers 500 or 502).
    async fn hello(&mut self, hello: &str) -> Result<(), OpenError> {
        self.command(&Command::Ehlo(hello)).await?;
        let reply = self.reply().await?;
        if reply.code == 250 {
            self.extensions = Extensions::of_ehlo(&reply);
            return Ok(());
        }
        if !reply.is_permanent() {
            return Err(OpenError::Refused(reply));
        }
        self.command(&Command::Helo(hello)).await?;
        let reply = self.reply().await?;
        if reply.code != 250 {
            return Err(OpenError::Refused(reply));
        }
        self.extensions = Extensions::default();
        Ok(())
    }

    /// Whether TLS is on.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Writes one command.
    pub async fn command(&mut self, command: &Command<'_>) -> Result<(), SessionError> {
        let mut line = Vec::with_capacity(64);
        client::write(command, &mut line);
        self.write(&line).await
    }

    /// Writes `bytes` and flushes them (TLS holds written bytes until
    /// flushed).
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        match &mut self.stream {
            Stream::Plain(tcp) => tcp.write_all(bytes).await?,
            Stream::Tls(tls) => {
                tls.write_all(bytes).await?;
                tls.flush().await?;
            }
        }
        Ok(())
    }

    /// The next reply.
    pub async fn reply(&mut self) -> Result<Response, SessionError> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((reply, used)) = client::parse(&self.pending)? {
                self.pending.drain(..used);
                return Ok(reply);
            }
            let n = match &mut self.stream {
                Stream::Plain(tcp) => tcp.read(&mut chunk).await?,
                Stream::Tls(tls) => tls.read(&mut chunk).await?,
            };
            if n == 0 {
                return Err(SessionError::Closed);
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }

    /// Says QUIT and waits a little for the 221 (RFC 5321 §4.1.1.10), for
    /// a session closed while idle; the connection closes when dropped.
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            self.command(&Command::Quit).await?;
            self.reply().await.map(drop)
        })
        .await;
    }
}
