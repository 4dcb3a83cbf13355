use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// Alice's offer in the RFC 4975 §8.7 example SDP exchange.
const RFC4975_OFFER: &str = include_str!("../../../../testdata/sdp/rfc4975-s8.7-offer");

/// Bob's answer in the same exchange.
const RFC4975_ANSWER: &str = include_str!("../../../../testdata/sdp/rfc4975-s8.7-answer");

/// Content-type negotiation in the style of RFC 4975 §8.6: CPIM wrapping
/// and a size limit.
const WRAPPED_TYPES_OFFER: &str = include_str!("../../../../testdata/sdp/wrapped-types-offer");

/// An offer as a SIPp scenario sends it: indented lines, LF only, padding
/// between and after fields, an audio stream besides MSRP, blank lines.
const SIPP_OFFER: &str = include_str!("../../../../testdata/sdp/sipp-offer");

fn written(description: &SessionDescription) -> String {
    let mut out = Vec::new();
    write(description, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn gateway() -> MsrpAnswerParams {
    MsrpAnswerParams {
        origin_user: "interwork".to_owned(),
        session_id: 1,
        session_version: 1,
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 2855,
        path: "msrp://127.0.0.1:2855/gw1;tcp".to_owned(),
        accept_types: vec!["message/cpim".to_owned(), "text/plain".to_owned()],
        accept_wrapped_types: vec!["text/plain".to_owned()],
        max_size: Some(65_536),
    }
}

fn offer_with_setup(setup: &str) -> SessionDescription {
    let text = RFC4975_OFFER.to_owned() + setup;
    parse(text.as_bytes()).unwrap()
}

#[test]
fn rfc4975_exchange_parses_and_round_trips_byte_exact() {
    let offer = parse(RFC4975_OFFER.as_bytes()).unwrap();
    assert_eq!(offer.origin.username, "alice");
    assert_eq!(offer.origin.session_version, "2890844559");
    assert_eq!(offer.session_name, " -");
    assert_eq!(
        offer.connection.as_ref().unwrap().address,
        "alicepc.example.com"
    );
    let msrp = offer.msrp_media().unwrap();
    assert_eq!(msrp.port, 7777);
    assert_eq!(msrp.formats, ["*"]);
    assert_eq!(msrp.accept_types, ["text/plain"]);
    assert_eq!(
        msrp.path,
        ["msrp://alicepc.example.com:7777/iau39soe2843z;tcp"]
    );
    assert_eq!(offer.setup_of(msrp), None);
    assert_eq!(offer.direction_of(msrp), Direction::SendRecv);
    assert_eq!(written(&offer), RFC4975_OFFER);

    let answer = parse(RFC4975_ANSWER.as_bytes()).unwrap();
    assert_eq!(answer.msrp_media().unwrap().port, 8888);
    assert_eq!(written(&answer), RFC4975_ANSWER);
}

#[test]
fn wrapped_types_and_max_size_round_trip() {
    let offer = parse(WRAPPED_TYPES_OFFER.as_bytes()).unwrap();
    let msrp = offer.msrp_media().unwrap();
    assert_eq!(
        msrp.accept_types,
        ["message/cpim", "text/plain", "text/html"]
    );
    assert_eq!(
        msrp.accept_wrapped_types,
        ["text/plain", "image/jpeg", "image/gif", "image/png"]
    );
    assert_eq!(msrp.max_size, Some(131_072));
    assert_eq!(written(&offer), WRAPPED_TYPES_OFFER);
}

#[test]
fn sipp_offer_is_read_and_answered() {
    let offer = parse(SIPP_OFFER.as_bytes()).unwrap();
    assert_eq!(offer.media.len(), 2);
    assert_eq!(offer.connection.as_ref().unwrap().address, "127.0.0.1");
    let msrp = &offer.media[1];
    assert!(msrp.is_msrp());
    assert_eq!(msrp.accept_types, ["text/plain", "message/cpim"]);
    assert_eq!(msrp.setup, Some(Setup::ActPass));
    assert_eq!(msrp.direction, Some(Direction::SendRecv));
    assert_eq!(
        offer.media[0].other_lines,
        [SdpLine {
            kind: 'a',
            value: "rtpmap:0 PCMU/8000".to_owned()
        }]
    );
    let rewritten = written(&offer);
    assert!(
        rewritten.contains("c=IN IP4 127.0.0.1\r\nt=0 0\r\n"),
        "{rewritten}"
    );
    assert_eq!(parse(rewritten.as_bytes()).unwrap(), offer);

    let answer = answer_msrp(&offer, &gateway()).unwrap();
    let expected = "v=0\r\n\
o=interwork 1 1 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 0 RTP/AVP 0\r\n\
m=message 2855 TCP/MSRP *\r\n\
a=accept-types:message/cpim text/plain\r\n\
a=accept-wrapped-types:text/plain\r\n\
a=max-size:65536\r\n\
a=path:msrp://127.0.0.1:2855/gw1;tcp\r\n\
a=setup:passive\r\n\
a=sendrecv\r\n";
    assert_eq!(written(&answer), expected);
    assert_eq!(parse(expected.as_bytes()).unwrap(), answer);
}

#[test]
fn answer_to_rfc4975_offer() {
    let offer = parse(RFC4975_OFFER.as_bytes()).unwrap();
    let answer = answer_msrp(&offer, &gateway()).unwrap();
    assert_eq!(answer.media.len(), 1);
    let msrp = answer.msrp_media().unwrap();
    assert_eq!(msrp.proto, "TCP/MSRP");
    // No a=setup offered: RFC 4975's model, the offerer connects to us.
    assert_eq!(msrp.setup, Some(Setup::Passive));
    assert_eq!(msrp.direction, None);
    assert_eq!(answer.timing, offer.timing);
}

#[test]
fn setup_roles_follow_rfc6135() {
    for (offered, answered) in [
        ("a=setup:actpass\r\n", Setup::Passive),
        ("a=setup:active\r\n", Setup::Passive),
        ("a=setup:passive\r\n", Setup::Active),
        ("", Setup::Passive),
    ] {
        let answer = answer_msrp(&offer_with_setup(offered), &gateway()).unwrap();
        assert_eq!(answer.media[0].setup, Some(answered), "{offered:?}");
    }
    assert_eq!(
        answer_msrp(&offer_with_setup("a=setup:holdconn\r\n"), &gateway()),
        Err(SdpError::UnsupportedSetup("holdconn"))
    );
    // Session-level a=setup applies to the media too.
    let session_level = RFC4975_OFFER.replace("t=0 0\r\n", "t=0 0\r\na=setup:passive\r\n");
    let offer = parse(session_level.as_bytes()).unwrap();
    assert_eq!(offer.setup, Some(Setup::Passive));
    let answer = answer_msrp(&offer, &gateway()).unwrap();
    assert_eq!(answer.media[0].setup, Some(Setup::Active));
}

#[test]
fn direction_is_mirrored() {
    for (offered, answered) in [
        ("a=sendonly\r\n", Direction::RecvOnly),
        ("a=recvonly\r\n", Direction::SendOnly),
        ("a=inactive\r\n", Direction::Inactive),
        ("a=sendrecv\r\n", Direction::SendRecv),
    ] {
        let answer = answer_msrp(&offer_with_setup(offered), &gateway()).unwrap();
        assert_eq!(answer.media[0].direction, Some(answered), "{offered:?}");
    }
}

#[test]
fn tls_transport_must_match_our_path() {
    let tls_offer = RFC4975_OFFER
        .replace("TCP/MSRP", "TCP/TLS/MSRP")
        .replace("msrp://", "msrps://");
    let offer = parse(tls_offer.as_bytes()).unwrap();
    assert!(matches!(
        answer_msrp(&offer, &gateway()),
        Err(SdpError::TransportMismatch { .. })
    ));
    let mut tls_gateway = gateway();
    tls_gateway.path = "msrps://gw.example.com:2855/gw1;tcp".to_owned();
    let answer = answer_msrp(&offer, &tls_gateway).unwrap();
    assert_eq!(answer.media[0].proto, "TCP/TLS/MSRP");
    let plain_offer = parse(RFC4975_OFFER.as_bytes()).unwrap();
    assert!(matches!(
        answer_msrp(&plain_offer, &tls_gateway),
        Err(SdpError::TransportMismatch { .. })
    ));
}

#[test]
fn offers_without_usable_msrp_are_refused() {
    let audio_only = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    let offer = parse(audio_only.as_bytes()).unwrap();
    assert_eq!(answer_msrp(&offer, &gateway()), Err(SdpError::NoMsrpMedia));

    let disabled = RFC4975_OFFER.replace("m=message 7777", "m=message 0");
    let offer = parse(disabled.as_bytes()).unwrap();
    assert_eq!(answer_msrp(&offer, &gateway()), Err(SdpError::NoMsrpMedia));

    let no_path = RFC4975_OFFER.replace(
        "a=path:msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n",
        "",
    );
    let offer = parse(no_path.as_bytes()).unwrap();
    assert_eq!(
        answer_msrp(&offer, &gateway()),
        Err(SdpError::MissingPath { media: 0 })
    );
}

#[test]
fn only_the_first_msrp_line_is_accepted() {
    let two = RFC4975_OFFER.to_owned()
        + "m=message 7778 TCP/MSRP *\r\na=accept-types:text/plain\r\na=path:msrp://alicepc.example.com:7778/two;tcp\r\n";
    let offer = parse(two.as_bytes()).unwrap();
    let answer = answer_msrp(&offer, &gateway()).unwrap();
    assert_eq!(answer.media.len(), 2);
    assert_eq!(answer.media[0].port, 2855);
    assert_eq!(answer.media[1].port, 0);
    assert_eq!(answer.media[1].formats, ["*"]);
    assert!(answer.media[1].path.is_empty());
}

#[test]
fn gateway_parameters_are_checked() {
    let offer = parse(RFC4975_OFFER.as_bytes()).unwrap();
    let cases: [fn(&mut MsrpAnswerParams); 5] = [
        |p| p.accept_types.clear(),
        |p| p.path = "sip:gw@example.com".to_owned(),
        |p| p.path = "  ".to_owned(),
        |p| p.path = "msrp://gw/1;tcp\r\na=evil".to_owned(),
        |p| p.origin_user = "inter work".to_owned(),
    ];
    for break_it in cases {
        let mut params = gateway();
        break_it(&mut params);
        assert!(matches!(
            answer_msrp(&offer, &params),
            Err(SdpError::InvalidValue { .. })
        ));
    }
    let mut with_relay = gateway();
    with_relay.path =
        "msrp://relay.example.com:2855/r;tcp msrp://127.0.0.1:2855/gw1;tcp".to_owned();
    let answer = answer_msrp(&offer, &with_relay).unwrap();
    assert_eq!(answer.media[0].path.len(), 2);
}

#[test]
fn own_offer_round_trips() {
    let offer = msrp_offer(&gateway(), Setup::ActPass).unwrap();
    let text = written(&offer);
    assert!(text.contains("m=message 2855 TCP/MSRP *\r\n"), "{text}");
    assert!(text.contains("a=setup:actpass\r\n"));
    assert_eq!(parse(text.as_bytes()).unwrap(), offer);

    let mut ipv6 = gateway();
    ipv6.address = IpAddr::V6(Ipv6Addr::LOCALHOST);
    ipv6.path = "msrps://[::1]:2855/gw1;tcp".to_owned();
    let offer = msrp_offer(&ipv6, Setup::Passive).unwrap();
    let text = written(&offer);
    assert!(text.contains("o=interwork 1 1 IN IP6 ::1\r\n"), "{text}");
    assert!(text.contains("c=IN IP6 ::1\r\n"));
    assert!(text.contains("m=message 2855 TCP/TLS/MSRP *\r\n"));
    assert_eq!(parse(text.as_bytes()).unwrap(), offer);

    assert_eq!(
        msrp_offer(&gateway(), Setup::HoldConn),
        Err(SdpError::UnsupportedSetup("holdconn"))
    );
}

#[test]
fn unknown_lines_are_kept_in_order() {
    let text = "v=0\r\n\
o=- 1 2 IN IP4 10.0.0.1\r\n\
s=chat\r\n\
a=tool:sipp\r\n\
i=session info\r\n\
c=IN IP4 10.0.0.1\r\n\
b=AS:64\r\n\
t=0 0\r\n\
r=7d 1h 0 25h\r\n\
m=message 9 TCP/MSRP *\r\n\
a=msrp-cema\r\n\
c=IN IP4 10.0.0.2\r\n\
a=connection:new\r\n\
b=AS:32\r\n\
a=path:msrp://10.0.0.2:9/x;tcp\r\n";
    let description = parse(text.as_bytes()).unwrap();
    let kinds: Vec<char> = description.other_lines.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, ['i', 'b', 'a']);
    assert_eq!(description.timing[0].repeats, ["7d 1h 0 25h"]);
    let media = &description.media[0];
    assert_eq!(media.connection.as_ref().unwrap().address, "10.0.0.2");
    let media_kinds: Vec<&str> = media.other_lines.iter().map(|l| l.value.as_str()).collect();
    assert_eq!(media_kinds, ["AS:32", "msrp-cema", "connection:new"]);
    let rewritten = written(&description);
    assert_eq!(parse(rewritten.as_bytes()).unwrap(), description);
    assert!(rewritten.starts_with("v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=chat\r\ni=session info\r\nc=IN IP4 10.0.0.1\r\nb=AS:64\r\nt=0 0\r\nr=7d 1h 0 25h\r\na=tool:sipp\r\n"), "{rewritten}");
}

#[test]
fn malformed_descriptions_are_rejected() {
    let base = RFC4975_OFFER;
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "missing"),
        (base.replace("v=0", "v=1"), "start with v=0"),
        (base.replace("v=0\r\n", ""), "start with v=0"),
        (base.replace("s= -", "s -"), "<letter>=<value>"),
        (base.replace("s= -", "S= -"), "<letter>=<value>"),
        (base.replace("s= -", "y= -"), "unknown line type"),
        (
            base.replace(" IN IP4 alicepc.example.com\r\ns=", " IN IP4\r\ns="),
            "6 fields",
        ),
        (base.replace("2890844557", "28908x4557"), "numeric"),
        (
            base.replace("c=IN IP4 alicepc.example.com", "c=IN IP4"),
            "3 fields",
        ),
        (base.replace("t=0 0", "t=0"), "two numeric"),
        (base.replace("m=message 7777", "m=message 77777"), "port"),
        (
            base.replace("m=message 7777", "m=message 7777/x"),
            "port count",
        ),
        (
            base.replace("m=message 7777 TCP/MSRP *", "m=message 7777 TCP/MSRP"),
            "m= needs",
        ),
        (
            base.replace("a=accept-types:text/plain", "a=accept-types:"),
            "at least one",
        ),
        (
            base.replace("a=accept-types:text/plain", "a=max-size:lots"),
            "max-size",
        ),
        (
            base.replace("a=accept-types:text/plain", "a=setup:sometimes"),
            "a=setup",
        ),
        (
            base.replace("a=accept-types:text/plain", "a=path:msrp://a/b;tcp"),
            "more than one a=path",
        ),
        (base.replace("o=alice", "x=alice"), "unknown line type"),
        (base.replace("t=0 0\r\n", "r=1 2 3\r\n"), "r= must follow"),
        (base.to_owned() + "t=0 0\r\n", "session-level"),
        (base.to_owned() + "s=again\r\n", "session-level"),
        (
            base.replace("s= -\r\n", "s= -\r\ns=x\r\n"),
            "more than one s=",
        ),
        (
            base.replace("a=accept-types:text/plain", "a=text\u{7}"),
            "control character",
        ),
    ];
    for (text, expected) in cases {
        match parse(text.as_bytes()) {
            Err(error) => assert!(error.to_string().contains(expected), "{text:?}: {error}"),
            Ok(_) => panic!("accepted {text:?}"),
        }
    }
    assert_eq!(
        parse(b"v=0\r\ns=-\r\nt=0 0\r\n"),
        Err(SdpError::MissingLine("o="))
    );
    assert_eq!(
        parse(b"v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n"),
        Err(SdpError::MissingLine("s="))
    );
    assert_eq!(
        parse(b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n"),
        Err(SdpError::MissingLine("t="))
    );
    assert_eq!(parse(b"v=0\r\ns=\xff\r\n"), Err(SdpError::NotUtf8));
}

#[test]
fn write_refuses_line_breaks_and_inconsistent_values() {
    let offer = parse(RFC4975_OFFER.as_bytes()).unwrap();
    let breakers: [fn(&mut SessionDescription); 9] = [
        |d| d.session_name = "x\r\nm=audio 1 RTP/AVP 0".to_owned(),
        |d| d.session_name = "x\ny".to_owned(),
        |d| d.media[0].path = vec!["msrp://a/b;tcp c=IN".to_owned()],
        |d| d.origin.username = "a\r\nb".to_owned(),
        |d| d.media[0].accept_types.push(String::new()),
        |d| d.timing.clear(),
        |d| {
            d.other_lines.push(SdpLine {
                kind: 'c',
                value: "IN IP4 x".to_owned(),
            })
        },
        |d| {
            d.media[0].other_lines.push(SdpLine {
                kind: 'a',
                value: "setup:active".to_owned(),
            })
        },
        |d| {
            d.other_lines.push(SdpLine {
                kind: 'a',
                value: "x".to_owned(),
            });
            d.other_lines.push(SdpLine {
                kind: 'i',
                value: "late".to_owned(),
            });
        },
    ];
    for break_it in breakers {
        let mut description = offer.clone();
        break_it(&mut description);
        let mut out = b"untouched".to_vec();
        assert!(matches!(
            write(&description, &mut out),
            Err(SdpError::InvalidValue { .. })
        ));
        assert_eq!(out, b"untouched");
    }
}

#[test]
fn never_panics_on_damaged_input() {
    let sample = WRAPPED_TYPES_OFFER.as_bytes();
    for end in 0..=sample.len() {
        let _ = parse(&sample[..end]);
    }
    for index in 0..sample.len() {
        for replacement in [b'\r', b'\n', b'=', b' ', b':', b'/', b'x', 0xff, 0] {
            let mut damaged = sample.to_vec();
            damaged[index] = replacement;
            if let Ok(description) = parse(&damaged) {
                let mut out = Vec::new();
                write(&description, &mut out).unwrap();
                assert_eq!(parse(&out).unwrap(), description);
                let _ = answer_msrp(&description, &gateway());
            }
        }
    }
}
