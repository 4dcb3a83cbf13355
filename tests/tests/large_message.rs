//! IM → e-mail in large-message mode (SPEC S4): the test plays the IM side
//! — an INVITE with an MSRP offer, then an MSRP sender written here (no
//! MSRP client exists as a Debian package) sending a 200 KB message in
//! 2048-byte chunks — and checks that exactly one complete mail arrives at
//! the real SMTP server found by MX.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use interwork_e2e::peers::{self, free_port};
use interwork_e2e::{Gateway, Scratch};
use mail_parser::MessageParser;

struct Ims {
    socket: UdpSocket,
    gateway: String,
}

impl Ims {
    fn request(&self, text: &str) -> String {
        self.socket.send_to(text.as_bytes(), &self.gateway).unwrap();
        loop {
            let mut buf = [0u8; 8192];
            let (n, _) = self
                .socket
                .recv_from(&mut buf)
                .expect("an answer from the gateway");
            let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !answer.starts_with("SIP/2.0 100 ") {
                return answer;
            }
        }
    }
}

fn sip(method: &str, cseq: u32, branch: &str, extra: &str, body: &str) -> String {
    format!(
        "{method} sip:bob@mail.example.test SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-{branch}\r\n\
From: \"Alice\" <sip:alice@im.example.test>;tag=a1\r\n\
To: <sip:bob@mail.example.test>{}\r\n\
Call-ID: large-1@127.0.0.1\r\n\
CSeq: {cseq} {}\r\n\
Max-Forwards: 70\r\n\
{extra}Content-Length: {}\r\n\r\n{body}",
        if method == "INVITE" { "" } else { ";tag=gw" },
        if method == "ACK" { "INVITE" } else { method },
        body.len()
    )
}

/// Reads one MSRP frame (up to and including its end-line).
fn read_frame(reader: &mut BufReader<TcpStream>) -> String {
    let mut first = String::new();
    reader.read_line(&mut first).expect("an MSRP frame");
    let tid = first
        .split_whitespace()
        .nth(1)
        .expect("a transaction id")
        .to_string();
    let end = format!("-------{tid}");
    let mut frame = first;
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "connection closed in {frame}"
        );
        frame.push_str(&line);
        if line.starts_with(&end) {
            return frame;
        }
    }
}

#[test]
fn a_200_kb_msrp_message_becomes_one_mail() {
    let smtp = peers::smtp_sink();
    let dns = peers::dnsmasq(
        &[("mail.example.test", "mx.mail.example.test", 10)],
        &[("mx.mail.example.test", "127.0.0.1")],
    );
    let scratch = Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"));
    let (sip_port, msrp_port) = (free_port(), free_port());
    let config = scratch.config(&[
        (
            "udp_listen = \"0.0.0.0:5060\"",
            &format!("udp_listen = \"127.0.0.1:{sip_port}\""),
        ),
        (
            "tcp_listen = \"0.0.0.0:5060\"",
            &format!("tcp_listen = \"127.0.0.1:{sip_port}\""),
        ),
        (
            "listen = \"0.0.0.0:2855\"",
            &format!("listen = \"127.0.0.1:{msrp_port}\""),
        ),
        (
            "delivery_port = 25",
            &format!("delivery_port = {}", smtp.port),
        ),
        (
            "# nameserver = \"127.0.0.1:5354\"",
            &format!("nameserver = \"127.0.0.1:{}\"", dns.port),
        ),
    ]);
    let mut gateway =
        Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
    gateway.wait_for("MSRP listening", Duration::from_secs(30));

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let ims = Ims {
        socket,
        gateway: format!("127.0.0.1:{sip_port}"),
    };

    // 1. INVITE with an MSRP offer (RFC 4975 §8, RFC 6135 actpass).
    let our_path = "msrp://127.0.0.1:7654/s9Hq2aTbUz;tcp";
    let offer = format!(
        "v=0\r\no=alice 2890844526 2890844527 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=message 7654 TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\na=path:{our_path}\r\na=setup:actpass\r\n"
    );
    let answer = ims.request(&sip(
        "INVITE",
        1,
        "inv1",
        "Subject: a long story\r\nContact: <sip:alice@127.0.0.1:5099>\r\nContent-Type: application/sdp\r\n",
        &offer,
    ));
    assert!(answer.starts_with("SIP/2.0 200 OK"), "{answer}");
    assert!(answer.contains("a=setup:passive"), "{answer}");
    assert!(answer.contains("m=message "), "{answer}");
    let their_path = answer
        .lines()
        .find_map(|l| l.strip_prefix("a=path:"))
        .expect("the gateway's a=path")
        .trim()
        .to_string();
    assert!(
        their_path.starts_with(&format!("msrp://127.0.0.1:{msrp_port}/")),
        "{their_path}"
    );
    ims.socket
        .send_to(sip("ACK", 1, "ack1", "", "").as_bytes(), &ims.gateway)
        .unwrap();

    // 2. The message, in 2048-byte chunks (RFC 4975 §5.1).
    let line = "Lorem ipsum dolor sit amet, 你好世界, consectetur adipiscing elit.\n";
    let content: String = line.repeat(200 * 1024 / line.len() + 1);
    let content = content.as_bytes();
    assert!(content.len() >= 200 * 1024);
    let stream = TcpStream::connect(("127.0.0.1", msrp_port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let total = content.len();
    let mut sent = 0;
    let mut n = 0;
    while sent < total {
        let end = (sent + 2048).min(total);
        let tid = format!("tid{n:05}x");
        let flag = if end == total { '$' } else { '+' };
        let mut frame = format!(
            "MSRP {tid} SEND\r\nTo-Path: {their_path}\r\nFrom-Path: {our_path}\r\nMessage-ID: m-large-1\r\n\
Success-Report: yes\r\nByte-Range: {}-{end}/{total}\r\nContent-Type: text/plain;charset=utf-8\r\n\r\n",
            sent + 1
        )
        .into_bytes();
        frame.extend_from_slice(&content[sent..end]);
        frame.extend_from_slice(format!("\r\n-------{tid}{flag}\r\n").as_bytes());
        writer.write_all(&frame).unwrap();
        let response = read_frame(&mut reader);
        assert!(
            response.starts_with(&format!("MSRP {tid} 200 OK")),
            "{response}"
        );
        sent = end;
        n += 1;
    }
    assert!(n >= 100, "{n} chunks");

    // 3. The end-to-end REPORT asked for with Success-Report: yes.
    let report = read_frame(&mut reader);
    assert!(report.contains(" REPORT\r\n"), "{report}");
    assert!(report.contains("Message-ID: m-large-1"), "{report}");
    assert!(
        report.contains(&format!("Byte-Range: 1-{total}/{total}")),
        "{report}"
    );
    assert!(report.contains("Status: 000 200"), "{report}");

    // 4. BYE ends the session.
    let bye = ims.request(&sip("BYE", 2, "bye1", "", ""));
    assert!(bye.starts_with("SIP/2.0 200 OK"), "{bye}");

    // Exactly one mail, with the whole content.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let mail = MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(mail.subject(), Some("a long story"));
    let text = mail.body_text(0).expect("a text body");
    assert_eq!(
        text.as_bytes(),
        content,
        "the mail body is the MSRP message, byte for byte"
    );
}
