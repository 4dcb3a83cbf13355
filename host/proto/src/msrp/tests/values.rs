//! URI, Byte-Range and Status values on their own.

use crate::msrp::{ByteRange, MsrpUri, Status};

#[test]
fn uris_display_back_to_their_text() {
    for text in [
        "msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp",
        "msrps://bob.example.com/9di4eae923wzd;tcp",
        "msrp://[::1]:2855/abc;tcp",
        "msrp://[2001:db8::5]/s+i=d/x;tcp",
        "msrps://alice@intra.example.com;tcp",
        "msrp://192.0.2.1:7/sid;ws;foo=bar;lr",
    ] {
        let uri: MsrpUri = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(uri.to_string(), text);
    }
}

#[test]
fn uri_fields_are_split_out() {
    let uri: MsrpUri = "MSRPS://[::1]:2855/abc;TCP".parse().unwrap();
    assert_eq!(uri, {
        let mut expected = MsrpUri::new(true, "::1", Some(2855), "abc");
        expected.transport = "tcp".into();
        expected
    });
    // Scheme and transport are case-insensitive and come out lower-case.
    assert_eq!(uri.to_string(), "msrps://[::1]:2855/abc;tcp");
    let relay: MsrpUri = "msrps://alice@intra.example.com;tcp".parse().unwrap();
    assert_eq!(relay.user.as_deref(), Some("alice"));
    assert_eq!(relay.session_id, "");
}

#[test]
fn bad_uris_are_rejected() {
    for text in [
        "",
        "msrp:",
        "msrp://",
        "http://a.example/s;tcp",
        "msrp://a.example/s",
        "msrp://a.example/;tcp",
        "msrp://a.example:70000/s;tcp",
        "msrp://a.example:/s;tcp",
        "msrp://a.example:12ab/s;tcp",
        "msrp://[::1/s;tcp",
        "msrp://[zz]/s;tcp",
        "msrp://[::1]x/s;tcp",
        "msrp:///s;tcp",
        "msrp://a b/s;tcp",
        "msrp://a.example/s;",
        "msrp://a.example/s;t-c-p",
        "msrp://a.example/s;tcp;",
        "msrp://a.example/s?x;tcp",
        "msrp://a<b@a.example/s;tcp",
    ] {
        let result = text.parse::<MsrpUri>();
        assert!(result.is_err(), "{text:?} parsed as {result:?}");
    }
}

#[test]
fn byte_ranges_parse_and_display() {
    for (text, expected) in [
        (
            "1-2048/4096",
            ByteRange {
                start: 1,
                end: Some(2048),
                total: Some(4096),
            },
        ),
        (
            "1-*/*",
            ByteRange {
                start: 1,
                end: None,
                total: None,
            },
        ),
        (
            "2049-*/4096",
            ByteRange {
                start: 2049,
                end: None,
                total: Some(4096),
            },
        ),
        ("1-0/0", ByteRange::whole(0)),
    ] {
        let range: ByteRange = text.parse().unwrap();
        assert_eq!(range, expected);
        assert_eq!(range.to_string(), text);
    }
}

#[test]
fn bad_byte_ranges_are_rejected() {
    for text in [
        "",
        "1",
        "1-2",
        "0-1/1",
        "5-3/10",
        "1-5/3",
        "7-*/5",
        "a-1/1",
        "1-b/1",
        "1-1/c",
        "-1-1/1",
        "1--1/1",
        "+1-1/1",
        "1-1/1/1",
        "18446744073709551616-*/*",
        "1-*/18446744073709551616",
    ] {
        assert!(text.parse::<ByteRange>().is_err(), "{text:?}");
    }
}

#[test]
fn statuses_parse_and_display() {
    for text in [
        "000 200 OK",
        "000 413",
        "000 400 Bad request, really",
        "001 999 ü",
    ] {
        let status: Status = text.parse().unwrap();
        assert_eq!(status.to_string(), text);
    }
    assert_eq!(
        "000 200 OK".parse::<Status>().unwrap(),
        Status::new(200, Some("OK"))
    );
    for text in [
        "",
        "000",
        "00 200",
        "000 20",
        "000 2000",
        "0000 200",
        "abc 200",
        "000 200 \u{7}",
    ] {
        assert!(text.parse::<Status>().is_err(), "{text:?}");
    }
}
