//! IM → e-mail in large-message mode (SPEC S4): the test plays the IM side
//! — an INVITE with an MSRP offer, then an MSRP sender written by hand
//! (`interwork_e2e::im_side`; no MSRP client exists as a Debian package) —
//! against the real gateway, dnsmasq and aiosmtpd.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

use interwork_e2e::im_side::{Chunk, Ims, connect, read_frame, send_chunk, sip};
use interwork_e2e::mx_world::MxWorld;
use mail_parser::MessageParser;

/// The gateway with its peers; `extra` replaces lines of the example
/// configuration.
fn world(extra: &[(&str, &str)]) -> MxWorld {
    MxWorld::start(
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
        extra,
    )
}

#[test]
fn a_200_kb_msrp_message_becomes_one_mail() {
    let w = world(&[]);
    let ims = Ims::new(w.ports.sip);
    let our_path = "msrp://127.0.0.1:7654/s9Hq2aTbUz;tcp";
    let their_path = ims.set_up("sip:bob@mail.example.test", "inv1", our_path, w.ports.msrp);

    // The message, in 2048-byte chunks (RFC 4975 §5.1).
    let line = "Lorem ipsum dolor sit amet, 你好世界, consectetur adipiscing elit.\n";
    let content = line.repeat(200 * 1024 / line.len() + 1).into_bytes();
    let total = content.len();
    assert!(total >= 200 * 1024);
    let (mut writer, mut reader) = connect(w.ports.msrp);
    let (mut sent, mut chunks) = (0, 0);
    while sent < total {
        let end = (sent + 2048).min(total);
        let tid = format!("tid{chunks:05}x");
        let flag = if end == total { '$' } else { '+' };
        let range = (sent + 1, end, total);
        let extra = "Success-Report: yes\r\n";
        send_chunk(
            &mut writer,
            &Chunk {
                tid: &tid,
                to: &their_path,
                from: our_path,
                message_id: "m-large-1",
                extra,
                range,
                content_type: "text/plain;charset=utf-8",
                data: &content[sent..end],
                flag,
            },
        );
        let response = read_frame(&mut reader);
        assert!(
            response.starts_with(&format!("MSRP {tid} 200 OK")),
            "{response}"
        );
        sent = end;
        chunks += 1;
    }
    assert!(chunks >= 100, "{chunks} chunks");

    // The end-to-end REPORT asked for with Success-Report: yes (§7.1.2).
    let report = read_frame(&mut reader);
    assert!(report.contains(" REPORT\r\n"), "{report}");
    assert!(report.contains("Message-ID: m-large-1"), "{report}");
    assert!(
        report.contains(&format!("Byte-Range: 1-{total}/{total}")),
        "{report}"
    );
    assert!(report.contains("Status: 000 200"), "{report}");

    // BYE ends the session; a second BYE finds none.
    let bye = ims.request(&sip("BYE", "sip:bob@mail.example.test", 2, "inv1", "", b""));
    assert!(bye.starts_with("SIP/2.0 200 OK"), "{bye}");
    let again = ims.request(
        String::from_utf8(sip(
            "BYE",
            "sip:bob@mail.example.test",
            3,
            "inv1-again",
            "",
            b"",
        ))
        .unwrap()
        .replace("Call-ID: large-inv1-again@", "Call-ID: large-inv1@")
        .as_bytes(),
    );
    assert!(again.starts_with("SIP/2.0 481"), "{again}");

    // Exactly one mail, with the whole content.
    let mails = w.smtp.mails();
    assert_eq!(mails.len(), 1);
    let mail = MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(mail.subject(), Some("a long story"));
    let text = mail.body_text(0).expect("a text body");
    assert_eq!(
        text.as_bytes(),
        content.as_slice(),
        "the mail body is the MSRP message, byte for byte"
    );
}

/// RFC 3261 §13.3.1.4: the INVITE transaction ends with its 2xx, and the
/// client stops retransmitting the INVITE at the 100 Trying, so a 2xx lost
/// on UDP must be resent by the gateway itself until the ACK comes.
#[test]
fn the_200_to_invite_is_resent_over_udp_until_the_ack() {
    let w = world(&[]);
    let ims = Ims::new(w.ports.sip);
    let offer = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=message 7654 TCP/MSRP *\r\na=accept-types:text/plain\r\n\
a=path:msrp://127.0.0.1:7654/ack9;tcp\r\na=setup:actpass\r\n";
    let headers = "Contact: <sip:alice@127.0.0.1:5099>\r\nContent-Type: application/sdp\r\n";
    let invite = sip(
        "INVITE",
        "sip:bob@mail.example.test",
        1,
        "ack9",
        headers,
        offer.as_bytes(),
    );
    let start = std::time::Instant::now();
    let first = ims.request(&invite);
    assert!(first.starts_with("SIP/2.0 200 OK"), "{first}");

    // No ACK: the same 200 comes again at T1 (0.5 s), then 2·T1 later.
    ims.socket()
        .set_read_timeout(Some(Duration::from_millis(2_500)))
        .unwrap();
    let mut copies = Vec::new();
    while copies.len() < 2 {
        let mut buf = [0u8; 8192];
        let (n, _) = ims
            .socket()
            .recv_from(&mut buf)
            .expect("the 200 OK resent without an ACK");
        copies.push((
            start.elapsed(),
            String::from_utf8_lossy(&buf[..n]).into_owned(),
        ));
    }
    for (at, copy) in &copies {
        assert_eq!(
            copy, &first,
            "resent at {at:?}: the same 200 OK, byte for byte"
        );
    }
    assert!(
        copies[0].0 >= Duration::from_millis(400),
        "{:?}",
        copies[0].0
    );
    assert!(
        copies[1].0 - copies[0].0 >= Duration::from_millis(800),
        "the interval doubles: {copies:?}"
    );

    // The ACK (a new branch, as for any ACK of a 2xx) stops them: the next
    // copy would have come at 3.5 s.
    let ack = String::from_utf8(sip(
        "ACK",
        "sip:bob@mail.example.test",
        1,
        "ack9-ack",
        "",
        b"",
    ))
    .unwrap()
    .replace("Call-ID: large-ack9-ack@", "Call-ID: large-ack9@");
    ims.send(ack.as_bytes());
    let quiet_until = start + Duration::from_millis(5_000);
    while let Some(left) = quiet_until.checked_duration_since(std::time::Instant::now()) {
        ims.socket()
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let mut buf = [0u8; 8192];
        if let Ok((n, _)) = ims.socket().recv_from(&mut buf) {
            panic!(
                "after the ACK at {:?} the gateway still sent {}",
                copies[1].0,
                String::from_utf8_lossy(&buf[..n])
            );
        }
    }
    ims.socket()
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let bye = ims.request(&sip("BYE", "sip:bob@mail.example.test", 2, "ack9", "", b""));
    assert!(bye.starts_with("SIP/2.0 200 OK"), "{bye}");
}

#[test]
fn failures_are_reported_and_oversize_is_refused() {
    let w = world(&[(
        "msrp_message_max_bytes = 26214400",
        "msrp_message_max_bytes = 2048",
    )]);
    let ims = Ims::new(w.ports.sip);
    let our_path = "msrp://127.0.0.1:7655/fA1lur3sX;tcp";
    // The receiving MTA refuses the recipient: a failure REPORT (the
    // default Failure-Report is yes) that carries the SIP-side answer.
    let their_path = ims.set_up(
        "sip:reject-user@mail.example.test",
        "inv1",
        our_path,
        w.ports.msrp,
    );
    let (mut writer, mut reader) = connect(w.ports.msrp);
    send_chunk(
        &mut writer,
        &Chunk {
            tid: "tidfail1",
            to: &their_path,
            from: our_path,
            message_id: "m-fail-1",
            extra: "",
            range: (1, 5, 5),
            content_type: "text/plain;charset=utf-8",
            data: b"hello",
            flag: '$',
        },
    );
    let response = read_frame(&mut reader);
    assert!(response.starts_with("MSRP tidfail1 200 OK"), "{response}");
    let report = read_frame(&mut reader);
    assert!(
        report.contains(" REPORT\r\n") && report.contains("Status: 000 403"),
        "{report}"
    );
    assert!(report.contains("404 Not Found"), "{report}");
    // Over the configured size: 413 to the SEND (RFC 4975 §7.3.1).
    let big = vec![b'x'; 3000];
    send_chunk(
        &mut writer,
        &Chunk {
            tid: "tidbig01",
            to: &their_path,
            from: our_path,
            message_id: "m-big-1",
            extra: "",
            range: (1, 3000, 3000),
            content_type: "text/plain;charset=utf-8",
            data: &big,
            flag: '$',
        },
    );
    let response = read_frame(&mut reader);
    assert!(response.starts_with("MSRP tidbig01 413"), "{response}");
    // A SEND for a session that does not exist: 481.
    let nowhere = "msrp://127.0.0.1:1/nosuchsession;tcp";
    send_chunk(
        &mut writer,
        &Chunk {
            tid: "tidnone1",
            to: nowhere,
            from: our_path,
            message_id: "m-none-1",
            extra: "",
            range: (1, 1, 1),
            content_type: "text/plain;charset=utf-8",
            data: b"x",
            flag: '$',
        },
    );
    let response = read_frame(&mut reader);
    assert!(response.starts_with("MSRP tidnone1 481"), "{response}");
    assert!(w.smtp.mails().is_empty());
}

/// Header values of `name` in a SIP message, in order, one per value
/// (comma-separated Record-Route values split).
fn header_values(message: &str, name: &str) -> Vec<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or_default();
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|p| p.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// An IM user agent behind a record-routing proxy (RFC 3261 §12.1.2,
/// §12.2.1.1): requests go to the proxy; in-dialog ones carry the route set
/// the 2xx recorded and the gateway's Contact as Request-URI.
struct ProxiedUa {
    socket: UdpSocket,
    proxy: String,
    local: String,
    call_id: String,
}

impl ProxiedUa {
    fn request(&self, method: &str, ruri: &str, cseq: u32, branch: &str, lines: &str, body: &str) {
        let cseq_method = if method == "ACK" { "INVITE" } else { method };
        let text = format!(
            "{method} {ruri} SIP/2.0\r\n\
Via: SIP/2.0/UDP {};rport;branch=z9hG4bK-{branch}\r\n\
From: \"Alice\" <sip:alice@im.example.test>;tag=proxied-a\r\n\
Call-ID: {}\r\nCSeq: {cseq} {cseq_method}\r\nMax-Forwards: 70\r\n\
Contact: <sip:alice@{}>\r\n{lines}Content-Length: {}\r\n\r\n{body}",
            self.local,
            self.call_id,
            self.local,
            body.len()
        );
        self.socket.send_to(text.as_bytes(), &self.proxy).unwrap();
    }

    /// The next final response to a `method` request: provisional ones
    /// are skipped, and so is a copy of the 200 to INVITE that the gateway
    /// resent because the ACK was slow to cross the proxy (RFC 3261
    /// §13.3.1.4).
    fn final_response(&self, method: &str) -> String {
        loop {
            let mut buf = [0u8; 8192];
            let (n, _) = self.socket.recv_from(&mut buf).expect("a SIP response");
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let for_method = header_values(&text, "CSeq")
                .first()
                .is_some_and(|c| c.ends_with(&format!(" {method}")));
            if !text.starts_with("SIP/2.0 1") && for_method {
                return text;
            }
        }
    }
}

#[test]
fn a_large_message_dialog_goes_through_a_record_routing_proxy() {
    let w = world(&[]);
    let kamailio = interwork_e2e::kamailio::Kamailio::start(&[("mail.example.test", w.ports.sip)]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let ua = ProxiedUa {
        local: socket.local_addr().unwrap().to_string(),
        socket,
        proxy: format!("127.0.0.1:{}", kamailio.port),
        call_id: "proxied-large@127.0.0.1".to_string(),
    };
    let our_path = "msrp://127.0.0.1:7656/pr0xied;tcp";
    let offer = format!(
        "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=message 7656 TCP/MSRP *\r\na=accept-types:text/plain\r\na=path:{our_path}\r\na=setup:actpass\r\n"
    );
    let to = "sip:bob@mail.example.test";
    ua.request(
        "INVITE",
        to,
        1,
        "pinv",
        &format!("To: <{to}>\r\nSubject: via the S-CSCF\r\nContent-Type: application/sdp\r\n"),
        &offer,
    );
    let ok = ua.final_response("INVITE");
    assert!(ok.starts_with("SIP/2.0 200 OK"), "{ok}");

    // The 200 carries the INVITE's Record-Route (§12.1.1); the UAC's route
    // set is it reversed, the remote target the gateway's Contact.
    let mut route_set = header_values(&ok, "Record-Route");
    assert!(
        route_set
            .iter()
            .any(|r| r.contains(&format!("127.0.0.1:{}", kamailio.port))),
        "no Record-Route of the proxy in {ok}"
    );
    route_set.reverse();
    let to_header = header_values(&ok, "To").join(",");
    assert!(to_header.contains(";tag="), "{ok}");
    let contact = header_values(&ok, "Contact")
        .first()
        .expect("a Contact in the 200")
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let their_path = ok
        .lines()
        .find_map(|l| l.strip_prefix("a=path:"))
        .expect("the gateway's a=path")
        .trim()
        .to_string();
    let in_dialog = format!("To: {to_header}\r\nRoute: {}\r\n", route_set.join(", "));
    ua.request("ACK", &contact, 1, "pack", &in_dialog, "");

    // The message over MSRP, straight to the gateway (MSRP does not cross
    // SIP proxies), and its mail.
    let (mut writer, mut reader) = connect(w.ports.msrp);
    send_chunk(
        &mut writer,
        &Chunk {
            tid: "tidprox1",
            to: &their_path,
            from: our_path,
            message_id: "m-proxied-1",
            extra: "Success-Report: yes\r\n",
            range: (1, 19, 19),
            content_type: "text/plain;charset=utf-8",
            data: b"behind the S-CSCF\r\n",
            flag: '$',
        },
    );
    let response = read_frame(&mut reader);
    assert!(response.starts_with("MSRP tidprox1 200 OK"), "{response}");
    // The REPORT comes once the mail was taken by the MX.
    let report = read_frame(&mut reader);
    assert!(report.contains("Status: 000 200"), "{report}");

    ua.request("BYE", &contact, 2, "pbye", &in_dialog, "");
    let bye = ua.final_response("BYE");
    assert!(bye.starts_with("SIP/2.0 200 OK"), "{bye}");

    // The INVITE to the mail recipient, then ACK and BYE loose-routed to
    // the gateway's Contact.
    let expected = [
        format!("INVITE {to}"),
        format!("ACK {contact}"),
        format!("BYE {contact}"),
    ];
    let relayed = kamailio.relayed_when(
        |r| expected.iter().all(|e| r.iter().any(|l| l.starts_with(e))),
        Duration::from_secs(5),
    );
    for line in &expected {
        assert!(
            relayed.iter().any(|r| r.starts_with(line)),
            "{line} did not cross the proxy: {relayed:#?}"
        );
    }
    let noroute = kamailio.noroute();
    assert!(noroute.is_empty(), "{noroute:#?}");
    let mails = w.smtp.mails();
    assert_eq!(mails.len(), 1);
    let mail = MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(mail.subject(), Some("via the S-CSCF"));
    assert!(mail.body_text(0).unwrap().contains("behind the S-CSCF"));
}
