//! The fetcher against real sockets: a hand-written server on
//! 127.0.0.1:0 that answers each connection with fixed bytes (so that it
//! can also answer what no well-behaved server would), over plain TCP or
//! TLS with the test CA beside this file.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::{TlsAcceptor, rustls};

use super::*;

const MIB: u64 = 1024 * 1024;

/// The test CA (100 years, P-256) and the server certificate it signed
/// for `localhost` and `127.0.0.1`. Test keys only.
const TEST_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/file_fetch/test-ca.pem");
const TEST_SERVER: &[u8] = include_bytes!("test-server.pem");
const TEST_SERVER_KEY: &[u8] = include_bytes!("test-server-key.pem");

/// What the server does on one connection, given the request head.
struct Answer {
    /// Written after the request head was read.
    bytes: Vec<u8>,
    /// Keep the connection open afterwards instead of closing it.
    hold: bool,
}

fn answer(bytes: impl Into<Vec<u8>>) -> Answer {
    Answer {
        bytes: bytes.into(),
        hold: false,
    }
}

type Respond = dyn Fn(&str) -> Answer + Send + Sync;

/// A server on 127.0.0.1:0; stopped (with its connections) when dropped.
struct TestServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    async fn plain(respond: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        Self::start(None, Arc::new(respond)).await
    }

    async fn tls(respond: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        let certificates = CertificateDer::pem_slice_iter(TEST_SERVER)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(TEST_SERVER_KEY).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .unwrap();
        Self::start(Some(TlsAcceptor::from(Arc::new(config))), Arc::new(respond)).await
    }

    async fn start(tls: Option<TlsAcceptor>, respond: Arc<Respond>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let connections = connections.clone();
            let requests = requests.clone();
            async move {
                // Dropped with this task: aborts every connection.
                let mut open = JoinSet::new();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let respond = respond.clone();
                    let requests = requests.clone();
                    let tls = tls.clone();
                    open.spawn(async move {
                        match tls {
                            Some(tls) => {
                                if let Ok(stream) = tls.accept(stream).await {
                                    serve(stream, &*respond, &requests).await;
                                }
                            }
                            None => serve(stream, &*respond, &requests).await,
                        }
                    });
                }
            }
        });
        Self {
            addr,
            connections,
            requests,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads the request head, writes the answer, closes (or holds).
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    respond: &Respond,
    requests: &Mutex<Vec<String>>,
) {
    let mut head = Vec::new();
    let mut buffer = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let answer = respond(&head);
    requests.lock().unwrap().push(head);
    // The client may hang up early (a body over its cap): not an error.
    let _ = stream.write_all(&answer.bytes).await;
    let _ = stream.flush().await;
    if answer.hold {
        std::future::pending::<()>().await;
    }
    let _ = stream.shutdown().await;
}

fn policy(allowed: &[&str]) -> FetchPolicy {
    FetchPolicy {
        allowed_hosts: allowed.iter().map(|h| h.to_string()).collect(),
        max_bytes: 5 * MIB,
        timeout: Duration::from_secs(10),
        ca_file: None,
    }
}

fn fetcher(allowed: &[&str]) -> Fetcher {
    Fetcher::new(policy(allowed)).unwrap()
}

/// Bytes that are not all alike, so a misplaced chunk shows.
fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|i| (i * 31 % 251) as u8).collect()
}

fn ok_with(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(chunk) {
        bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        bytes.extend_from_slice(piece);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    bytes
}

fn redirect(status: u16, location: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}

/// The first line of a request head.
fn request_line(head: &str) -> &str {
    head.lines().next().unwrap_or_default()
}

#[tokio::test]
async fn fetches_a_megabyte_byte_for_byte_with_its_type() {
    let body = pattern(1_000_003);
    let served = body.clone();
    let server = TestServer::plain(move |_| answer(ok_with("image/jpeg", &served))).await;
    let url = server.url("/file/abc?token=x1#fragment");
    let fetched = fetcher(&["127.0.0.1"]).fetch(&url, 5 * MIB).await.unwrap();
    assert_eq!(fetched.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(fetched.body.len(), body.len());
    assert!(fetched.body == body, "the body differs");
    assert_eq!(fetched.url, url);

    // RFC 9112 §3.2.1 origin form without the fragment; RFC 9110 §7.2 Host.
    let requests = server.requests();
    let head = requests[0].to_ascii_lowercase();
    assert_eq!(
        request_line(&requests[0]),
        "GET /file/abc?token=x1 HTTP/1.1"
    );
    assert!(
        head.contains(&format!("\r\nhost: 127.0.0.1:{}\r\n", server.port())),
        "{head}"
    );
    assert!(
        head.contains(&format!(
            "\r\nuser-agent: interwork/{}\r\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{head}"
    );
    assert!(head.contains("\r\naccept: */*\r\n"), "{head}");
    assert!(head.contains("\r\naccept-encoding: identity\r\n"), "{head}");
}

#[tokio::test]
async fn fetches_a_chunked_body_under_the_cap() {
    let body = pattern(200_000);
    let served = body.clone();
    let server = TestServer::plain(move |_| answer(chunked(&served, 7000))).await;
    let fetched = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/c"), MIB)
        .await
        .unwrap();
    assert_eq!(fetched.content_type, None);
    assert!(fetched.body == body, "the body differs");
}

#[tokio::test]
async fn a_declared_length_over_the_cap_fails_before_the_body() {
    // The server declares 10 MB and sends none of it, holding the
    // connection: a client that read the body would wait for the timeout.
    let server = TestServer::plain(|_| Answer {
        bytes: b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n".to_vec(),
        hold: true,
    })
    .await;
    let started = Instant::now();
    let error = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/big"), MIB)
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::TooLarge { limit: MIB });
    assert_eq!(error.to_string(), "the file is larger than 1048576 bytes");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_chunked_body_is_cut_off_at_the_cap() {
    let server = TestServer::plain(|_| answer(chunked(&pattern(2 * MIB as usize), 65_536))).await;
    let error = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/stream"), MIB)
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::TooLarge { limit: MIB });
}

#[tokio::test]
async fn the_policy_cap_bounds_what_a_caller_asks_for() {
    let server = TestServer::plain(|_| answer(ok_with("text/plain", &pattern(2000)))).await;
    let mut policy = policy(&["127.0.0.1"]);
    policy.max_bytes = 1000;
    let error = Fetcher::new(policy)
        .unwrap()
        .fetch(&server.url("/"), 5 * MIB)
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::TooLarge { limit: 1000 });
    // Exactly at the cap is fine.
    let fetched = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/"), 2000)
        .await
        .unwrap();
    assert_eq!(fetched.body.len(), 2000);
}

#[tokio::test]
async fn follows_same_host_redirects() {
    let port = Arc::new(AtomicUsize::new(0));
    let server = TestServer::plain({
        let port = port.clone();
        move |head| match request_line(head) {
            "GET /start HTTP/1.1" => answer(redirect(302, "/moved?x=1")),
            "GET /moved?x=1 HTTP/1.1" => answer(redirect(
                301,
                &format!("http://127.0.0.1:{}/final", port.load(Ordering::SeqCst)),
            )),
            "GET /final HTTP/1.1" => answer(redirect(307, "final2")),
            "GET /final2 HTTP/1.1" => answer(ok_with("application/pdf", b"%PDF-1.7")),
            other => panic!("unexpected {other}"),
        }
    })
    .await;
    port.store(server.port().into(), Ordering::SeqCst);
    let fetched = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/start"), MIB)
        .await
        .unwrap();
    assert_eq!(fetched.body, b"%PDF-1.7");
    assert_eq!(fetched.url, server.url("/final2"));
    assert_eq!(server.connections(), 4);
}

#[tokio::test]
async fn refuses_redirects_to_another_origin() {
    let server = TestServer::plain(|head| {
        let port = head
            .split("\r\n")
            .find_map(|line| {
                line.to_ascii_lowercase()
                    .strip_prefix("host: 127.0.0.1:")
                    .map(str::to_owned)
            })
            .unwrap();
        match request_line(head) {
            "GET /host HTTP/1.1" => answer(redirect(302, &format!("http://localhost:{port}/x"))),
            "GET /port HTTP/1.1" => answer(redirect(303, "http://127.0.0.1:1/x")),
            "GET /scheme HTTP/1.1" => answer(redirect(308, &format!("https://127.0.0.1:{port}/x"))),
            other => panic!("unexpected {other}"),
        }
    })
    .await;
    let fetcher = fetcher(&["127.0.0.1", "localhost"]);
    let port = server.port();
    let cases = [
        ("/host", format!("http://localhost:{port}")),
        ("/port", "http://127.0.0.1:1".to_owned()),
        ("/scheme", format!("https://127.0.0.1:{port}")),
    ];
    for (path, origin) in cases {
        let error = fetcher.fetch(&server.url(path), MIB).await.unwrap_err();
        assert_eq!(error, FetchError::RedirectToOtherHost(origin), "{path}");
    }
    // No request went anywhere but to the first URL each time.
    assert_eq!(server.connections(), 3);
    let error = FetchError::RedirectToOtherHost("http://localhost:8080".into());
    assert_eq!(
        error.to_string(),
        "redirect to http://localhost:8080 refused: only the same scheme, host and port are followed"
    );
}

#[tokio::test]
async fn stops_after_three_redirects() {
    let server = TestServer::plain(|_| answer(redirect(302, "/again"))).await;
    let error = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/again"), MIB)
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::TooManyRedirects);
    assert_eq!(server.connections(), 1 + MAX_REDIRECTS);
}

#[tokio::test]
async fn a_host_not_allowed_is_refused_without_a_connection() {
    let server = TestServer::plain(|_| answer(ok_with("text/plain", b"no"))).await;
    let fetcher = fetcher(&["ftcontent.example.test"]);
    let error = fetcher.fetch(&server.url("/f"), MIB).await.unwrap_err();
    assert_eq!(
        error,
        FetchError::NotAllowed(format!("127.0.0.1:{}", server.port()))
    );
    let error = fetcher
        .fetch("https://FTContent.Example.TEST.evil.test/f", MIB)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "ftcontent.example.test.evil.test is not in file_transfer.allowed_hosts"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn a_404_is_a_status_error() {
    let server = TestServer::plain(|_| {
        answer(&b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"[..])
    })
    .await;
    let error = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/gone"), MIB)
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::Status(404));
    assert_eq!(error.to_string(), "the content server answered 404");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let server = TestServer::plain(|_| Answer {
        bytes: Vec::new(),
        hold: true,
    })
    .await;
    let mut policy = policy(&["127.0.0.1"]);
    policy.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let error = Fetcher::new(policy)
        .unwrap()
        .fetch(&server.url("/slow"), MIB)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error, FetchError::Timeout);
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = fetcher(&["127.0.0.1"])
        .fetch(&format!("http://{addr}/"), MIB)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, FetchError::Connect(peer) if peer.starts_with(&addr.to_string())),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_content_coding_is_refused() {
    let server = TestServer::plain(|_| {
        answer(&b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nxx"[..])
    })
    .await;
    let error = fetcher(&["127.0.0.1"])
        .fetch(&server.url("/gz"), MIB)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, FetchError::Http(why) if why.contains("gzip")),
        "{error:?}"
    );
}

#[tokio::test]
async fn fetches_over_https_with_the_extra_ca() {
    let server = TestServer::tls(|_| answer(ok_with("image/png", b"\x89PNG"))).await;
    let url = format!("https://localhost:{}/tls", server.port());
    let mut policy = policy(&["localhost"]);
    policy.ca_file = Some(TEST_CA.into());
    let fetched = Fetcher::new(policy)
        .unwrap()
        .fetch(&url, MIB)
        .await
        .unwrap();
    assert_eq!(fetched.body, b"\x89PNG");
    assert_eq!(fetched.content_type.as_deref(), Some("image/png"));

    // Without the test CA the certificate is not trusted.
    let error = fetcher(&["localhost"]).fetch(&url, MIB).await.unwrap_err();
    assert!(
        matches!(&error, FetchError::Tls(why) if why.contains("certificate")),
        "{error:?}"
    );
}

#[test]
fn allows_checks_scheme_and_host_without_the_network() {
    let fetcher = fetcher(&[
        "FTContent.Example.Test",
        "files.example.test:8443",
        "[2001:DB8::1]",
        "198.51.100.7:80",
    ]);
    for url in [
        "https://ftcontent.example.test/f",
        "http://FTCONTENT.example.test:8080/f",
        "https://files.example.test:8443/f",
        "http://[2001:db8::1]:81/",
        "http://198.51.100.7/",
    ] {
        assert_eq!(fetcher.allows(url), Ok(()), "{url}");
    }
    let refused = |url: &str| fetcher.allows(url).unwrap_err();
    assert_eq!(
        refused("https://files.example.test/f"),
        FetchError::NotAllowed("files.example.test".into())
    );
    assert_eq!(
        refused("https://198.51.100.7/"),
        FetchError::NotAllowed("198.51.100.7".into())
    );
    assert_eq!(
        refused("https://ftcontent.example.test./f"),
        FetchError::NotAllowed("ftcontent.example.test.".into())
    );
    assert_eq!(
        refused("ftp://ftcontent.example.test/f"),
        FetchError::Scheme("ftp".into())
    );
    assert_eq!(
        refused("file:///etc/passwd"),
        FetchError::Scheme("file".into())
    );
    assert!(matches!(refused("/relative/path"), FetchError::BadUrl(_)));
    assert!(matches!(
        refused("https://exa mple.test/"),
        FetchError::BadUrl(_)
    ));
    assert_eq!(
        refused("ftp://x/").to_string(),
        "the URL scheme \"ftp\" is not fetched: only http and https are"
    );
}

#[test]
fn refuses_unusable_policies() {
    for entry in ["", "host:", "host:99999", "2001:db8::1", "bad host", "[::1"] {
        let result = Fetcher::new(policy(&[entry]));
        assert!(
            matches!(&result, Err(FetchError::Policy(why)) if why.contains("allowed_hosts")),
            "{entry:?}"
        );
    }
    let mut missing_ca = policy(&["localhost"]);
    missing_ca.ca_file = Some("/nonexistent/ca.pem".into());
    assert!(matches!(
        Fetcher::new(missing_ca),
        Err(FetchError::Policy(why)) if why.starts_with("ca_file /nonexistent/ca.pem")
    ));
    let mut not_a_certificate = policy(&["localhost"]);
    not_a_certificate.ca_file = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into());
    assert!(matches!(
        Fetcher::new(not_a_certificate),
        Err(FetchError::Policy(why)) if why.contains("no certificate")
    ));
}
