use interwork_plugin_host::{
    CallError, FaultKind, GuestError, GuestFault, PluginId, PluginSource, RefusalKind,
};
use interwork_proto::sip::{Headers, Response};

use super::*;
use crate::smtp::client::{DeliveryOutcome, SmtpFailure};

const ALL: [Kind; 11] = [
    Kind::NotFound,
    Kind::Invalid,
    Kind::Refused,
    Kind::TooLarge,
    Kind::Unsupported,
    Kind::Failed,
    Kind::Busy,
    Kind::Temporary,
    Kind::Unreachable,
    Kind::Fault,
    Kind::Overloaded,
];

fn refusal(kind: RefusalKind) -> CallError {
    CallError::Refused(GuestError {
        plugin: PluginId {
            name: "p".into(),
            source: PluginSource::Embedded,
        },
        kind,
        reason: "because".into(),
    })
}

fn header(answer: &Answer, name: &str) -> Option<String> {
    answer
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

fn response(code: u16, reason: &str) -> Result<Response, ClientError> {
    Ok(Response {
        code,
        reason: reason.into(),
        headers: Headers::default(),
        body: Vec::new(),
    })
}

#[test]
fn every_kind_has_one_answer_in_each_protocol() {
    let expected = [
        (Kind::NotFound, 404, "550 5.1.1", 403),
        (Kind::Invalid, 400, "554 5.6.0", 400),
        (Kind::Refused, 403, "550 5.7.1", 403),
        (Kind::TooLarge, 413, "552 5.3.4", 413),
        (Kind::Unsupported, 415, "554 5.6.1", 415),
        (Kind::Failed, 500, "550 5.0.0", 403),
        (Kind::Busy, 486, "450 4.2.1", 408),
        (Kind::Temporary, 480, "451 4.3.0", 408),
        (Kind::Unreachable, 503, "451 4.4.1", 408),
        (Kind::Fault, 503, "451 4.3.0", 408),
        (Kind::Overloaded, 503, "451 4.3.2", 408),
    ];
    assert_eq!(expected.len(), ALL.len());
    for (kind, sip, smtp, msrp) in expected {
        let verdict = Verdict::new(kind, About::Content, "why");
        let answer = verdict.sip_answer("gw.example.test");
        assert_eq!(answer.code, sip, "{kind:?}");
        assert_eq!(
            header(&answer, "Warning").as_deref(),
            Some("399 gw.example.test \"why\"")
        );
        let reply = verdict.smtp_reply();
        assert_eq!(
            format!("{} {}", reply.code, reply.enhanced.unwrap()),
            smtp,
            "{kind:?}"
        );
        let status = verdict.msrp_status();
        assert_eq!(status.code, msrp, "{kind:?}");
        // The MSRP comment carries the SIP answer (RFC 4975 §7.1.2 REPORTs
        // say what the far end said).
        assert!(
            status
                .comment
                .as_deref()
                .is_some_and(|c| c.starts_with(&sip.to_string())),
            "{status:?}"
        );
        // Retry-After exactly on the kinds the sender should retry.
        let temporary = matches!(
            kind,
            Kind::Busy | Kind::Temporary | Kind::Unreachable | Kind::Fault | Kind::Overloaded
        );
        assert_eq!(
            header(&answer, "Retry-After").is_some(),
            temporary,
            "{kind:?}"
        );
        // SMTP: 4xx exactly for those, so the sending MTA keeps the mail.
        assert_eq!(reply.code < 500, temporary, "{kind:?}");
    }
}

#[test]
fn what_a_verdict_is_about_picks_the_enhanced_code() {
    let smtp = |kind, about| {
        let r = Verdict::new(kind, about, "x").smtp_reply();
        format!("{} {}", r.code, r.enhanced.unwrap())
    };
    assert_eq!(smtp(Kind::NotFound, About::Domain), "550 5.1.2");
    assert_eq!(smtp(Kind::NotFound, About::Recipient), "550 5.1.1");
    assert_eq!(smtp(Kind::Invalid, About::Recipient), "553 5.1.3");
    assert_eq!(smtp(Kind::Invalid, About::Sender), "550 5.1.7");
    assert_eq!(smtp(Kind::Invalid, About::Content), "554 5.6.0");
    assert_eq!(smtp(Kind::Temporary, About::ImSystem), "451 4.4.1");
    assert_eq!(smtp(Kind::Temporary, About::MailSystem), "451 4.4.1");
    assert_eq!(smtp(Kind::Temporary, About::Gateway), "451 4.3.0");
    let unsupported = Verdict::unsupported("text/plain", "no").sip_answer("gw");
    assert_eq!(
        header(&unsupported, "Accept").as_deref(),
        Some("text/plain")
    );
}

#[test]
fn plugin_refusals_depend_on_what_was_asked() {
    let sip = |kind, about| {
        Verdict::of_plugin(refusal(kind), about)
            .sip_answer("gw")
            .code
    };
    assert_eq!(sip(RefusalKind::NotFound, About::Recipient), 404);
    assert_eq!(sip(RefusalKind::NotFound, About::Sender), 403);
    assert_eq!(sip(RefusalKind::Invalid, About::Recipient), 400);
    assert_eq!(sip(RefusalKind::Invalid, About::Content), 400);
    assert_eq!(sip(RefusalKind::Permanent, About::Recipient), 403);
    assert_eq!(sip(RefusalKind::Temporary, About::Recipient), 480);
    let temporary = Verdict::of_plugin(refusal(RefusalKind::Temporary), About::Recipient);
    assert_eq!(temporary.smtp_reply().enhanced, Some("4.3.0"));
    assert_eq!(temporary.retry_after, Some(60));
    let fault = Verdict::of_plugin(
        CallError::Fault(GuestFault {
            plugin: PluginId {
                name: "p".into(),
                source: PluginSource::Embedded,
            },
            kind: FaultKind::Trap("unreachable".into()),
        }),
        About::Recipient,
    );
    let answer = fault.sip_answer("gw");
    assert_eq!((answer.code, fault.retry_after), (503, Some(30)));
    // The fault's details go to the log, not to the sender.
    assert_eq!(
        header(&answer, "Warning").as_deref(),
        Some("399 gw \"plugin failure\"")
    );
}

/// The plugin contract documents the table for plugin authors; the
/// documentation and the table must not drift apart.
#[test]
fn the_wit_documentation_states_this_table() {
    let wit = include_str!("../../../../wit/interwork-plugin/0.1.0/plugin.wit");
    let doc: String = wit
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("///"))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ");
    for (name, kind) in [
        ("not-found", RefusalKind::NotFound),
        ("invalid", RefusalKind::Invalid),
        ("temporary", RefusalKind::Temporary),
        ("permanent", RefusalKind::Permanent),
    ] {
        let verdict = Verdict::of_plugin(refusal(kind), About::Recipient);
        let sip = verdict.sip_answer("gw").code;
        let smtp = verdict.smtp_reply();
        let promise = format!(
            "{name} → SIP {sip} / SMTP {} {}",
            smtp.code,
            smtp.enhanced.unwrap()
        );
        assert!(doc.contains(&promise), "the WIT does not say {promise:?}");
    }
    for (about, promise) in [
        (About::Sender, "a sender: 550 5.1.7"),
        (About::Content, "a message: 554 5.6.0"),
    ] {
        let reply = Verdict::of_plugin(refusal(RefusalKind::Invalid), about).smtp_reply();
        assert!(promise.ends_with(&format!("{} {}", reply.code, reply.enhanced.unwrap())));
        assert!(doc.contains(promise), "the WIT does not say {promise:?}");
    }
}

#[test]
fn mail_system_replies_become_verdicts() {
    let permanent = |code, enhanced: &str| {
        Verdict::of_mail_failure(&DeliveryOutcome::Permanent(SmtpFailure {
            code: Some(code),
            enhanced: Some(enhanced.into()),
            text: "no".into(),
            server: None,
        }))
        .unwrap()
        .kind
    };
    assert_eq!(permanent(550, "5.1.1"), Kind::NotFound);
    assert_eq!(permanent(556, "5.1.10"), Kind::NotFound);
    assert_eq!(permanent(550, "5.7.1"), Kind::Refused);
    assert_eq!(permanent(552, "5.3.4"), Kind::TooLarge);
    assert_eq!(permanent(552, "5.2.2"), Kind::TooLarge);
    assert_eq!(permanent(554, "5.6.0"), Kind::Failed);
    let deferred = DeliveryOutcome::Temporary(SmtpFailure::from_reply(Some(451), "4.3.0 later"));
    assert_eq!(
        Verdict::of_mail_failure(&deferred).unwrap().kind,
        Kind::Temporary
    );
    let down = DeliveryOutcome::Temporary(SmtpFailure::local("connection refused"));
    assert_eq!(
        Verdict::of_mail_failure(&down).unwrap().kind,
        Kind::Unreachable
    );
    let delivered = DeliveryOutcome::Delivered {
        server: "mx".into(),
        reply: "ok".into(),
        dsn: false,
    };
    assert_eq!(Verdict::of_mail_failure(&delivered), None);
}

#[test]
fn im_system_responses_become_verdicts() {
    for (code, kind) in [
        (404, Kind::NotFound),
        (604, Kind::NotFound),
        (403, Kind::Refused),
        (603, Kind::Refused),
        (413, Kind::TooLarge),
        (513, Kind::TooLarge),
        (415, Kind::Unsupported),
        (488, Kind::Unsupported),
        (486, Kind::Busy),
        (600, Kind::Busy),
        (482, Kind::Looped),
        (483, Kind::TooManyHops),
        (408, Kind::Temporary),
        (480, Kind::Temporary),
        (503, Kind::Temporary),
        (400, Kind::Failed),
        (606, Kind::Failed),
        (302, Kind::Temporary),
    ] {
        let verdict = Verdict::of_im_response(&response(code, "R")).unwrap_err();
        assert_eq!(verdict.kind, kind, "{code}");
        assert_eq!(verdict.reason, format!("IM system: {code} R"));
    }
    assert!(Verdict::of_im_response(&response(202, "Accepted")).is_ok());
    let silent = Verdict::of_im_response(&Err(ClientError::Timeout(
        std::time::Duration::from_secs(32),
    )))
    .unwrap_err();
    assert_eq!(silent.kind, Kind::Unreachable);
    assert_eq!(silent.smtp_reply().to_string().get(..9), Some("451 4.4.1"));
}
