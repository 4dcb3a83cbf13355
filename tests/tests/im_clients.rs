//! What real IM clients send (issue 14), end to end against the real
//! gateway, dnsmasq and aiosmtpd: typing indications (RFC 3994), multipart
//! messages plain and in CPIM over MSRP (RFC 2046, RFC 3862), the RFC 3261
//! §8.2 checks, and RCS file transfer via HTTP (GSMA RCC.07 §3.2.5) from a
//! content server the test runs (Python's `http.server`). sipp sends what
//! it can; binary bodies and MSRP come from `interwork_e2e::im_side`.

use std::path::PathBuf;

use interwork_e2e::im_side::{self, Ims};
use interwork_e2e::mx_world::MxWorld;
use interwork_e2e::peers::{self, Peer};
use interwork_e2e::sipp_message::SippMessage;
use mail_parser::{MessageParser, MimeHeaders, PartType};

/// A real PNG (24×16 RGB): NULs and CRLFs inside, as binary parts have.
const PNG: &[u8] = include_bytes!("../../testdata/images/beach.png");

/// The gateway delivering mail.example.test to aiosmtpd; `extra` replaces
/// lines of the example configuration.
fn world(extra: &[(&str, &str)]) -> MxWorld {
    MxWorld::start(
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
        extra,
    )
}

/// One MESSAGE to bob, then the expected answer.
fn message(headers: &[&str], content_type: &str, body: &str, expect: u16) -> String {
    SippMessage::new(content_type, body)
        .headers(headers)
        .expect(expect)
        .xml()
}

/// RFC 3994 §4's example, as clients send it while their user types.
const TYPING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">
  <state>active</state>
  <contenttype>text/plain</contenttype>
  <refresh>60</refresh>
</isComposing>"#;

#[test]
fn twenty_typing_indications_and_one_text_make_exactly_one_mail() {
    let mut w = world(&[]);
    w.sipp(
        &message(&[], "application/im-iscomposing+xml", TYPING, 200),
        20,
    );
    w.sipp(&message(&[], "text/plain", "on my way", 202), 1);
    let mail = w.only_mail();
    let mail = MessageParser::new().parse(&mail).unwrap();
    assert_eq!(
        mail.body_text(0).as_deref().map(str::trim),
        Some("on my way")
    );
    assert_eq!(
        w.metric("interwork_typing_indications_total{mode=\"pager\"}"),
        20.0
    );
    // The message's own line, none for the indications.
    assert!(w.gateway.has_logged("interwork::outcome"));
    let outcomes = w
        .gateway
        .log
        .iter()
        .filter(|l| l.contains("interwork::outcome"))
        .count();
    assert_eq!(outcomes, 1, "{}", w.gateway.log.join("\n"));
}

/// A multipart/mixed body: text, then the PNG as an attachment with a
/// Content-ID, binary (no transfer encoding) as RCS clients send it.
fn text_and_png(boundary: &str) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nThe beach, this morning \u{1f305}\r\n\
--{boundary}\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"beach.png\"\r\n\
Content-ID: <beach@im.example.test>\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(PNG);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// The mail's leaf parts: text, then the PNG byte for byte, with its name
/// and Content-ID.
fn assert_text_and_png(raw: &[u8]) {
    let mail = MessageParser::new().parse(raw).unwrap();
    let source = String::from_utf8_lossy(raw);
    let root = mail.content_type().expect("a Content-Type");
    assert_eq!(
        (root.ctype(), root.subtype()),
        ("multipart", Some("mixed")),
        "{source}"
    );
    let leaves: Vec<_> = mail
        .parts
        .iter()
        .filter(|p| !matches!(p.body, PartType::Multipart(_)))
        .collect();
    assert_eq!(leaves.len(), 2, "{source}");
    assert_eq!(
        leaves[0].contents(),
        "The beach, this morning \u{1f305}".as_bytes(),
        "{source}"
    );
    assert_eq!(leaves[1].contents(), PNG, "the PNG, byte for byte");
    assert_eq!(
        leaves[1].content_type().and_then(|ct| ct.subtype()),
        Some("png")
    );
    assert_eq!(leaves[1].attachment_name(), Some("beach.png"));
    assert_eq!(leaves[1].content_id(), Some("beach@im.example.test"));
}

#[test]
fn a_multipart_message_becomes_a_mail_of_the_same_parts() {
    let w = world(&[]);
    let ims = Ims::new(w.ports.sip);
    let request = im_side::sip(
        "MESSAGE",
        "sip:bob@mail.example.test",
        1,
        "mixed1",
        "Content-Type: multipart/mixed; boundary=\"rcs-b1\"\r\n",
        &text_and_png("rcs-b1"),
    );
    let answer = ims.request(&request);
    assert!(answer.starts_with("SIP/2.0 202 "), "{answer}");
    assert_text_and_png(&w.only_mail());
}

#[test]
fn a_related_message_keeps_its_structure_and_content_ids() {
    let w = world(&[]);
    let ims = Ims::new(w.ports.sip);
    // multipart/alternative of plain text and multipart/related (HTML that
    // shows the PNG by its cid: URL, RFC 2387, RFC 2392).
    let mut body = b"--alt\r\nContent-Type: text/plain\r\n\r\nsee the picture\r\n\
--alt\r\nContent-Type: multipart/related; type=\"text/html\"; boundary=rel\r\n\r\n\
--rel\r\nContent-Type: text/html;charset=utf-8\r\n\r\n<p>see <img src=\"cid:pic1@im.example.test\"></p>\r\n\
--rel\r\nContent-Type: image/png\r\nContent-ID: <pic1@im.example.test>\r\nContent-Disposition: inline\r\n\r\n"
        .to_vec();
    body.extend_from_slice(PNG);
    body.extend_from_slice(b"\r\n--rel--\r\n\r\n--alt--\r\n");
    let request = im_side::sip(
        "MESSAGE",
        "sip:bob@mail.example.test",
        1,
        "related1",
        "Content-Type: multipart/alternative; boundary=alt\r\n",
        &body,
    );
    let answer = ims.request(&request);
    assert!(answer.starts_with("SIP/2.0 202 "), "{answer}");
    let raw = w.only_mail();
    let source = String::from_utf8_lossy(&raw);
    let mail = MessageParser::new().parse(&raw).unwrap();
    let types: Vec<String> = mail
        .parts
        .iter()
        .map(|p| {
            let ct = p.content_type().unwrap();
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
        })
        .collect();
    assert_eq!(
        types,
        [
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png"
        ],
        "{source}"
    );
    let related = mail.parts[2].content_type().unwrap();
    assert_eq!(related.attribute("type"), Some("text/html"), "{source}");
    assert_eq!(
        mail.parts[3].contents(),
        b"<p>see <img src=\"cid:pic1@im.example.test\"></p>"
    );
    assert_eq!(mail.parts[4].content_id(), Some("pic1@im.example.test"));
    assert_eq!(mail.parts[4].contents(), PNG);
}

#[test]
fn the_same_inside_cpim_over_msrp_and_typing_there_is_dropped() {
    let w = world(&[]);
    let ims = Ims::new(w.ports.sip);
    let our_path = "msrp://127.0.0.1:7654/mpart1;tcp";
    let their_path = ims.set_up(
        "sip:bob@mail.example.test",
        "mpinv1",
        our_path,
        w.ports.msrp,
    );
    let mut link = im_side::connect(w.ports.msrp);
    let paths = (their_path.as_str(), our_path);
    let cpim = |content_type: &str, content: &[u8]| {
        let mut bytes = format!(
            "From: <sip:alice@im.example.test>\r\nTo: <sip:bob@mail.example.test>\r\n\
DateTime: 2026-12-07T09:30:00+01:00\r\n\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        bytes.extend_from_slice(content);
        bytes
    };
    // The user types, then sends (RCS wraps both in CPIM).
    let typing = cpim("application/im-iscomposing+xml", TYPING.as_bytes());
    let ok = im_side::send_message(&mut link, paths, "typing-1", "message/cpim", &typing);
    assert!(ok.starts_with("MSRP t-typing-1 200 OK"), "{ok}");
    let content = cpim("multipart/mixed; boundary=cpim-b", &text_and_png("cpim-b"));
    let ok = im_side::send_message(&mut link, paths, "mixed-1", "message/cpim", &content);
    assert!(ok.starts_with("MSRP t-mixed-1 200 OK"), "{ok}");
    assert_text_and_png(&w.only_mail());
    assert_eq!(
        w.metric("interwork_typing_indications_total{mode=\"large\"}"),
        1.0
    );
    let bye = ims.request(&im_side::sip(
        "BYE",
        "sip:bob@mail.example.test",
        2,
        "mpinv1",
        "",
        b"",
    ));
    assert!(bye.starts_with("SIP/2.0 200 OK"), "{bye}");
}

/// The value of a header line in a SIP answer.
fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn each_rfc_3261_uas_check_has_its_answer() {
    let w = world(&[]);
    // §8.2.2.3 with sipp: a required extension we do not support.
    w.sipp(&message(&["Require: foo"], "text/plain", "hi", 420), 1);
    let ims = Ims::new(w.ports.sip);
    let bob = "sip:bob@mail.example.test";
    let plain = "Content-Type: text/plain\r\n";
    let ask = |method: &str, to: &str, branch: &str, extra: &str| {
        ims.request(&im_side::sip(method, to, 1, branch, extra, b"hi"))
    };
    // §8.2.2.3: 420, naming each unsupported option tag.
    let answer = ask(
        "MESSAGE",
        bob,
        "req1",
        &format!("Require: foo, bar\r\n{plain}"),
    );
    assert!(answer.starts_with("SIP/2.0 420 Bad Extension"), "{answer}");
    assert_eq!(header(&answer, "Unsupported"), Some("foo, bar"), "{answer}");
    // §8.2.1: a method we do not serve.
    let answer = ask("SUBSCRIBE", bob, "sub1", plain);
    assert!(answer.starts_with("SIP/2.0 405 "), "{answer}");
    assert!(
        header(&answer, "Allow").is_some_and(|a| a.contains("MESSAGE")),
        "{answer}"
    );
    // §8.2.2.1: a Request-URI scheme we do not serve.
    let answer = ask("MESSAGE", "im:bob@mail.example.test", "uri1", plain);
    assert!(answer.starts_with("SIP/2.0 416 "), "{answer}");
    // §8.2.2.2 / §12.2.2: a To tag of no dialog of ours.
    let tagged = String::from_utf8(im_side::sip("MESSAGE", bob, 1, "tag1", plain, b"hi"))
        .unwrap()
        .replace(
            "To: <sip:bob@mail.example.test>",
            "To: <sip:bob@mail.example.test>;tag=old",
        );
    let answer = ims.request(tagged.as_bytes());
    assert!(answer.starts_with("SIP/2.0 481 "), "{answer}");
    // §8.2.3: content we cannot take, with the three lists.
    let answer = ask("MESSAGE", bob, "ct1", "Content-Type: message/sipfrag\r\n");
    assert!(answer.starts_with("SIP/2.0 415 "), "{answer}");
    assert!(
        header(&answer, "Accept").is_some_and(|a| a.contains("multipart/mixed")),
        "{answer}"
    );
    assert_eq!(
        header(&answer, "Accept-Encoding"),
        Some("identity"),
        "{answer}"
    );
    assert_eq!(header(&answer, "Accept-Language"), Some("*"), "{answer}");
    let answer = ask(
        "MESSAGE",
        bob,
        "ce1",
        &format!("Content-Encoding: gzip\r\n{plain}"),
    );
    assert!(answer.starts_with("SIP/2.0 415 "), "{answer}");
    // §8.2.2.2: the same request by a second path (a forking proxy): the
    // first is delivered, the copy is 482 (Via branch differs; From tag,
    // Call-ID and CSeq do not).
    let first = im_side::sip("MESSAGE", bob, 7, "fork-a", plain, b"forked");
    let answer = ims.request(&first);
    assert!(answer.starts_with("SIP/2.0 202 "), "{answer}");
    let copy = String::from_utf8(first)
        .unwrap()
        .replace("branch=z9hG4bK-fork-a", "branch=z9hG4bK-fork-b");
    let answer = ims.request(copy.as_bytes());
    assert!(answer.starts_with("SIP/2.0 482 "), "{answer}");
    // Only the forked message became a mail.
    let mail = MessageParser::new()
        .parse(&w.only_mail())
        .unwrap()
        .body_text(0)
        .map(|t| t.trim().to_string());
    assert_eq!(mail.as_deref(), Some("forked"));
}

/// Bytes that look like a file and compress to nothing useful.
fn file_of(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// An FT-HTTP document (RCC.07 §3.2.5) for a file at `file_url`, with a
/// PNG thumbnail at `thumbnail_url`.
fn ft_http(file_url: &str, size: usize, thumbnail_url: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp">
  <file-info type="thumbnail">
    <file-size>{}</file-size>
    <content-type>image/png</content-type>
    <data url="{thumbnail_url}" until="2026-12-14T10:00:00Z"/>
  </file-info>
  <file-info type="file" file-disposition="attachment">
    <file-size>{size}</file-size>
    <file-name>holiday.mp4</file-name>
    <content-type>video/mp4</content-type>
    <data url="{file_url}" until="2026-12-14T10:00:00Z"/>
  </file-info>
</file>"#,
        PNG.len()
    )
}

/// The mail's leaves (no multipart containers).
fn leaves<'a>(mail: &'a mail_parser::Message<'a>) -> Vec<&'a mail_parser::MessagePart<'a>> {
    mail.parts
        .iter()
        .filter(|p| !matches!(p.body, PartType::Multipart(_)))
        .collect()
}

/// Sends an FT-HTTP document in a pager MESSAGE (sipp); the mail it made.
fn ft_http_by_pager(w: &MxWorld, document: &str) -> Vec<u8> {
    w.sipp(
        &message(&[], "application/vnd.gsma.rcs-ft-http+xml", document, 202),
        1,
    );
    w.only_mail()
}

/// A gateway that fetches from `server` (and no other host).
fn fetching_world(server: &Peer, extra: &[(&str, &str)]) -> MxWorld {
    let allowed = format!("allowed_hosts = [\"127.0.0.1:{}\"]", server.port);
    let mut lines = vec![("allowed_hosts = []", allowed.as_str())];
    lines.extend_from_slice(extra);
    world(&lines)
}

#[test]
fn an_ft_http_message_becomes_a_mail_with_the_file_byte_for_byte() {
    let video = file_of(5_000_000, 7);
    let server = peers::content_server(&[("f/holiday.mp4", &video), ("t/thumb.png", PNG)]);
    let w = fetching_world(&server, &[]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let document = ft_http(
        &format!("{base}/f/holiday.mp4"),
        video.len(),
        &format!("{base}/t/thumb.png"),
    );
    let raw = ft_http_by_pager(&w, &document);
    let mail = MessageParser::new().parse(&raw).unwrap();
    let parts = leaves(&mail);
    assert_eq!(
        parts.len(),
        2,
        "{}",
        String::from_utf8_lossy(&raw[..2000.min(raw.len())])
    );
    assert_eq!(
        parts[0].contents(),
        b"File: holiday.mp4 (video/mp4, 4.8 MB), attached.\r\n"
    );
    assert_eq!(parts[1].attachment_name(), Some("holiday.mp4"));
    let ct = parts[1].content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("video", Some("mp4")));
    assert!(
        parts[1].contents() == video.as_slice(),
        "the file, byte for byte"
    );
    // Only the file was fetched: with the file attached the thumbnail is
    // not needed.
    let requests = peers::content_server_log(&server);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].contains("GET /f/holiday.mp4 "), "{requests:?}");
    assert_eq!(
        w.metric("interwork_file_transfers_total{result=\"attached\"}"),
        1.0
    );
}

#[test]
fn a_file_too_large_for_a_mail_leaves_the_link_and_the_thumbnail_over_msrp() {
    let video = file_of(7_000_000, 11);
    let server = peers::content_server(&[("f/big.mp4", &video), ("t/thumb.png", PNG)]);
    // Mails of 8 MiB hold a file of about 6 MB once base64-encoded.
    let mut w = fetching_world(
        &server,
        &[("mail_max_bytes = 26214400", "mail_max_bytes = 8388608")],
    );
    let base = format!("http://127.0.0.1:{}", server.port);
    let file_url = format!("{base}/f/big.mp4");
    let document = ft_http(&file_url, video.len(), &format!("{base}/t/thumb.png"));
    // Over MSRP, inside CPIM, as RCS clients send it in a chat.
    let ims = Ims::new(w.ports.sip);
    let our_path = "msrp://127.0.0.1:7654/ft1;tcp";
    let their_path = ims.set_up(
        "sip:bob@mail.example.test",
        "ftinv1",
        our_path,
        w.ports.msrp,
    );
    let mut link = im_side::connect(w.ports.msrp);
    let cpim = format!(
        "From: <sip:alice@im.example.test>\r\nTo: <sip:bob@mail.example.test>\r\n\r\n\
Content-Type: application/vnd.gsma.rcs-ft-http+xml\r\n\r\n{document}"
    );
    let ok = im_side::send_message(
        &mut link,
        (&their_path, our_path),
        "ft-1",
        "message/cpim",
        cpim.as_bytes(),
    );
    assert!(ok.starts_with("MSRP t-ft-1 200 OK"), "{ok}");
    let raw = w.only_mail();
    assert!(
        raw.len() < 100_000,
        "the file is not in the mail: {} bytes",
        raw.len()
    );
    let mail = MessageParser::new().parse(&raw).unwrap();
    let parts = leaves(&mail);
    assert_eq!(parts.len(), 2, "{}", String::from_utf8_lossy(&raw));
    let text = String::from_utf8_lossy(parts[0].contents()).into_owned();
    assert_eq!(
        text,
        format!(
            "File: holiday.mp4 (video/mp4, 6.7 MB)\r\nDownload: {file_url}\r\n\
Available until: Mon, 14 Dec 2026 10:00:00 +0000\r\n"
        )
    );
    // The thumbnail, inline, byte for byte.
    assert_eq!(parts[1].contents(), PNG);
    assert!(
        parts[1]
            .content_disposition()
            .is_some_and(|d| d.ctype() == "inline"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    // The big file was never asked for.
    let requests = peers::content_server_log(&server);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].contains("GET /t/thumb.png "), "{requests:?}");
    assert!(
        w.gateway
            .has_logged("file transfer not attached: the file is 7000000 bytes"),
        "{}",
        w.gateway.log.join("\n")
    );
}

#[test]
fn an_ft_http_url_outside_the_allow_list_leaves_the_link_and_says_why() {
    let video = file_of(10_000, 3);
    let server = peers::content_server(&[("f/clip.mp4", &video), ("t/thumb.png", PNG)]);
    let mut w = fetching_world(&server, &[]);
    // localhost is the same server, but not the allow-listed name.
    let base = format!("http://localhost:{}", server.port);
    let file_url = format!("{base}/f/clip.mp4");
    let document = ft_http(&file_url, video.len(), &format!("{base}/t/thumb.png"));
    let raw = ft_http_by_pager(&w, &document);
    let mail = MessageParser::new().parse(&raw).unwrap();
    let parts = leaves(&mail);
    assert_eq!(
        parts.len(),
        1,
        "no file, no thumbnail: {}",
        String::from_utf8_lossy(&raw)
    );
    let text = String::from_utf8_lossy(parts[0].contents()).into_owned();
    assert!(
        text.contains(&format!("Download: {file_url}\r\n")),
        "{text}"
    );
    assert!(
        peers::content_server_log(&server).is_empty(),
        "nothing was fetched"
    );
    let why = format!(
        "localhost:{} is not in file_transfer.allowed_hosts",
        server.port
    );
    assert!(
        w.gateway.has_logged(&why),
        "{why}: {}",
        w.gateway.log.join("\n")
    );
    assert_eq!(
        w.metric("interwork_file_transfers_total{result=\"linked\"}"),
        1.0
    );
}
