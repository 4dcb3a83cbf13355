//! The sending side (IM → mail): an INVITE with an MSRP offer over UDP
//! (RFC 4975 §8, `a=setup:actpass` per RFC 6135), the ACK, then the
//! message's SEND chunks written back to back — MSRP transactions need not
//! wait for each other's responses — with `Success-Report: yes`, so the
//! gateway's REPORT (§7.1.2) says when the mail went out; then BYE.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use interwork_proto::msrp::{self, Frame, Method, MsrpUri};

use crate::frames::FrameReader;

/// What to send.
pub struct Plan {
    /// The gateway's SIP address.
    pub sip: SocketAddr,
    /// The request URI: the e-mail user as the IM side names them.
    pub to: String,
    /// Bytes of text in each message.
    pub bytes: usize,
    /// Largest SEND body.
    pub chunk: usize,
    /// Messages, one dialog each, one after another.
    pub count: usize,
}

/// Sends the messages of `plan`; prints one JSON line per message.
pub fn run(plan: &Plan) -> anyhow::Result<()> {
    let sip = Sip::new(plan.sip)?;
    // Only to own a port for the offer's a=path: the gateway answers
    // passive and this side connects.
    let ours = TcpListener::bind("127.0.0.1:0")?;
    let our_port = ours.local_addr()?.port();
    let text = text_of(plan.bytes);
    for n in 0..plan.count {
        let our_uri = MsrpUri::new(false, "127.0.0.1", Some(our_port), format!("bench{n}"));
        let dialog = sip.invite(&plan.to, n, &our_uri)?;
        let their: MsrpUri = dialog.path.parse().context("the gateway's a=path")?;
        let content = cpim(&plan.to, &text);
        let message_id = format!("bench-msg-{n}");
        let chunks = msrp::chunk(
            &content,
            "message/cpim",
            &message_id,
            plan.chunk,
            {
                let mut t = 0u32;
                move || {
                    t += 1;
                    format!("t{n}x{t}")
                }
            },
            std::slice::from_ref(&their),
            std::slice::from_ref(&our_uri),
        );
        let count = chunks.len();
        let mut wire = Vec::with_capacity(content.len() + count * 256);
        for mut chunk in chunks {
            chunk.success_report = Some(true);
            msrp::write(&Frame::Request(chunk), &mut wire);
        }
        let host = (their.host.as_str(), their.port.unwrap_or(2855));
        let stream = TcpStream::connect(host).context("the gateway's MSRP port")?;
        stream.set_nodelay(true)?;
        let mut frames = FrameReader::new(stream.try_clone()?);
        let started = Instant::now();
        let writer = std::thread::spawn(move || (&stream).write_all(&wire).map(|()| stream));
        let mut answered = 0usize;
        let report = loop {
            match frames.next_frame()? {
                Some(Frame::Response(r)) if r.code == 200 => answered += 1,
                Some(Frame::Response(r)) => bail!("chunk {} refused: {}", r.transaction_id, r.code),
                Some(Frame::Request(r)) if r.method == Method::Report => break r,
                Some(_) => {}
                None => bail!("the gateway closed the MSRP connection"),
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let _stream = writer.join().map_err(|_| anyhow!("writer panicked"))??;
        let status = report.status.map(|s| s.code).unwrap_or(0);
        println!(
            "{{\"bytes\": {}, \"chunks\": {count}, \"answered\": {answered}, \"status\": {status}, \"seconds\": {seconds:.6}}}",
            content.len()
        );
        sip.bye(&plan.to, n, &dialog)?;
    }
    Ok(())
}

/// `bytes` of printable text in 72-character lines.
fn text_of(bytes: usize) -> Vec<u8> {
    let line = b"The quick brown fox jumps over the lazy dog; large-message mode, issue 11\r\n";
    line.iter().copied().cycle().take(bytes).collect()
}

/// The message as CPIM (RFC 3862 §3) around `text/plain`.
fn cpim(to: &str, text: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "From: <sip:alice@im.example.test>\r\nTo: <{to}>\r\nDateTime: 2026-12-04T12:00:00Z\r\n\r\n\
Content-Type: text/plain;charset=utf-8\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(text);
    out
}

/// The SIP side: one UDP socket towards the gateway.
struct Sip {
    socket: UdpSocket,
    gateway: SocketAddr,
}

/// A dialog's facts the ACK and BYE need.
struct Dialog {
    /// The gateway's To header, with its tag.
    to_header: String,
    /// The gateway's `a=path`.
    path: String,
}

impl Sip {
    fn new(gateway: SocketAddr) -> anyhow::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Self { socket, gateway })
    }

    fn invite(&self, to: &str, n: usize, ours: &MsrpUri) -> anyhow::Result<Dialog> {
        let offer = format!(
            "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=message {} TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\na=path:{ours}\r\na=setup:actpass\r\n",
            ours.port.unwrap_or(2855)
        );
        let to_header = format!("To: <{to}>");
        let extra = "Subject: large-message benchmark\r\nContact: <sip:alice@127.0.0.1>\r\nContent-Type: application/sdp\r\n";
        let invite = self.text("INVITE", to, &to_header, n, 1, extra, &offer);
        let answer = self.request(&invite, "1 INVITE")?;
        if !answer.starts_with("SIP/2.0 200 ") {
            bail!("INVITE answered {}", answer.lines().next().unwrap_or(""));
        }
        let header = |name: &str| {
            answer
                .lines()
                .find(|l| l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name))
                .map(str::to_string)
        };
        let dialog = Dialog {
            to_header: header("To:").ok_or_else(|| anyhow!("200 without To"))?,
            path: answer
                .lines()
                .find_map(|l| l.strip_prefix("a=path:"))
                .ok_or_else(|| anyhow!("200 without a=path"))?
                .trim()
                .to_string(),
        };
        let ack = self.text("ACK", to, &dialog.to_header, n, 1, "", "");
        self.socket.send_to(ack.as_bytes(), self.gateway)?;
        Ok(dialog)
    }

    fn bye(&self, to: &str, n: usize, dialog: &Dialog) -> anyhow::Result<()> {
        let bye = self.text("BYE", to, &dialog.to_header, n, 2, "", "");
        let answer = self.request(&bye, "2 BYE")?;
        if !answer.starts_with("SIP/2.0 200 ") {
            bail!("BYE answered {}", answer.lines().next().unwrap_or(""));
        }
        Ok(())
    }

    /// Sends the request `text` and returns its final response, the one
    /// carrying `cseq` (retransmitting over UDP per RFC 3261 §17.1.1.2
    /// until one comes).
    fn request(&self, text: &str, cseq: &str) -> anyhow::Result<String> {
        let mut wait = Duration::from_millis(500);
        let deadline = Instant::now() + Duration::from_secs(32);
        loop {
            self.socket.send_to(text.as_bytes(), self.gateway)?;
            self.socket.set_read_timeout(Some(wait))?;
            let until = Instant::now() + wait;
            while Instant::now() < until {
                let mut buf = [0u8; 8192];
                let Ok((len, _)) = self.socket.recv_from(&mut buf) else {
                    break;
                };
                let answer = String::from_utf8_lossy(&buf[..len]).into_owned();
                if answer.starts_with("SIP/2.0 ")
                    && !answer.starts_with("SIP/2.0 1")
                    && answer.contains(&format!("CSeq: {cseq}"))
                {
                    return Ok(answer);
                }
            }
            if Instant::now() > deadline {
                bail!("no final answer to {cseq}");
            }
            wait = (wait * 2).min(Duration::from_secs(4));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &self,
        method: &str,
        to: &str,
        to_header: &str,
        n: usize,
        cseq: u32,
        extra: &str,
        body: &str,
    ) -> String {
        let port = self.socket.local_addr().map(|a| a.port()).unwrap_or(0);
        let cseq_method = if method == "ACK" { "INVITE" } else { method };
        // RFC 3261 §8.1.1.4: a Call-ID is unique across time, so one of
        // this run's must not be one of the last run's (the gateway would
        // take the INVITE for a merged copy of that one, §8.2.2.2).
        let run = std::process::id();
        format!(
            "{method} {to} SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bench{run}-{n}-{method}\r\n\
From: <sip:alice@im.example.test>;tag=bench{run}-{n}\r\n\
{to_header}\r\n\
Call-ID: bench-large-{run}-{n}@127.0.0.1\r\n\
CSeq: {cseq} {cseq_method}\r\n\
Max-Forwards: 70\r\n\
{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }
}
