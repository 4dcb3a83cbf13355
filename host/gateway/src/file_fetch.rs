//! Fetching the file of an RCS file transfer via HTTP (GSMA RCC.07
//! §3.2.5): the IM carries only an `interwork_proto::ft_http` document
//! with the content server's URL, and the gateway downloads the file to
//! attach it to the mail.
//!
//! The URL comes from a peer, so a fetch is held to a [`FetchPolicy`]:
//!
//! * only `http` and `https`, and only hosts on `allowed_hosts` (the
//!   operators' content servers): anything else is refused before any
//!   DNS look-up or connection, so an IM cannot make the gateway probe
//!   its own network;
//! * one deadline for the whole fetch (DNS, connect, TLS, redirects and
//!   body);
//! * a size cap: a declared `Content-Length` over it fails before the body
//!   is read, a body without one is counted and cut off at the cap;
//! * redirects (RFC 9110 §15.4) are followed, at most [`MAX_REDIRECTS`],
//!   only to the same origin (scheme, host and port): the allow-list was
//!   checked for that host, and a content server has no reason to send
//!   the gateway elsewhere.
//!
//! HTTP/1.1 only (hyper's client connection, one connection per request,
//! `Connection: close`), over TLS with rustls (ring) and the system's CA
//! certificates plus an optional PEM file of extra ones.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::header;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use url::{Host, Position, Url};

/// Redirects followed in one fetch; a fourth one fails.
pub const MAX_REDIRECTS: usize = 3;

/// Sent with every request (RFC 9110 §10.1.5).
const USER_AGENT: &str = concat!("interwork/", env!("CARGO_PKG_VERSION"));

/// What may be fetched, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Hosts files may be fetched from: `host` (any port) or `host:port`,
    /// matched exactly and without regard to case; IPv6 addresses in
    /// brackets (`[2001:db8::1]:443`).
    pub allowed_hosts: Vec<String>,
    /// The largest body ever fetched, whatever a caller asks for.
    pub max_bytes: u64,
    /// The deadline of one whole fetch.
    pub timeout: Duration,
    /// A PEM file of CA certificates trusted besides the system's.
    pub ca_file: Option<PathBuf>,
}

/// A fetched file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The answer's `Content-Type`, when it had a readable one.
    pub content_type: Option<String>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// The URL the body came from, after redirects.
    pub url: String,
}

/// Why a file was not fetched. Each reads as the end of a log line
/// ("file transfer not attached: …").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The text is not an absolute URL.
    #[error("bad file URL: {0}")]
    BadUrl(String),
    /// A scheme other than `http` and `https`.
    #[error("the URL scheme {0:?} is not fetched: only http and https are")]
    Scheme(String),
    /// The host (or host and port) is not on the allow-list.
    #[error("{0} is not in file_transfer.allowed_hosts")]
    NotAllowed(String),
    /// The body is, or says it is, larger than the cap.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The cap that applied, in bytes.
        limit: u64,
    },
    /// The content server answered with a status other than 2xx or a
    /// followed redirect.
    #[error("the content server answered {0}")]
    Status(u16),
    /// A redirect to another origin, refused (its scheme, host and port).
    #[error("redirect to {0} refused: only the same scheme, host and port are followed")]
    RedirectToOtherHost(String),
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// The fetch did not finish within the policy's timeout.
    #[error("no complete answer within file_transfer.timeout")]
    Timeout,
    /// The host could not be resolved or reached.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// The TLS handshake failed (certificate, protocol).
    #[error("TLS: {0}")]
    Tls(String),
    /// The answer is not HTTP/1.1 the gateway can read.
    #[error("HTTP: {0}")]
    Http(String),
    /// The policy itself is unusable (an allow-list entry, the CA file).
    #[error("file_transfer: {0}")]
    Policy(String),
}

/// Fetches files under one [`FetchPolicy`]. Cheap to clone: the TLS
/// configuration (with the CA certificates read at [`Fetcher::new`]) is
/// shared.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("allowed", &self.inner.allowed)
            .field("max_bytes", &self.inner.max_bytes)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

struct Inner {
    allowed: Vec<AllowedHost>,
    max_bytes: u64,
    timeout: Duration,
    tls: TlsConnector,
}

/// One allow-list entry, its host normalised as `url` normalises a URL's
/// (lower case, IDNA to ASCII, IPv6 in brackets).
#[derive(Debug, PartialEq, Eq)]
struct AllowedHost {
    host: String,
    port: Option<u16>,
}

impl Fetcher {
    /// A fetcher for `policy`: checks the allow-list entries and reads the
    /// CA certificates (the system's, then `ca_file`'s) once.
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let allowed = policy
            .allowed_hosts
            .iter()
            .map(|entry| allowed_host(entry))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                allowed,
                max_bytes: policy.max_bytes,
                timeout: policy.timeout,
                tls: tls_connector(policy.ca_file.as_deref())?,
            }),
        })
    }

    /// Whether `url` may be fetched: an absolute `http` or `https` URL
    /// whose host is on the allow-list. Nothing goes on the network.
    pub fn allows(&self, url: &str) -> Result<(), FetchError> {
        self.check(url).map(drop)
    }

    /// Fetches `url` (after [`Fetcher::allows`]), following same-origin
    /// redirects, with a body of at most `max_bytes` (and never more than
    /// the policy's `max_bytes`), all within the policy's timeout.
    pub async fn fetch(&self, url: &str, max_bytes: u64) -> Result<Fetched, FetchError> {
        let url = self.check(url)?;
        let limit = max_bytes.min(self.inner.max_bytes);
        let started = Instant::now();
        let host = authority(&url).to_owned();
        let outcome = tokio::time::timeout(self.inner.timeout, self.follow(url, limit))
            .await
            .unwrap_or(Err(FetchError::Timeout));
        // The host only: FT-HTTP URLs are capabilities (whoever has one
        // can download the file), so they stay out of the log.
        let elapsed_ms = started.elapsed().as_millis();
        match &outcome {
            Ok(fetched) => tracing::debug!(
                %host,
                bytes = fetched.body.len(),
                elapsed_ms,
                "file transfer fetched"
            ),
            Err(error) => tracing::debug!(%host, elapsed_ms, "file transfer not fetched: {error}"),
        }
        outcome
    }

    /// The URL parsed, its scheme and host checked.
    fn check(&self, text: &str) -> Result<Url, FetchError> {
        let url =
            Url::parse(text).map_err(|error| FetchError::BadUrl(format!("{text:?}: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_owned()));
        }
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(FetchError::BadUrl(format!("{text:?} has no host")));
        };
        let allowed = self
            .inner
            .allowed
            .iter()
            .any(|entry| entry.host == host && entry.port.is_none_or(|p| p == port));
        if !allowed {
            return Err(FetchError::NotAllowed(authority(&url).to_owned()));
        }
        Ok(url)
    }

    /// GET, then GET again where a same-origin redirect points.
    async fn follow(&self, mut url: Url, limit: u64) -> Result<Fetched, FetchError> {
        for redirects in 0..=MAX_REDIRECTS {
            let (response, connection) = self.get(&url).await?;
            let status = response.status();
            if is_followed_redirect(status) {
                if redirects == MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                url = redirect_target(&url, &response)?;
                drop(connection);
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let fetched = read_body(response, limit, url.as_str()).await;
            drop(connection);
            return fetched;
        }
        Err(FetchError::TooManyRedirects)
    }

    /// One request on a new connection: the answer's head, and the task
    /// driving the connection (which must live while the body is read).
    async fn get(&self, url: &Url) -> Result<(Response<Incoming>, Connection), FetchError> {
        let port = url.port_or_known_default().unwrap_or(80);
        let peer = authority(url);
        let tcp = match url.host() {
            Some(Host::Domain(domain)) => TcpStream::connect((domain, port)).await,
            Some(Host::Ipv4(address)) => TcpStream::connect((address, port)).await,
            Some(Host::Ipv6(address)) => TcpStream::connect((address, port)).await,
            None => return Err(FetchError::BadUrl(format!("{peer} has no host"))),
        }
        .map_err(|error| FetchError::Connect(format!("{peer}: {error}")))?;
        // Nagle would hold back the request's last segment; it is small.
        let _ = tcp.set_nodelay(true);
        let request = request(url)?;
        if url.scheme() == "https" {
            let name = match url.host() {
                Some(Host::Domain(domain)) => ServerName::try_from(domain.to_owned())
                    .map_err(|error| FetchError::BadUrl(format!("{peer}: {error}")))?,
                Some(Host::Ipv4(address)) => ServerName::from(std::net::IpAddr::V4(address)),
                Some(Host::Ipv6(address)) => ServerName::from(std::net::IpAddr::V6(address)),
                None => return Err(FetchError::BadUrl(format!("{peer} has no host"))),
            };
            let tls = self
                .inner
                .tls
                .connect(name, tcp)
                .await
                .map_err(|error| FetchError::Tls(format!("{peer}: {error}")))?;
            exchange(tls, request).await
        } else {
            exchange(tcp, request).await
        }
    }
}

/// The task that drives one hyper client connection, aborted when the
/// fetch is done or dropped (timed out), so that a silent server does not
/// keep a socket and a task alive.
struct Connection(JoinHandle<()>);

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The HTTP/1.1 exchange over an established stream.
async fn exchange<S>(
    stream: S,
    request: Request<Empty<Bytes>>,
) -> Result<(Response<Incoming>, Connection), FetchError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http_error)?;
    let connection = Connection(tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!("file transfer connection: {error}");
        }
    }));
    let response = sender.send_request(request).await.map_err(http_error)?;
    Ok((response, connection))
}

/// `GET` in origin form (RFC 9112 §3.2.1: path and query, never the
/// fragment), with `Host` (RFC 9110 §7.2, the port only when it is not
/// the scheme's default, as `url` writes it). `Accept-Encoding: identity`
/// (RFC 9110 §12.5.3: without the field any coding would be acceptable):
/// the body is attached as it comes, and a coding that comes anyway is
/// refused ([`read_body`]).
fn request(url: &Url) -> Result<Request<Empty<Bytes>>, FetchError> {
    Request::get(&url[Position::BeforePath..Position::AfterQuery])
        .header(header::HOST, authority(url))
        .header(header::USER_AGENT, USER_AGENT)
        .header(header::ACCEPT, "*/*")
        .header(header::ACCEPT_ENCODING, "identity")
        // One request per connection (RFC 9112 §9.6): the server need
        // not keep it open for us.
        .header(header::CONNECTION, "close")
        .body(Empty::new())
        .map_err(|error| FetchError::BadUrl(format!("{}: {error}", authority(url))))
}

/// 301, 302, 303, 307 and 308 (RFC 9110 §15.4.2–§15.4.9): for a GET
/// each one means "GET this other URL instead".
fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect points: its `Location`, a URI reference resolved
/// against the URL that was asked for (RFC 9110 §10.2.2, RFC 3986 §5),
/// which must have the same origin (RFC 6454 §4: scheme, host, port).
fn redirect_target(current: &Url, response: &Response<Incoming>) -> Result<Url, FetchError> {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(header::LOCATION)
        .ok_or_else(|| FetchError::Http(format!("a {status} answer without Location")))?
        .to_str()
        .map_err(|_| FetchError::Http(format!("a {status} answer with an unreadable Location")))?;
    let target = current
        .join(location)
        .map_err(|error| FetchError::BadUrl(format!("redirect to {location:?}: {error}")))?;
    if target.origin() != current.origin() {
        return Err(FetchError::RedirectToOtherHost(
            target.origin().ascii_serialization(),
        ));
    }
    Ok(target)
}

/// The body of a 2xx answer, at most `limit` bytes. A declared length
/// (RFC 9112 §6.3; hyper has checked that it is one valid number) over
/// the limit fails before reading; a chunked or close-delimited body is
/// counted as it comes and cut off past the limit.
async fn read_body(
    response: Response<Incoming>,
    limit: u64,
    url: &str,
) -> Result<Fetched, FetchError> {
    let too_large = FetchError::TooLarge { limit };
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large);
    }
    // The gateway asked for no content coding (RFC 9110 §8.4): a body
    // that has one anyway would be attached as unreadable bytes.
    if let Some(coding) = response.headers().get(header::CONTENT_ENCODING)
        && !coding.as_bytes().eq_ignore_ascii_case(b"identity")
    {
        return Err(FetchError::Http(format!(
            "the body has Content-Encoding {:?}, which is not decoded",
            String::from_utf8_lossy(coding.as_bytes())
        )));
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let capacity = declared.unwrap_or(0).min(limit);
    let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut incoming = response.into_body();
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(http_error)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if (body.len() + data.len()) as u64 > limit {
            return Err(too_large);
        }
        body.extend_from_slice(&data);
    }
    Ok(Fetched {
        content_type,
        body,
        url: url.to_owned(),
    })
}

/// hyper's error with its causes ("error trying to connect: …").
fn http_error(error: hyper::Error) -> FetchError {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    FetchError::Http(text)
}

/// `host` or `host:port` as the URL names it (no user information; the
/// port only when it is not the scheme's default).
fn authority(url: &Url) -> &str {
    &url[Position::BeforeHost..Position::AfterPort]
}

/// Whether an allow-list entry can be read (for the configuration's
/// checks).
pub fn check_allowed_host(entry: &str) -> Result<(), FetchError> {
    allowed_host(entry).map(drop)
}

/// Reads an allow-list entry: `host`, `host:port`, `[v6]`, `[v6]:port`.
fn allowed_host(entry: &str) -> Result<AllowedHost, FetchError> {
    let refused = |why: &str| {
        FetchError::Policy(format!(
            "allowed_hosts entry {entry:?} is not host or host:port ({why})"
        ))
    };
    let entry = entry.trim();
    let (host, port) = match entry.rsplit_once(':') {
        // A bare IPv6 address has colons but no brackets.
        Some((host, _)) if host.contains(':') && !host.starts_with('[') => {
            return Err(refused("write an IPv6 address in brackets"));
        }
        Some((host, port)) if !port.ends_with(']') => {
            let port = port.parse::<u16>().map_err(|_| refused("bad port"))?;
            (host, Some(port))
        }
        _ => (entry, None),
    };
    if host.is_empty() {
        return Err(refused("no host"));
    }
    let host = Host::parse(host).map_err(|error| refused(&error.to_string()))?;
    Ok(AllowedHost {
        host: host.to_string(),
        port,
    })
}

/// rustls with ring, TLS 1.2 and 1.3, verifying servers against the
/// system's CA certificates and those of `ca_file`.
fn tls_connector(ca_file: Option<&Path>) -> Result<TlsConnector, FetchError> {
    let mut roots = rustls::RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!("system CA certificates: {error}");
    }
    let (_, ignored) = roots.add_parsable_certificates(system.certs);
    if ignored > 0 {
        tracing::debug!(ignored, "system CA certificates rustls cannot use");
    }
    if let Some(path) = ca_file {
        let file = |why: String| FetchError::Policy(format!("ca_file {}: {why}", path.display()));
        let certificates = CertificateDer::pem_file_iter(path)
            .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
            .map_err(|error| file(error.to_string()))?;
        if certificates.is_empty() {
            return Err(file("no certificate in it".into()));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|error| file(error.to_string()))?;
        }
    }
    if roots.is_empty() {
        tracing::warn!(
            "no CA certificate found (system store, file_transfer.ca_file): HTTPS file transfers will fail"
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| FetchError::Tls(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Only HTTP/1.1 is spoken (RFC 7301 ALPN; RFC 9113 §3.2 for h2).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests;
