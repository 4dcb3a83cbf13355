//! Reports as MTAs and mail clients send them (`testdata/report/`,
//! `testdata/mime/rfc3464-dsn`).

use super::*;

fn report(bytes: &[u8]) -> Report {
    parse(bytes).expect("a mail").expect("a report")
}

#[test]
fn a_postfix_bounce_names_envid_recipient_status_and_the_original() {
    let Report::Delivery(dsn) = report(include_bytes!(
        "../../../../testdata/report/postfix-bounce.eml"
    )) else {
        panic!("a DSN")
    };
    assert_eq!(dsn.original_envelope_id.as_deref(), Some("env-42"));
    assert_eq!(dsn.reporting_mta.as_deref(), Some("mx.mail.example.test"));
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("m.1@gw.example.test")
    );
    assert_eq!(dsn.recipients.len(), 1);
    let r = &dsn.recipients[0];
    assert_eq!(
        r.final_recipient.as_deref(),
        Some("nobody@mail.example.test")
    );
    assert_eq!(
        r.original_recipient.as_deref(),
        Some("nobody@mail.example.test")
    );
    assert_eq!(r.action, Action::Failed);
    assert_eq!(r.status.as_deref(), Some("5.1.1"));
    // Folded over two lines, unfolded.
    assert_eq!(
        r.diagnostic.as_deref(),
        Some(
            "smtp; 550 5.1.1 <nobody@mail.example.test>: Recipient address rejected: \
             User unknown in local recipient table"
        )
    );
}

#[test]
fn an_exim_delay_without_envid_returns_the_whole_message() {
    let Report::Delivery(dsn) =
        report(include_bytes!("../../../../testdata/report/exim-delay.eml"))
    else {
        panic!("a DSN")
    };
    assert_eq!(dsn.original_envelope_id, None);
    assert_eq!(
        dsn.original_message_id.as_deref(),
        Some("m.2@gw.example.test")
    );
    let r = &dsn.recipients[0];
    assert_eq!(r.action, Action::Delayed);
    // The comment after the code is not part of it.
    assert_eq!(r.status.as_deref(), Some("4.0.0"));
    assert_eq!(
        r.final_recipient.as_deref(),
        Some("carol@exim.example.test")
    );
    assert_eq!(r.diagnostic, None);
}

#[test]
fn the_rfc_3464_example_reads_every_recipient() {
    let Report::Delivery(dsn) = report(include_bytes!("../../../../testdata/mime/rfc3464-dsn"))
    else {
        panic!("a DSN")
    };
    assert!(!dsn.recipients.is_empty(), "{dsn:?}");
    assert!(
        dsn.recipients.iter().all(|r| r
            .final_recipient
            .as_deref()
            .is_some_and(|a| a.contains('@'))),
        "{dsn:?}"
    );
}

#[test]
fn an_mdn_says_displayed_manually_for_the_original() {
    let Report::Disposition(mdn) = report(include_bytes!(
        "../../../../testdata/report/mdn-displayed.eml"
    )) else {
        panic!("an MDN")
    };
    assert_eq!(
        mdn.original_message_id.as_deref(),
        Some("m.3@gw.example.test")
    );
    assert_eq!(
        mdn.final_recipient.as_deref(),
        Some("bob@mail.example.test")
    );
    assert_eq!(mdn.disposition, Disposition::Displayed);
    assert!(!mdn.automatic);
}

#[test]
fn dispositions_and_modes_of_rfc_8098() {
    for (value, disposition, automatic) in [
        (
            "automatic-action/MDN-sent-automatically; deleted",
            Disposition::Deleted,
            true,
        ),
        (
            "manual-action/MDN-sent-manually; dispatched",
            Disposition::Dispatched,
            false,
        ),
        (
            "automatic-action/MDN-sent-automatically; processed/error",
            Disposition::Processed,
            true,
        ),
        (
            "manual-action/MDN-sent-manually; denied",
            Disposition::Other("denied".into()),
            false,
        ),
    ] {
        let mdn = disposition_of(&format!(
            "Final-Recipient: rfc822; b@x.test\r\nDisposition: {value}\r\n"
        ));
        assert_eq!(
            (mdn.disposition, mdn.automatic),
            (disposition, automatic),
            "{value}"
        );
    }
}

fn disposition_of(fields: &str) -> DispositionReport {
    disposition(fields, None)
}

#[test]
fn what_is_not_a_report_is_none() {
    let plain = b"From: <a@x.test>\r\nSubject: hi\r\n\r\nhello\r\n";
    assert_eq!(parse(plain).unwrap(), None);
    // A multipart/report of another kind, and one without its machine part.
    let other = b"Content-Type: multipart/report; report-type=x-other; boundary=b\r\n\r\n\
                  --b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
    assert_eq!(parse(other).unwrap(), None);
    let missing =
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
                    --b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
    assert_eq!(parse(missing).unwrap(), None);
}

#[test]
fn missing_fields_are_none_not_errors() {
    let dsn = delivery(
        "Reporting-MTA: dns; mx.x.test\r\n\r\nAction: failed\r\n",
        None,
    );
    assert_eq!(dsn.recipients.len(), 1);
    let r = &dsn.recipients[0];
    assert_eq!(
        (r.final_recipient.as_deref(), r.status.as_deref()),
        (None, None)
    );
    assert_eq!(r.action, Action::Failed);
    let empty = delivery("", None);
    assert!(empty.recipients.is_empty());
    assert_eq!(empty.reporting_mta, None);
}

/// One DSN shape of a real MTA: the ids the gateway matches on and the one
/// recipient's block.
fn failed_for(bytes: &[u8], message_id: &str, recipient: &str, status: &str) -> DeliveryReport {
    let Report::Delivery(dsn) = report(bytes) else {
        panic!("a DSN")
    };
    assert_eq!(dsn.original_message_id.as_deref(), Some(message_id));
    assert_eq!(dsn.recipients.len(), 1);
    let r = &dsn.recipients[0];
    assert_eq!(r.action, Action::Failed);
    assert_eq!(r.final_recipient.as_deref(), Some(recipient));
    assert_eq!(r.status.as_deref(), Some(status));
    dsn
}

#[test]
fn a_sendmail_bounce_with_upper_case_address_types() {
    let dsn = failed_for(
        include_bytes!("../../../../testdata/report/sendmail-bounce.eml"),
        "m.3@gw.example.test",
        "dave@sendmail.example.test",
        "5.1.1",
    );
    assert_eq!(dsn.original_envelope_id, None);
    assert_eq!(
        dsn.reporting_mta.as_deref(),
        Some("relay.sendmail.example.test")
    );
}

#[test]
fn a_gmail_bounce_with_a_nested_human_part_and_the_whole_message() {
    let dsn = failed_for(
        include_bytes!("../../../../testdata/report/gmail-bounce.eml"),
        "m.4@gw.example.test",
        "erin@gmail.example.test",
        "5.1.1",
    );
    let diagnostic = dsn.recipients[0].diagnostic.as_deref().unwrap();
    assert!(
        diagnostic.starts_with("smtp; 550-5.1.1 The email account"),
        "{diagnostic}"
    );
}

#[test]
fn an_exchange_ndr_with_a_three_digit_detail_code() {
    let dsn = failed_for(
        include_bytes!("../../../../testdata/report/exchange-ndr.eml"),
        "m.5@gw.example.test",
        "frank@corp.example.test",
        "5.1.10",
    );
    assert_eq!(
        dsn.recipients[0].original_recipient.as_deref(),
        Some("frank@corp.example.test")
    );
    assert_eq!(
        dsn.reporting_mta.as_deref(),
        Some("EXCH01.corp.example.test")
    );
}
