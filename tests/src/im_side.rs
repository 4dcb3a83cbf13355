//! The IM system's side, written by hand from the RFCs (not with the
//! gateway's own codecs) for what sipp cannot send: binary bodies, INVITE
//! with an MSRP offer and the MSRP sender that follows (RFC 4975; no MSRP
//! client exists as a Debian package).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

/// SIP over UDP toward the gateway, from one socket.
pub struct Ims {
    socket: UdpSocket,
    gateway: String,
}

impl Ims {
    /// A socket on 127.0.0.1 that talks to the gateway's SIP port.
    pub fn new(sip_port: u16) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Self {
            socket,
            gateway: format!("127.0.0.1:{sip_port}"),
        }
    }

    /// The socket, for reading what the gateway sends unasked (a 2xx
    /// resent until its ACK).
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Sends a datagram, answer or not.
    pub fn send(&self, bytes: &[u8]) {
        self.socket.send_to(bytes, &self.gateway).unwrap();
    }

    /// Sends a request; returns the final answer (after any 100 Trying).
    pub fn request(&self, bytes: &[u8]) -> String {
        self.send(bytes);
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

    /// INVITE with an MSRP offer (RFC 4975 §8, RFC 6135 actpass) in the
    /// dialog of `branch`, then ACK; returns the gateway's `a=path`.
    pub fn set_up(&self, to: &str, branch: &str, our_path: &str, msrp_port: u16) -> String {
        let offer = format!(
            "v=0\r\no=alice 2890844526 2890844527 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=message 7654 TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\na=path:{our_path}\r\na=setup:actpass\r\n"
        );
        let headers = "Subject: a long story\r\nContact: <sip:alice@127.0.0.1:5099>\r\nContent-Type: application/sdp\r\n";
        let invite = sip("INVITE", to, 1, branch, headers, offer.as_bytes());
        let answer = self.request(&invite);
        assert!(answer.starts_with("SIP/2.0 200 OK"), "{answer}");
        assert!(answer.contains("Content-Type: application/sdp"), "{answer}");
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
        self.send(&sip("ACK", to, 1, branch, "", b""));
        their_path
    }
}

/// A request from alice in the dialog (Call-ID) of `branch`: INVITE opens
/// it, other methods carry the gateway's To tag. `extra` holds whole
/// header lines, CRLF-terminated.
pub fn sip(method: &str, to: &str, cseq: u32, branch: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let to_tag = if method == "INVITE" || method == "MESSAGE" {
        ""
    } else {
        ";tag=gw"
    };
    let cseq_method = if method == "ACK" { "INVITE" } else { method };
    let mut bytes = format!(
        "{method} {to} SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-{branch}\r\n\
From: \"Alice\" <sip:alice@im.example.test>;tag=a1\r\n\
To: <{to}>{to_tag}\r\n\
Call-ID: large-{branch}@127.0.0.1\r\n\
CSeq: {cseq} {cseq_method}\r\n\
Max-Forwards: 70\r\n\
{extra}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// An MSRP connection to the gateway: the writing half and a reader.
pub fn connect(msrp_port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let stream = TcpStream::connect(("127.0.0.1", msrp_port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    (stream.try_clone().unwrap(), BufReader::new(stream))
}

/// Reads one MSRP frame (up to and including its end-line).
pub fn read_frame(reader: &mut BufReader<TcpStream>) -> String {
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

/// One SEND chunk (RFC 4975 §7.1).
pub struct Chunk<'a> {
    /// Transaction id.
    pub tid: &'a str,
    /// `To-Path`: the gateway's `a=path`.
    pub to: &'a str,
    /// `From-Path`: ours.
    pub from: &'a str,
    /// `Message-ID`.
    pub message_id: &'a str,
    /// Further header lines, CRLF-terminated.
    pub extra: &'a str,
    /// `Byte-Range` start, end and total.
    pub range: (usize, usize, usize),
    /// `Content-Type` of the message.
    pub content_type: &'a str,
    /// The bytes of this chunk.
    pub data: &'a [u8],
    /// `$` for the last chunk, `+` otherwise.
    pub flag: char,
}

/// Writes one SEND chunk.
pub fn send_chunk(writer: &mut TcpStream, chunk: &Chunk<'_>) {
    let (start, end, total) = chunk.range;
    let mut frame = format!(
        "MSRP {} SEND\r\nTo-Path: {}\r\nFrom-Path: {}\r\nMessage-ID: {}\r\n{}\
Byte-Range: {start}-{end}/{total}\r\nContent-Type: {}\r\n\r\n",
        chunk.tid, chunk.to, chunk.from, chunk.message_id, chunk.extra, chunk.content_type
    )
    .into_bytes();
    frame.extend_from_slice(chunk.data);
    frame.extend_from_slice(format!("\r\n-------{}{}\r\n", chunk.tid, chunk.flag).as_bytes());
    writer.write_all(&frame).unwrap();
}

/// Sends a whole message as one chunk and reads its `200 OK`.
pub fn send_message(
    link: &mut (TcpStream, BufReader<TcpStream>),
    paths: (&str, &str),
    message_id: &str,
    content_type: &str,
    data: &[u8],
) -> String {
    let tid = format!("t-{message_id}");
    send_chunk(
        &mut link.0,
        &Chunk {
            tid: &tid,
            to: paths.0,
            from: paths.1,
            message_id,
            extra: "",
            range: (1, data.len(), data.len()),
            content_type,
            data,
            flag: '$',
        },
    );
    read_frame(&mut link.1)
}
