//! `interwork_proto::report::parse` on arbitrary bytes (a mail that came
//! back to the gateway's domain).
//!
//! Checks: no panic; no line break in any value read (they are matched
//! against stored ids and may be logged on one line); the same bytes always
//! give the same report.

use interwork_proto::report::{self, Report};

fn one_line(what: &str, value: Option<&str>) {
    if let Some(value) = value {
        assert!(
            !value.contains(['\r', '\n']),
            "a line break in {what}: {value:?}"
        );
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Ok(first) = report::parse(data) else {
        return;
    };
    assert_eq!(
        report::parse(data).ok(),
        Some(first.clone()),
        "not deterministic"
    );
    match first {
        Some(Report::Delivery(dsn)) => {
            one_line("Original-Envelope-Id", dsn.original_envelope_id.as_deref());
            one_line("Reporting-MTA", dsn.reporting_mta.as_deref());
            one_line(
                "the returned Message-ID",
                dsn.original_message_id.as_deref(),
            );
            for r in &dsn.recipients {
                one_line("Final-Recipient", r.final_recipient.as_deref());
                one_line("Original-Recipient", r.original_recipient.as_deref());
                one_line("Status", r.status.as_deref());
                one_line("Diagnostic-Code", r.diagnostic.as_deref());
            }
        }
        Some(Report::Disposition(mdn)) => {
            one_line("Original-Message-ID", mdn.original_message_id.as_deref());
            one_line("Final-Recipient", mdn.final_recipient.as_deref());
        }
        None => {}
    }
}
