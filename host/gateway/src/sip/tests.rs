//! The SIP endpoint on loopback sockets of this process: what its listeners
//! do before a handler sees a request, and that they stop when told.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use interwork_proto::sip::{self, Limits, Message, Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::{RequestHandler, SipEndpoint};
use crate::listen::{ConnectionLimits, Gate};
use crate::shutdown;

const LIMITS: ConnectionLimits = ConnectionLimits {
    total: 10,
    per_source: 10,
};

/// Answers 202 and counts the requests it saw.
#[derive(Default)]
struct Counting(AtomicUsize);

impl RequestHandler for Arc<Counting> {
    fn handle(
        &self,
        request: Request,
        _source: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = Response> + Send>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Response::to(&request, 202, "Accepted", "t1") })
    }
}

fn message(branch: &str, transport: &str) -> Vec<u8> {
    format!(
        "MESSAGE sip:bob@mail.example.test SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:5070;branch=z9hG4bK-{branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@im.example.test>;tag=a\r\n\
         To: <sip:bob@mail.example.test>\r\nCall-ID: {branch}@test\r\nCSeq: 1 MESSAGE\r\n\
         Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
    )
    .into_bytes()
}

fn code_of(bytes: &[u8]) -> u16 {
    match sip::parse_datagram(bytes, &Limits::default()).expect("a response") {
        Message::Response(r) => r.code,
        Message::Request(_) => panic!("a request came back"),
    }
}

async fn exchange(socket: &UdpSocket, to: SocketAddr, bytes: &[u8]) -> u16 {
    socket.send_to(bytes, to).await.unwrap();
    let mut buf = vec![0; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    code_of(&buf[..n])
}

#[tokio::test]
async fn listeners_check_the_peer_absorb_retransmissions_and_stop_when_told() {
    let handler = Arc::new(Counting::default());
    let endpoint = SipEndpoint::new(
        Arc::new(handler.clone()),
        vec!["127.0.0.1".parse().unwrap()],
        Limits::default(),
        "127.0.0.1".parse().unwrap(),
    );
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (udp_at, tcp_at) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    let (stop, stopped) = shutdown::channel();
    let serving_udp = tokio::spawn(endpoint.clone().serve_udp(udp, stopped.clone()));
    let trusted = vec!["127.0.0.1".parse().unwrap()];
    let gate = Gate::new("SIP TCP", tcp, LIMITS).allow_only(trusted);
    let idle = Duration::from_millis(300);
    let serving_tcp = tokio::spawn(endpoint.serve_tcp(gate, idle, stopped));

    // UDP: trusted peer answered by the handler, its retransmission by the
    // transaction layer; an untrusted address refused before the handler.
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    assert_eq!(exchange(&client, udp_at, &message("u1", "UDP")).await, 202);
    assert_eq!(exchange(&client, udp_at, &message("u1", "UDP")).await, 202);
    let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    assert_eq!(
        exchange(&stranger, udp_at, &message("u2", "UDP")).await,
        403
    );
    assert_eq!(handler.0.load(Ordering::SeqCst), 1);

    // TCP: two requests in one segment are two frames, two answers.
    let mut stream = TcpStream::connect(tcp_at).await.unwrap();
    let mut both = message("t1", "TCP");
    both.extend(message("t2", "TCP"));
    stream.write_all(&both).await.unwrap();
    let mut answers = Vec::new();
    let mut buf = vec![0; 8192];
    while answers.windows(4).filter(|w| *w == b"\r\n\r\n").count() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("answers")
            .unwrap();
        assert!(n > 0, "closed early");
        answers.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answers);
    assert_eq!(
        text.matches("SIP/2.0 202 Accepted\r\n").count(),
        2,
        "{text}"
    );
    assert_eq!(handler.0.load(Ordering::SeqCst), 3);

    // A keep-alive ping gets its pong (RFC 5626 §3.5.1) and keeps the
    // connection open past the idle time; silence then closes it.
    for _ in 0..3 {
        tokio::time::sleep(idle / 2).await;
        stream.write_all(b"\r\n\r\n").await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("pong")
            .unwrap();
        assert_eq!(&buf[..n], b"\r\n");
    }
    let closed = tokio::time::timeout(idle * 4, stream.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "idle connection kept: {closed:?}"
    );

    // An untrusted address is closed at accept: no answer, no handler.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut stranger = socket.connect(tcp_at).await.unwrap();
    let _ = stranger.write_all(&message("t3", "TCP")).await;
    let read = tokio::time::timeout(Duration::from_secs(5), stranger.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "untrusted TCP peer answered: {read:?}"
    );
    assert_eq!(handler.0.load(Ordering::SeqCst), 3);

    stop.trigger();
    for serving in [serving_udp, serving_tcp] {
        tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .expect("stopped on shutdown")
            .unwrap();
    }
}
