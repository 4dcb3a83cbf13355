//! Admission (issue 11): a node holding `limits.max_messages_in_flight`
//! messages answers newcomers at once — SIP `503` with `Retry-After`, SMTP
//! `451 4.3.2` at RCPT — and takes messages again once one is settled.
//! The real binary, on loopback, with an MX that accepts connections and
//! never greets, so that the messages taken stay in their first attempt.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use interwork_e2e::Scratch;

fn scratch() -> Scratch {
    Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"))
}

/// An MX that takes connections and says nothing: every delivery to it
/// hangs until the gateway's own deadline.
fn silent_mx() -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (port, holder)
}

fn message(n: u32, local: u16) -> Vec<u8> {
    let body = format!("overload {n}");
    format!(
        "MESSAGE sip:bob@mail.example.test SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-overload-{n}\r\n\
         From: <sip:alice@im.example.test>;tag=o{n}\r\n\
         To: <sip:bob@mail.example.test>\r\n\
         Call-ID: overload-{n}@127.0.0.1\r\n\
         CSeq: 1 MESSAGE\r\n\
         Max-Forwards: 70\r\n\
         Content-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The final response to the MESSAGE with Call-ID `overload-N`, and how
/// long after `sent` it came; responses to other requests are skipped.
fn final_response(socket: &UdpSocket, n: u32, sent: Instant) -> (String, Duration) {
    let call_id = format!("Call-ID: overload-{n}@127.0.0.1");
    loop {
        let text = any_final_response(socket);
        if text.contains(&call_id) {
            return (text, sent.elapsed());
        }
    }
}

/// The next final response, whichever request it answers.
fn any_final_response(socket: &UdpSocket) -> String {
    let mut buf = [0u8; 4096];
    loop {
        let len = socket
            .recv(&mut buf)
            .expect("a response within the timeout");
        let text = String::from_utf8_lossy(&buf[..len]).into_owned();
        if !text.starts_with("SIP/2.0 100") {
            return text;
        }
    }
}

fn smtp_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("SMTP reply");
        reply.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return reply;
        }
    }
}

#[test]
fn a_full_node_answers_503_and_451_at_once_and_takes_messages_again_later() {
    let (mx, _holder) = silent_mx();
    let s = scratch();
    let mx_host = format!("smarthost = \"127.0.0.1:{mx}\"");
    let (config, ports) = s.gateway_config(&[
        ("# smarthost = \"127.0.0.1:2526\"", mx_host.as_str()),
        ("max_messages_in_flight = 512", "max_messages_in_flight = 2"),
        ("busy_retry_after_secs = 1", "busy_retry_after_secs = 7"),
        (
            "first_attempt_budget_ms = 2000",
            "first_attempt_budget_ms = 300",
        ),
        ("delivery_deadline_secs = 20", "delivery_deadline_secs = 3"),
    ]);
    let mut gateway = s.start_gateway(&config);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let local = socket.local_addr().unwrap().port();
    let gw = ("127.0.0.1", ports.sip);

    // Two messages take the two places; their first attempts hang on the
    // silent MX, so they are queued at the budget and answered 202.
    let started = Instant::now();
    for n in [1, 2] {
        socket.send_to(&message(n, local), gw).unwrap();
    }
    // Until both are admitted, a third could still be taken: wait for the
    // first answers (202 at the 300 ms budget), the places stay held by the
    // attempts going on in the background.
    let mut answered = Vec::new();
    while answered.len() < 2 {
        let response = any_final_response(&socket);
        assert!(response.starts_with("SIP/2.0 202"), "{response}");
        answered.push(response);
    }
    assert!(started.elapsed() >= Duration::from_millis(300));

    // The third is refused at once, with the configured Retry-After.
    let sent = Instant::now();
    socket.send_to(&message(3, local), gw).unwrap();
    let (response, took) = final_response(&socket, 3, sent);
    assert!(
        response.starts_with("SIP/2.0 503 Service Unavailable"),
        "{response}"
    );
    assert!(response.contains("Retry-After: 7\r\n"), "{response}");
    assert!(took < Duration::from_millis(200), "answered after {took:?}");

    // SMTP: refused at RCPT, before the client sends a body.
    let stream = TcpStream::connect(("127.0.0.1", ports.smtp)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    assert!(smtp_line(&mut reader).starts_with("220"));
    writer.write_all(b"EHLO client.test\r\n").unwrap();
    assert!(smtp_line(&mut reader).starts_with("250"));
    writer
        .write_all(b"MAIL FROM:<carol@mail.example.test>\r\n")
        .unwrap();
    assert!(smtp_line(&mut reader).starts_with("250"));
    writer
        .write_all(b"RCPT TO:<alice@im.example.test>\r\n")
        .unwrap();
    let rcpt = smtp_line(&mut reader);
    assert!(rcpt.starts_with("451 4.3.2"), "{rcpt}");
    writer.write_all(b"QUIT\r\n").unwrap();

    // Once the hung attempts reach their deadline (3 s) the places are
    // free again: a new message is taken.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut n = 10;
    loop {
        let sent = Instant::now();
        socket.send_to(&message(n, local), gw).unwrap();
        let (response, _) = final_response(&socket, n, sent);
        if response.starts_with("SIP/2.0 202") {
            break;
        }
        assert!(response.starts_with("SIP/2.0 503"), "{response}");
        assert!(Instant::now() < deadline, "still refused after 15 s");
        std::thread::sleep(Duration::from_millis(500));
        n += 1;
    }
    assert!(!gateway.has_logged("panicked"), "the gateway panicked");
}
