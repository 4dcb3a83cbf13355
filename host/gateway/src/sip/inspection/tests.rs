//! Each §8.2 step with the request that trips it, and one that passes.

use interwork_proto::sip::{Limits, Message, Request, parse_datagram};

use super::*;

fn request(
    method: &str,
    uri: &str,
    to: &str,
    extra: &str,
    content_type: &str,
    body: &str,
) -> Request {
    let content = if body.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {content_type}\r\n")
    };
    let text = format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n\
         From: <sip:a@im.example.test>;tag=1\r\nTo: {to}\r\nCall-ID: c1\r\n\
         CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}{content}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    match parse_datagram(text.as_bytes(), &Limits::default()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn message(extra: &str, content_type: &str) -> Request {
    request(
        "MESSAGE",
        "sip:b@mail.example.test",
        "<sip:b@mail.example.test>",
        extra,
        content_type,
        "hi",
    )
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn no_dialog(_: &str) -> bool {
    false
}

#[test]
fn a_plain_message_passes_every_step() {
    assert_eq!(inspect(&message("", "text/plain"), no_dialog), Ok(()));
}

#[test]
fn an_unknown_method_is_405_with_allow() {
    let r = request("SUBSCRIBE", "sip:b@x.test", "<sip:b@x.test>", "", "", "");
    let answer = inspect(&r, no_dialog).unwrap_err();
    assert_eq!(answer.code, 405);
    assert_eq!(header(&answer, "Allow"), Some(ALLOW));
}

#[test]
fn a_request_uri_of_another_scheme_is_416() {
    for uri in ["im:b@x.test", "mailto:b@x.test", "pres:b@x.test"] {
        let r = request("MESSAGE", uri, "<sip:b@x.test>", "", "text/plain", "hi");
        assert_eq!(inspect(&r, no_dialog).unwrap_err().code, 416, "{uri}");
    }
    let tel = request(
        "MESSAGE",
        "tel:+15551234567",
        "<tel:+15551234567>",
        "",
        "text/plain",
        "hi",
    );
    assert_eq!(inspect(&tel, no_dialog), Ok(()));
}

#[test]
fn a_to_tag_of_no_dialog_is_481_and_a_reinvite_488() {
    let tagged = request(
        "MESSAGE",
        "sip:b@x.test",
        "<sip:b@x.test>;tag=9",
        "",
        "text/plain",
        "hi",
    );
    assert_eq!(inspect(&tagged, no_dialog).unwrap_err().code, 481);
    assert_eq!(inspect(&tagged, |call_id| call_id == "c1"), Ok(()));
    let reinvite = request(
        "INVITE",
        "sip:b@x.test",
        "<sip:b@x.test>;tag=9",
        "",
        "application/sdp",
        "v=0\r\n",
    );
    assert_eq!(inspect(&reinvite, |_| true).unwrap_err().code, 488);
    assert_eq!(inspect(&reinvite, no_dialog).unwrap_err().code, 481);
}

#[test]
fn an_unsupported_required_extension_is_420_naming_it() {
    let answer = inspect(
        &message("Require: foo, 100rel\r\nRequire: foo\r\n", "text/plain"),
        no_dialog,
    )
    .unwrap_err();
    assert_eq!(
        (answer.code, answer.reason.as_str()),
        (420, "Bad Extension")
    );
    assert_eq!(header(&answer, "Unsupported"), Some("foo, 100rel"));
    assert_eq!(header(&answer, "Supported"), Some(uri_list::OPTION_TAG));
    // What the gateway supports passes: RFC 5365's option tag.
    let group = message("Require: recipient-list-message\r\n", "text/plain");
    assert_eq!(inspect(&group, no_dialog), Ok(()));
    // Not for INVITE, and never for CANCEL.
    let invite = request(
        "INVITE",
        "sip:b@x.test",
        "<sip:b@x.test>",
        "Require: recipient-list-message\r\n",
        "application/sdp",
        "v=0\r\n",
    );
    assert_eq!(inspect(&invite, no_dialog).unwrap_err().code, 420);
    let cancel = request(
        "CANCEL",
        "sip:b@x.test",
        "<sip:b@x.test>",
        "Require: foo\r\n",
        "",
        "",
    );
    assert_eq!(inspect(&cancel, no_dialog), Ok(()));
}

#[test]
fn content_the_gateway_cannot_take_is_415_with_the_three_lists() {
    for (extra, content_type) in [
        ("", "message/sipfrag"),
        ("", "multipart/signed; boundary=x"),
        ("", "application/sdp"),
        ("Content-Encoding: gzip\r\n", "text/plain"),
    ] {
        let answer = inspect(&message(extra, content_type), no_dialog).unwrap_err();
        assert_eq!(answer.code, 415, "{extra}{content_type}");
        assert_eq!(header(&answer, "Accept"), Some(ACCEPTED_TYPES));
        assert_eq!(header(&answer, "Accept-Encoding"), Some("identity"));
        assert_eq!(header(&answer, "Accept-Language"), Some("*"));
    }
    for content_type in [
        "multipart/mixed; boundary=x",
        "multipart/related; boundary=x",
        "message/cpim",
        "application/im-iscomposing+xml",
        "image/png",
    ] {
        assert_eq!(
            inspect(&message("", content_type), no_dialog),
            Ok(()),
            "{content_type}"
        );
    }
    let identity = message(
        "Content-Encoding: identity\r\nContent-Language: de\r\n",
        "text/plain",
    );
    assert_eq!(inspect(&identity, no_dialog), Ok(()));
    let invite = request(
        "INVITE",
        "sip:b@x.test",
        "<sip:b@x.test>",
        "",
        "text/plain",
        "hi",
    );
    let answer = inspect(&invite, no_dialog).unwrap_err();
    assert_eq!(header(&answer, "Accept"), Some("application/sdp"));
    // An INVITE without an offer.
    let offerless = request("INVITE", "sip:b@x.test", "<sip:b@x.test>", "", "", "");
    assert_eq!(inspect(&offerless, no_dialog).unwrap_err().code, 415);
}
