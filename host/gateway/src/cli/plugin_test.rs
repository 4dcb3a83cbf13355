//! `interwork plugins test FILE.wasm [CASES.toml]`: a plugin's check
//! calls and its author's cases, run through the real plugin runtime with
//! the configuration's domains, `[plugins.config]` and directory; a table
//! of what each case expected and got; exit 1 on a mismatch.
//!
//! ```toml
//! [[case]]
//! call = "email-of-im"                 # or im-of-email, is-served-domain,
//!                                      # im-to-email, email-to-im
//! input = "sip:alice@im.example.test"  # the URI, address or domain
//! role = "sender"                      # sender | recipient (default)
//! expect = "alice@im.example.test"     # the value it must give, or
//! # error = "not-found"                # the refusal it must give
//!
//! [[case]]                             # conversion cases start where
//! call = "im-to-email"                 # the mapping ended: addresses
//! input = "alice@im.example.test"      # the sender's e-mail address
//! to = ["bob@mail.example.org"]        # the recipients' addresses
//! text = "lunch?"                      # the text/plain content
//! headers = { To = "bob@mail.example.org" }  # headers the mail must have
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use interwork_plugin_host::bindings::{mapping, types};
use interwork_plugin_host::{CallError, LoadedPlugin, PluginEngine, Role};
use serde::Deserialize;

use crate::config::Config;
use crate::plugins;

/// A cases file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    #[serde(default, rename = "case")]
    cases: Vec<Case>,
}

/// One case: a call, its input and what it must give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    call: Call,
    input: String,
    #[serde(default)]
    role: CaseRole,
    /// Conversion cases: the recipients' e-mail addresses (`email-to-im`
    /// takes the first).
    #[serde(default)]
    to: Vec<String>,
    /// The text content of the message of a conversion case.
    #[serde(default)]
    text: String,
    /// The value a mapping call must give (for `is-served-domain`,
    /// `true` or `false`).
    expect: Option<String>,
    /// The refusal kind it must give: not-found, invalid, temporary,
    /// permanent.
    error: Option<String>,
    /// Headers the mail (`im-to-email`) or IM (`email-to-im`: `Subject`,
    /// `Content-Type`, `Sender`) must have.
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Call {
    EmailOfIm,
    ImOfEmail,
    IsServedDomain,
    ImToEmail,
    EmailToIm,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Self::EmailOfIm => "email-of-im",
            Self::ImOfEmail => "im-of-email",
            Self::IsServedDomain => "is-served-domain",
            Self::ImToEmail => "im-to-email",
            Self::EmailToIm => "email-to-im",
        }
    }

    fn role(self) -> Role {
        match self {
            Self::EmailOfIm | Self::ImOfEmail | Self::IsServedDomain => Role::Mapping,
            Self::ImToEmail | Self::EmailToIm => Role::Conversion,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum CaseRole {
    Sender,
    #[default]
    Recipient,
}

impl CaseRole {
    fn wit(self) -> mapping::Role {
        match self {
            Self::Sender => mapping::Role::Sender,
            Self::Recipient => mapping::Role::Recipient,
        }
    }
}

/// What a call gave: a value with named fields, or a refusal, or a fault.
enum Got {
    Value(BTreeMap<String, String>),
    Refused(String, String),
    Fault(String),
}

fn kind_name(kind: interwork_plugin_host::RefusalKind) -> &'static str {
    use interwork_plugin_host::RefusalKind as K;
    match kind {
        K::NotFound => "not-found",
        K::Invalid => "invalid",
        K::Temporary => "temporary",
        K::Permanent => "permanent",
    }
}

fn got_of<T>(
    result: Result<T, CallError>,
    fields: impl FnOnce(T) -> BTreeMap<String, String>,
) -> Got {
    match result {
        Ok(value) => Got::Value(fields(value)),
        Err(CallError::Refused(e)) => Got::Refused(kind_name(e.kind).into(), e.reason),
        Err(CallError::Fault(f)) => Got::Fault(f.to_string()),
    }
}

fn value(v: String) -> BTreeMap<String, String> {
    BTreeMap::from([("value".to_string(), v)])
}

fn run_case(plugin: &LoadedPlugin, engine: &PluginEngine, case: &Case) -> Got {
    let mut instance = plugin.instance(engine);
    match case.call {
        Call::EmailOfIm => got_of(instance.email_of_im(&case.input, case.role.wit()), |m| {
            value(m.value)
        }),
        Call::ImOfEmail => got_of(instance.im_of_email(&case.input, case.role.wit()), |m| {
            value(m.value)
        }),
        Call::IsServedDomain => match instance.is_served_domain(&case.input) {
            Ok(served) => Got::Value(value(served.to_string())),
            Err(fault) => Got::Fault(fault.to_string()),
        },
        Call::ImToEmail => {
            // A conversion case starts where the mapping ended: `input` is
            // the sender's e-mail address, `to` the recipients'; the IM
            // identities are those addresses as `sip:` URIs.
            let im = types::ImMessage {
                sender: format!("sip:{}", case.input),
                recipients: case.to.iter().map(|to| format!("sip:{to}")).collect(),
                cc: Vec::new(),
                bcc: Vec::new(),
                date: crate::clock::now(),
                subject: None,
                content_type: "text/plain;charset=utf-8".into(),
                body: case.text.as_bytes().to_vec(),
                attachments: Vec::new(),
                imdn_message_id: None,
                dispositions: types::Dispositions::empty(),
                extra_headers: Vec::new(),
            };
            let (sender, addresses) = (&case.input, &case.to);
            got_of(instance.im_to_email(&im, sender, addresses), |mail| {
                mail.headers
                    .into_iter()
                    .map(|h| (h.name, h.value))
                    .chain(
                        mail.body
                            .first()
                            .map(|p| ("Content-Type".to_string(), p.content_type.clone())),
                    )
                    .collect()
            })
        }
        Call::EmailToIm => {
            let recipient = case.to.first().cloned().unwrap_or_default();
            let mail = types::EmailMessage {
                envelope_from: case.input.clone(),
                envelope_to: vec![recipient.clone()],
                dsn_notify: types::DsnNotify::FAILURE | types::DsnNotify::DELAY,
                date: Some(crate::clock::now()),
                headers: vec![
                    types::Header {
                        name: "From".into(),
                        value: case.input.clone(),
                    },
                    types::Header {
                        name: "To".into(),
                        value: recipient.clone(),
                    },
                ],
                body: vec![types::MailPart {
                    content_type: "text/plain; charset=utf-8".into(),
                    disposition: None,
                    filename: None,
                    content_id: None,
                    body: case.text.as_bytes().to_vec(),
                }],
            };
            let sender_im = format!("sip:{}", case.input);
            let recipient_im = format!("sip:{recipient}");
            got_of(
                instance.email_to_im(&mail, &sender_im, &recipient_im),
                |im| {
                    let mut fields = BTreeMap::from([
                        ("Sender".to_string(), im.sender),
                        ("Content-Type".to_string(), im.content_type),
                        (
                            "Text".to_string(),
                            String::from_utf8_lossy(&im.body).into_owned(),
                        ),
                    ]);
                    if let Some(subject) = im.subject {
                        fields.insert("Subject".into(), subject);
                    }
                    fields
                },
            )
        }
    }
}

/// Whether what a case got is what it expected, and the "got" column.
fn judge(case: &Case, got: &Got) -> (bool, String) {
    match got {
        Got::Fault(fault) => (false, format!("FAULT {fault}")),
        Got::Refused(kind, reason) => (
            case.error.as_deref() == Some(kind.as_str()),
            format!("error {kind}: {reason}"),
        ),
        Got::Value(fields) => {
            if case.error.is_some() {
                let shown = fields
                    .get("value")
                    .cloned()
                    .unwrap_or_else(|| "a result".into());
                return (false, shown);
            }
            let mut ok = true;
            let mut shown = Vec::new();
            if let Some(expect) = &case.expect {
                let v = fields.get("value").cloned().unwrap_or_default();
                ok &= &v == expect;
                shown.push(v);
            }
            for (name, want) in &case.headers {
                let v = fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone());
                ok &= v.as_deref() == Some(want.as_str());
                shown.push(format!("{name}: {}", v.as_deref().unwrap_or("(none)")));
            }
            (ok, shown.join("; "))
        }
    }
}

fn expected(case: &Case) -> String {
    if let Some(kind) = &case.error {
        return format!("error {kind}");
    }
    let mut out: Vec<String> = case.expect.iter().cloned().collect();
    out.extend(case.headers.iter().map(|(n, v)| format!("{n}: {v}")));
    out.join("; ")
}

/// `plugins test`.
pub fn run(config: &Config, file: &Path, cases: Option<&Path>) -> anyhow::Result<ExitCode> {
    let cases: Vec<Case> = match cases {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<Cases>(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .cases
        }
        None => Vec::new(),
    };
    let directory = plugins::load_directory(config)?;
    let engine = plugins::engine_for(config, directory)?;
    let plugin = match interwork_plugin_host::load_file(&engine, file) {
        Ok(plugin) => plugin,
        Err(e) => {
            println!("check calls  FAILED  {e}");
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "{}: {} (contract {}), exports {}",
        file.display(),
        plugin.describe(),
        plugin.contract(),
        plugin.exports().join(", ")
    );
    println!("check calls  ok");
    let mut failed = 0;
    let rows: Vec<[String; 5]> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let (ok, got) = if plugin.serves(case.call.role()) {
                judge(case, &run_case(&plugin, &engine, case))
            } else {
                (
                    false,
                    format!("the plugin does not export {}", case.call.role().name()),
                )
            };
            if !ok {
                failed += 1;
            }
            [
                format!("{}", i + 1),
                format!("{}({})", case.call.name(), case.input),
                expected(case),
                got,
                if ok { "ok" } else { "MISMATCH" }.to_string(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let header = ["#", "call", "expected", "got", ""].map(String::from);
        let mut widths = [0usize; 5];
        for row in std::iter::once(&header).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            println!("{}", line.join("  ").trim_end());
        }
    }
    println!(
        "{} cases, {} passed, {failed} mismatched",
        rows.len(),
        rows.len() - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
