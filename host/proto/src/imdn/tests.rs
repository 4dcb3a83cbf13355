use super::*;
use crate::cpim::{self, CpimHeader, CpimMessage};
use crate::dates::{Timestamp, parse_rfc3339};

/// RFC 5438 §7.1.1 example, with the blank line RFC 3862 §2 requires
/// between message and content headers (the RFC prints it without).
const RFC5438_REQUEST: &str = include_str!("../../../../testdata/cpim/rfc5438-s7.1.1-request");

/// The delivery notification of RFC 5438 §7.2.1.1, including its line
/// break inside the `original-recipient-uri` start tag.
const RFC5438_DELIVERED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<imdn xmlns="urn:ietf:params:xml:ns:imdn">
   <message-id>34jk324j</message-id>
   <datetime>2008-04-04T12:16:49-05:00</datetime>
   <recipient-uri>im:bob@example.com</recipient-uri>
   <original-recipient-uri
      >im:bob@example.com</original-recipient-uri>
   <delivery-notification>
      <status>
         <delivered/>
      </status>
   </delivery-notification>
</imdn>
"#;

/// The display notification of RFC 5438 §7.2.1.2.
const RFC5438_DISPLAYED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<imdn xmlns="urn:ietf:params:xml:ns:imdn">
   <message-id>34jk324j</message-id>
   <datetime>2008-04-04T12:16:49-05:00</datetime>
   <recipient-uri>im:bob@example.com</recipient-uri>
   <original-recipient-uri
      >im:bob@example.com</original-recipient-uri>
   <display-notification>
      <status>
         <displayed/>
      </status>
   </display-notification>
</imdn>
"#;

fn sample(kind: NotificationKind) -> Notification {
    Notification {
        message_id: "34jk324j".to_owned(),
        datetime: parse_rfc3339("2008-04-04T12:16:49-05:00").unwrap(),
        recipient_uri: Some("im:bob@example.com".to_owned()),
        original_recipient_uri: Some("im:bob@example.com".to_owned()),
        kind,
    }
}

fn xml_of(notification: &Notification) -> Vec<u8> {
    let mut out = Vec::new();
    write_xml(notification, &mut out).unwrap();
    out
}

#[test]
fn request_headers_reproduce_the_rfc5438_example() {
    let datetime = parse_rfc3339("2006-04-04T12:16:49-05:00").unwrap();
    let requested = Dispositions::POSITIVE_DELIVERY | Dispositions::NEGATIVE_DELIVERY;
    let mut message = CpimMessage::new();
    message
        .push_header(CpimHeader::new("From", "Alice <im:alice@example.com>"))
        .push_header(CpimHeader::new("To", "Bob <im:bob@example.com>"));
    for header in request_headers("34jk324j", requested, &datetime).unwrap() {
        message.push_header(header);
    }
    message
        .push_content_header("Content-type", "text/plain")
        .push_content_header("Content-length", "12");
    message.body = b"Hello World".to_vec();
    let mut wire = Vec::new();
    cpim::write(&message, &mut wire).unwrap();
    assert_eq!(String::from_utf8(wire).unwrap(), RFC5438_REQUEST);
}

#[test]
fn request_headers_checks_and_omits() {
    let now = Timestamp::utc(0);
    let headers = request_headers("abc", Dispositions::NONE, &now).unwrap();
    assert_eq!(headers.len(), 3);
    assert!(matches!(
        request_headers("a b", Dispositions::DISPLAY, &now),
        Err(ImdnError::InvalidMessageId(_))
    ));
    assert!(matches!(
        request_headers(
            "x\r\nTo: <im:evil@example.com>",
            Dispositions::DISPLAY,
            &now
        ),
        Err(ImdnError::InvalidMessageId(_))
    ));
}

#[test]
fn reads_request_from_received_cpim() {
    let message = cpim::parse(RFC5438_REQUEST.as_bytes()).unwrap();
    assert_eq!(message_id_of(&message), Some("34jk324j"));
    assert_eq!(
        dispositions_of(&message),
        Dispositions::POSITIVE_DELIVERY | Dispositions::NEGATIVE_DELIVERY
    );
    // Another sender may bind another prefix to the same URN.
    let renamed = RFC5438_REQUEST
        .replace("imdn.", "n.")
        .replace("NS: imdn <", "NS: n <");
    assert!(!renamed.contains("imdn."));
    let message = cpim::parse(renamed.as_bytes()).unwrap();
    assert_eq!(message_id_of(&message), Some("34jk324j"));
    assert!(dispositions_of(&message).contains(Dispositions::NEGATIVE_DELIVERY));
    // No IMDN headers at all.
    let plain =
        cpim::parse(b"From: <im:a@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhi").unwrap();
    assert_eq!(message_id_of(&plain), None);
    assert!(dispositions_of(&plain).is_empty());
}

#[test]
fn parses_rfc5438_delivery_notification() {
    let parsed = parse_xml(RFC5438_DELIVERED.as_bytes()).unwrap();
    assert_eq!(
        parsed,
        sample(NotificationKind::Delivery(DeliveryStatus::Delivered))
    );
    assert_eq!(parsed.datetime.offset_minutes, -300);
}

#[test]
fn parses_rfc5438_display_notification() {
    let parsed = parse_xml(RFC5438_DISPLAYED.as_bytes()).unwrap();
    assert_eq!(
        parsed,
        sample(NotificationKind::Display(DisplayStatus::Displayed))
    );
}

#[test]
fn writes_the_expected_document() {
    let written = xml_of(&sample(NotificationKind::Delivery(
        DeliveryStatus::Delivered,
    )));
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\n  \
<message-id>34jk324j</message-id>\n  \
<datetime>2008-04-04T12:16:49-05:00</datetime>\n  \
<recipient-uri>im:bob@example.com</recipient-uri>\n  \
<original-recipient-uri>im:bob@example.com</original-recipient-uri>\n  \
<delivery-notification>\n    <status>\n      <delivered/>\n    </status>\n  \
</delivery-notification>\n</imdn>\n";
    assert_eq!(String::from_utf8(written).unwrap(), expected);
}

#[test]
fn every_kind_round_trips() {
    let kinds = [
        NotificationKind::Delivery(DeliveryStatus::Delivered),
        NotificationKind::Delivery(DeliveryStatus::Failed),
        NotificationKind::Delivery(DeliveryStatus::Forbidden),
        NotificationKind::Delivery(DeliveryStatus::Error),
        NotificationKind::Display(DisplayStatus::Displayed),
        NotificationKind::Display(DisplayStatus::Forbidden),
        NotificationKind::Display(DisplayStatus::Error),
    ];
    for kind in kinds {
        let mut notification = sample(kind);
        assert_eq!(parse_xml(&xml_of(&notification)).unwrap(), notification);
        notification.recipient_uri = None;
        notification.original_recipient_uri = None;
        notification.datetime = Timestamp::utc(1_795_873_947);
        assert_eq!(parse_xml(&xml_of(&notification)).unwrap(), notification);
    }
}

#[test]
fn special_characters_are_escaped() {
    let mut notification = sample(NotificationKind::Display(DisplayStatus::Error));
    notification.recipient_uri = Some("sip:a&b@example.com;x=\"<1>\"".to_owned());
    notification.original_recipient_uri = Some("im:o'brien@example.com".to_owned());
    notification.message_id = "id&'1".to_owned();
    let written = String::from_utf8(xml_of(&notification)).unwrap();
    assert!(
        written.contains(
            "<recipient-uri>sip:a&amp;b@example.com;x=&quot;&lt;1&gt;&quot;</recipient-uri>"
        ),
        "{written}"
    );
    assert!(written.contains("im:o&apos;brien@example.com"));
    assert!(written.contains("<message-id>id&amp;&apos;1</message-id>"));
    assert_eq!(parse_xml(written.as_bytes()).unwrap(), notification);
}

#[test]
fn tolerates_prefixes_subject_comments_and_extensions() {
    let document = r#"<?xml version="1.0"?>
<!-- from an RCS client -->
<i:imdn xmlns:i="urn:ietf:params:xml:ns:imdn" xmlns:x="urn:example:ext">
  <i:message-id> 34jk324j </i:message-id>
  <i:datetime>2008-04-04T12:16:49-05:00</i:datetime>
  <i:subject>Project Tomorrow</i:subject>
  <x:anything><x:nested/></x:anything>
  <i:display-notification>
    <i:status><i:displayed/><x:note/></i:status>
  </i:display-notification>
</i:imdn>"#;
    let parsed = parse_xml(document.as_bytes()).unwrap();
    assert_eq!(parsed.message_id, "34jk324j");
    assert_eq!(
        parsed.kind,
        NotificationKind::Display(DisplayStatus::Displayed)
    );
    assert_eq!(parsed.recipient_uri, None);
}

#[test]
fn refuses_entity_tricks() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE imdn [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>&lol2;</message-id></imdn>"#;
    assert!(matches!(
        parse_xml(billion_laughs.as_bytes()),
        Err(ImdnError::Xml { .. })
    ));
    let external = RFC5438_DELIVERED.replace("34jk324j", "&xxe;");
    assert!(matches!(
        parse_xml(external.as_bytes()),
        Err(ImdnError::Xml { .. })
    ));
}

#[test]
fn refuses_documents_that_are_not_imdns() {
    let cases: Vec<(String, &str)> = vec![
        (RFC5438_DELIVERED.replace("urn:ietf:params:xml:ns:imdn", "urn:other"), "root"),
        (RFC5438_DELIVERED.replace("<message-id>34jk324j</message-id>", ""), "message-id"),
        (RFC5438_DELIVERED.replace("<datetime>2008-04-04T12:16:49-05:00</datetime>", ""), "datetime"),
        (RFC5438_DELIVERED.replace("<delivered/>", "<displayed/>"), "not a status"),
        (RFC5438_DELIVERED.replace("<delivered/>", "<delivered/><failed/>"), "exactly one"),
        (RFC5438_DELIVERED.replace("<delivered/>", "<delivered>yes</delivered>"), "empty element"),
        (RFC5438_DELIVERED.replace("<delivered/>", ""), "exactly one"),
        (RFC5438_DELIVERED.replace("<status>", "<state>").replace("</status>", "</state>"), "<status>"),
        (RFC5438_DELIVERED.replace("</delivery-notification>", "</delivery-notification><display-notification><status><displayed/></status></display-notification>"), "more than one"),
        (RFC5438_DELIVERED.replace("<message-id>34jk324j</message-id>", "<message-id>34jk324j</message-id><message-id>x</message-id>"), "more than one"),
        (RFC5438_DELIVERED.replace("<recipient-uri>", "<recipient-url>").replace("</recipient-uri>", "</recipient-url>"), "unexpected element"),
        (RFC5438_DELIVERED.replace("34jk324j", "<b>x</b>"), "text only"),
        (RFC5438_DELIVERED.replace("   <delivery-notification>\n      <status>\n         <delivered/>\n      </status>\n   </delivery-notification>\n", ""), "missing delivery"),
    ];
    for (document, expected) in cases {
        match parse_xml(document.as_bytes()) {
            Err(ImdnError::NotImdn(reason)) => {
                assert!(reason.contains(expected), "{reason} / {expected}")
            }
            other => panic!("expected NotImdn({expected}), got {other:?}"),
        }
    }
}

#[test]
fn refuses_bad_values_and_unsupported_kinds() {
    let processing = RFC5438_DELIVERED
        .replace("delivery-notification", "processing-notification")
        .replace("<delivered/>", "<processed/>");
    assert!(matches!(
        parse_xml(processing.as_bytes()),
        Err(ImdnError::Unsupported(_))
    ));
    let bad_id = RFC5438_DELIVERED.replace("34jk324j", "34jk 324j");
    assert!(matches!(
        parse_xml(bad_id.as_bytes()),
        Err(ImdnError::InvalidMessageId(_))
    ));
    let bad_time = RFC5438_DELIVERED.replace("2008-04-04T12:16:49-05:00", "yesterday");
    assert!(matches!(
        parse_xml(bad_time.as_bytes()),
        Err(ImdnError::Time(_))
    ));
    let bad_uri = RFC5438_DELIVERED.replace("<recipient-uri>im:bob", "<recipient-uri>im: bob");
    assert!(matches!(
        parse_xml(bad_uri.as_bytes()),
        Err(ImdnError::InvalidUri { .. })
    ));
}

#[test]
fn write_refuses_unsafe_values() {
    let mut notification = sample(NotificationKind::Delivery(DeliveryStatus::Delivered));
    notification.recipient_uri = Some("im:bob@example.com\r\n</recipient-uri>".to_owned());
    let mut out = b"untouched".to_vec();
    assert!(matches!(
        write_xml(&notification, &mut out),
        Err(ImdnError::InvalidUri { .. })
    ));
    assert_eq!(out, b"untouched");
    let mut notification = sample(NotificationKind::Delivery(DeliveryStatus::Delivered));
    notification.message_id = "</message-id>".to_owned();
    assert!(matches!(
        write_xml(&notification, &mut out),
        Err(ImdnError::InvalidMessageId(_))
    ));
    notification.message_id = "ok".to_owned();
    notification.datetime.offset_minutes = 25 * 60;
    assert!(matches!(
        write_xml(&notification, &mut out),
        Err(ImdnError::Time(_))
    ));
}

#[test]
fn notification_travels_inside_cpim() {
    let notification = sample(NotificationKind::Delivery(DeliveryStatus::Delivered));
    let sent_at = parse_rfc3339("2008-04-04T12:16:50-05:00").unwrap();
    let message = notification_message(
        "im:bob@example.com",
        "im:alice@example.com",
        "d834jied93rf",
        &sent_at,
        &notification,
    )
    .unwrap();
    let mut wire = Vec::new();
    cpim::write(&message, &mut wire).unwrap();
    let received = cpim::parse(&wire).unwrap();
    assert_eq!(received, message);
    assert_eq!(received.content_type(), Some(IMDN_CONTENT_TYPE));
    assert_eq!(
        received.content_header("Content-Disposition"),
        Some("notification")
    );
    assert_eq!(message_id_of(&received), Some("d834jied93rf"));
    assert!(dispositions_of(&received).is_empty());
    assert_eq!(received.from().unwrap().1, "im:bob@example.com");
    assert_eq!(parse_xml(&received.body).unwrap(), notification);
    assert!(notification_message("im:b", "im:a\r\nX: y", "id", &sent_at, &notification).is_err());
}

#[test]
fn never_panics_on_damaged_xml() {
    let sample_bytes = RFC5438_DELIVERED.as_bytes();
    for end in 0..=sample_bytes.len() {
        let _ = parse_xml(&sample_bytes[..end]);
    }
    for index in 0..sample_bytes.len() {
        for replacement in [b'<', b'>', b'&', b'/', b'"', b':', 0xff, 0] {
            let mut damaged = sample_bytes.to_vec();
            damaged[index] = replacement;
            if let Ok(notification) = parse_xml(&damaged) {
                assert_eq!(parse_xml(&xml_of(&notification)).unwrap(), notification);
            }
        }
    }
}

/// The reason of an `ImdnError::Xml`, or a panic naming what came instead.
fn xml_reason(document: &str) -> String {
    match parse_xml(document.as_bytes()) {
        Err(ImdnError::Xml { reason, .. }) => reason,
        other => panic!("expected an XML error, got {other:?}"),
    }
}

#[test]
fn refuses_billion_laughs_before_expanding_anything() {
    let mut entities = String::from("<!ENTITY lol0 \"lol\">");
    for level in 1..10 {
        let previous = format!("&lol{};", level - 1).repeat(10);
        entities.push_str(&format!("<!ENTITY lol{level} \"{previous}\">"));
    }
    let document = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE imdn [{entities}]>\n{}",
        RFC5438_DELIVERED
            .trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .replace("34jk324j", "&lol9;")
    );
    match parse_xml(document.as_bytes()) {
        Err(ImdnError::Xml { offset, reason }) => {
            assert!(reason.contains("DOCTYPE"), "{reason}");
            assert_eq!(offset, document.find("<!DOCTYPE").unwrap());
        }
        other => panic!("expected the DOCTYPE refused, got {other:?}"),
    }
}

#[test]
fn refuses_undeclared_entities() {
    for entity in ["&nbsp;", "&lol;", "&xxe;", "&#0;", "&#xFFFE;"] {
        let document = RFC5438_DELIVERED.replace("34jk324j", &format!("34jk{entity}324j"));
        let reason = xml_reason(&document);
        assert!(
            reason.contains("entity") || reason.contains("character reference"),
            "{entity}: {reason}"
        );
    }
    // The predefined ones and character references are plain text.
    let encoded = RFC5438_DELIVERED.replace("im:bob@", "im:b&#111;&#x62;&amp;x@");
    let parsed = parse_xml(encoded.as_bytes()).unwrap();
    assert_eq!(
        parsed.recipient_uri.as_deref(),
        Some("im:bob&x@example.com")
    );
}

#[test]
fn ignores_extension_elements_of_other_namespaces() {
    // The RFC 5438 schema lets other namespaces extend <imdn>, the
    // notification and <status> (`<xs:any namespace="##other"/>`).
    let document = RFC5438_DELIVERED
        .replace(
            "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">",
            "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\" xmlns:x=\"urn:example:ext\" x:flag=\"1\">\n   <x:first>before &amp; <x:inner a='b'>text</x:inner></x:first>",
        )
        .replace(
            "<delivery-notification>",
            "<x:meta/><delivery-notification><x:where>here</x:where>",
        )
        .replace(
            "<delivered/>",
            "<delivered/><x:reason code='7'/><other xmlns='urn:example:other'/>",
        )
        .replace("</imdn>", "<x:last><x:deeper/></x:last></imdn>");
    assert_eq!(
        parse_xml(document.as_bytes()).unwrap(),
        sample(NotificationKind::Delivery(DeliveryStatus::Delivered))
    );
    // The same local names in another namespace are not IMDN elements.
    let shadowed = RFC5438_DELIVERED.replace(
        "</imdn>",
        "<message-id xmlns=\"urn:example:ext\">other</message-id></imdn>",
    );
    assert_eq!(
        parse_xml(shadowed.as_bytes()).unwrap().message_id,
        "34jk324j"
    );
}

/// `document` with `prefix:` put before every element name.
fn with_prefix(document: &str, prefix: &str) -> String {
    let mut prefixed = String::new();
    let mut rest = document;
    while let Some(index) = rest.find('<') {
        let (before, tag) = rest.split_at(index + 1);
        prefixed.push_str(before);
        let slash = tag.starts_with('/');
        if slash {
            prefixed.push('/');
        }
        if !tag.starts_with(['?', '!']) {
            prefixed.push_str(prefix);
            prefixed.push(':');
        }
        rest = &tag[usize::from(slash)..];
    }
    prefixed.push_str(rest);
    prefixed
}

#[test]
fn accepts_the_imdn_namespace_under_any_prefix() {
    for prefix in ["i", "imdn", "n0"] {
        let document = with_prefix(RFC5438_DELIVERED, prefix).replace(
            "xmlns=\"urn:ietf:params:xml:ns:imdn\"",
            &format!("xmlns:{prefix}=\"urn:ietf:params:xml:ns:imdn\""),
        );
        assert!(document.contains(&format!("<{prefix}:imdn xmlns:{prefix}=")));
        assert!(document.contains(&format!("<{prefix}:delivered/>")));
        assert_eq!(
            parse_xml(document.as_bytes()).unwrap(),
            sample(NotificationKind::Delivery(DeliveryStatus::Delivered)),
            "{document}"
        );
    }
}

#[test]
fn refuses_the_wrong_namespace() {
    let cases = [
        // Another default namespace.
        RFC5438_DELIVERED.replace(
            "urn:ietf:params:xml:ns:imdn",
            "urn:ietf:params:xml:ns:imdn2",
        ),
        // No namespace at all.
        RFC5438_DELIVERED.replace(" xmlns=\"urn:ietf:params:xml:ns:imdn\"", ""),
        // The familiar prefix bound to another URI.
        RFC5438_DELIVERED
            .replace("<imdn xmlns=", "<imdn:imdn xmlns:imdn=")
            .replace("urn:ietf:params:xml:ns:imdn", "urn:example:imdn")
            .replace("</imdn>", "</imdn:imdn>"),
        // Right URI on a prefix, but the root element is not in it.
        RFC5438_DELIVERED.replace("xmlns=", "xmlns:i="),
    ];
    for document in cases {
        match parse_xml(document.as_bytes()) {
            Err(ImdnError::NotImdn(reason)) => assert!(reason.contains("root"), "{reason}"),
            other => panic!("expected NotImdn, got {other:?}\n{document}"),
        }
    }
    // The children must be in the IMDN namespace too: unprefixed children
    // under a prefixed root are in no namespace, so nothing is found.
    let children_outside = RFC5438_DELIVERED
        .replace("<imdn xmlns=", "<i:imdn xmlns:i=")
        .replace("</imdn>", "</i:imdn>");
    assert!(matches!(
        parse_xml(children_outside.as_bytes()),
        Err(ImdnError::NotImdn(reason)) if reason.contains("missing <message-id>")
    ));
}

#[test]
fn reads_notifications_as_rcs_clients_send_them() {
    // CRLF line ends throughout, as the RFC 5438 vector would travel in a
    // CPIM body written by a client that uses CRLF everywhere.
    let crlf = RFC5438_DELIVERED.replace('\n', "\r\n");
    assert_eq!(
        parse_xml(crlf.as_bytes()).unwrap(),
        sample(NotificationKind::Delivery(DeliveryStatus::Delivered))
    );

    // One line, tel: URIs, milliseconds in UTC, a <subject>, an extension
    // namespace: the shape of an RCS (GSMA RCC.07) delivery report.
    let one_line = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><imdn xmlns=\"urn:ietf:params:xml:ns:imdn\" xmlns:rcs=\"urn:gsma:params:xml:ns:rcs:rcs:imdn\"><message-id>Msg_3f8a0c2b-1d</message-id><datetime>2024-05-17T09:12:33.000Z</datetime><recipient-uri>tel:+4915112345678</recipient-uri><original-recipient-uri>tel:+4915112345678</original-recipient-uri><subject>Hello</subject><delivery-notification><status><delivered/></status></delivery-notification><rcs:delivery-method>im</rcs:delivery-method></imdn>";
    let parsed = parse_xml(one_line.as_bytes()).unwrap();
    assert_eq!(
        parsed,
        Notification {
            message_id: "Msg_3f8a0c2b-1d".to_owned(),
            datetime: parse_rfc3339("2024-05-17T09:12:33Z").unwrap(),
            recipient_uri: Some("tel:+4915112345678".to_owned()),
            original_recipient_uri: Some("tel:+4915112345678".to_owned()),
            kind: NotificationKind::Delivery(DeliveryStatus::Delivered),
        }
    );

    // Tabs, blank lines, CRLF and spaces around every value, a sip: URI
    // with parameters, a display notification, no XML declaration.
    let loose = "\r\n<imdn  xmlns = 'urn:ietf:params:xml:ns:imdn' >\r\n\r\n\t<message-id>\r\n\t\tdisp-01\r\n\t</message-id>\r\n\t<datetime> 2024-05-17T11:12:33+02:00 </datetime>\r\n\t<recipient-uri>\tsip:+4915112345678@ims.example.net;user=phone </recipient-uri >\r\n\t<subject></subject>\r\n\t<display-notification >\r\n\t\t<status>\r\n\t\t\t<displayed />\r\n\t\t</status>\r\n\t</display-notification>\r\n</imdn>\r\n";
    let parsed = parse_xml(loose.as_bytes()).unwrap();
    assert_eq!(parsed.message_id, "disp-01");
    assert_eq!(
        parsed.datetime.unix_seconds,
        parse_rfc3339("2024-05-17T09:12:33Z").unwrap().unix_seconds
    );
    assert_eq!(parsed.datetime.offset_minutes, 120);
    assert_eq!(
        parsed.recipient_uri.as_deref(),
        Some("sip:+4915112345678@ims.example.net;user=phone")
    );
    assert_eq!(parsed.original_recipient_uri, None);
    assert_eq!(
        parsed.kind,
        NotificationKind::Display(DisplayStatus::Displayed)
    );
    for document in [crlf.as_str(), one_line, loose] {
        let notification = parse_xml(document.as_bytes()).unwrap();
        assert_eq!(parse_xml(&xml_of(&notification)).unwrap(), notification);
    }
}

#[test]
fn escape_xml_escapes_the_five_special_characters() {
    assert_eq!(
        escape_xml("a&b<c>d\"e'f"),
        "a&amp;b&lt;c&gt;d&quot;e&apos;f"
    );
    assert_eq!(escape_xml("plain tel:+49"), "plain tel:+49");
}
