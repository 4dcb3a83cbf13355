//! A company's numbering plan as an Interwork mapping plugin.
//!
//! Employees have IM identities that are phone numbers
//! (`sip:+15551234567@im.example.test`, or `tel:+15551234567`) and mailboxes
//! named `first.last@corp.example.test`. The table comes from the gateway's
//! configuration:
//!
//! ```toml
//! [plugins.config]
//! "corp.domain" = "corp.example.test"
//! "corp.people" = "+15551234567=john.smith, +15557654321=jane.doe"
//! ```
//!
//! Other IM recipients are taken to be e-mail users already
//! (`sip:bob@mail.example.org` → `bob@mail.example.org`), and other mail
//! senders become IM identities as they are, so replies work both ways.

use interwork_plugin_sdk::config;
use interwork_plugin_sdk::log::{Level, log};
use interwork_plugin_sdk::mapping::{Guest, Mapped, Origin, Role};
use interwork_plugin_sdk::types::PluginError;

struct CompanyPlan;

struct Person {
    number: String,
    mailbox: String,
}

fn corp_domain() -> String {
    config::get("corp.domain").unwrap_or_else(|| "corp.example.test".to_string())
}

fn people() -> Vec<Person> {
    let table = config::get("corp.people").unwrap_or_default();
    let mut people = Vec::new();
    for entry in table.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.split_once('=') {
            Some((number, mailbox)) => people.push(Person {
                number: number.trim().to_string(),
                mailbox: mailbox.trim().to_ascii_lowercase(),
            }),
            None => log(
                Level::Warn,
                &format!("corp.people: {entry:?} is not NUMBER=first.last"),
            ),
        }
    }
    people
}

fn im_domain() -> Result<String, PluginError> {
    config::im_domains()
        .into_iter()
        .next()
        .ok_or_else(|| PluginError::permanent("no IM domain configured"))
}

/// The phone number of an IM identity, if it is one of ours.
fn number_of(uri: &str) -> Option<String> {
    let uri = uri.trim_matches(['<', '>']);
    if let Some(rest) = uri.strip_prefix("tel:") {
        return Some(rest.split(';').next()?.replace(['-', '.', '(', ')'], ""));
    }
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (user, host) = rest.split(';').next()?.split_once('@')?;
    let host = host.split(':').next()?;
    let ours = config::im_domains()
        .iter()
        .any(|d| d.eq_ignore_ascii_case(host));
    (ours && user.starts_with('+')).then(|| user.replace(['-', '_', '.'], ""))
}

/// `user@host` of a foreign `sip:` or `mailto:` identity.
fn foreign_address(uri: &str) -> Option<String> {
    let uri = uri.trim_matches(['<', '>']);
    if let Some(address) = uri.strip_prefix("mailto:") {
        return Some(address.split('?').next()?.to_string());
    }
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (user, host) = rest.split(';').next()?.split_once('@')?;
    Some(format!(
        "{user}@{}",
        host.split(':').next()?.to_ascii_lowercase()
    ))
}

impl Guest for CompanyPlan {
    fn email_of_im(im_uri: String, role: Role) -> Result<Mapped, PluginError> {
        if let Some(number) = number_of(&im_uri) {
            return people()
                .into_iter()
                .find(|p| p.number == number)
                .map(|p| Mapped {
                    value: format!("{}@{}", p.mailbox, corp_domain()),
                    origin: Origin::Provisioned,
                })
                .ok_or_else(|| {
                    PluginError::not_found(format!("{im_uri} is not in the company plan"))
                });
        }
        match role {
            Role::Recipient => foreign_address(&im_uri)
                .map(|value| Mapped {
                    value,
                    origin: Origin::Foreign,
                })
                .ok_or_else(|| {
                    PluginError::not_found(format!("{im_uri} cannot be mapped to e-mail"))
                }),
            Role::Sender => Err(PluginError::not_found(format!(
                "{im_uri} is not in the company plan"
            ))),
        }
    }

    fn im_of_email(address: String, role: Role) -> Result<Mapped, PluginError> {
        let address = address.trim_matches(['<', '>']).to_ascii_lowercase();
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Err(PluginError::invalid(format!(
                "{address:?} is not an e-mail address"
            )));
        };
        if domain == corp_domain() {
            let person = people().into_iter().find(|p| p.mailbox == local);
            return match person {
                Some(p) => Ok(Mapped {
                    value: format!("sip:{}@{}", p.number, im_domain()?),
                    origin: Origin::Provisioned,
                }),
                None => Err(PluginError::not_found(format!(
                    "{address} is not in the company plan"
                ))),
            };
        }
        match role {
            Role::Sender => Ok(Mapped {
                value: format!("sip:{address}"),
                origin: Origin::Foreign,
            }),
            Role::Recipient => Err(PluginError::permanent(format!(
                "{domain} is not a domain of this gateway"
            ))),
        }
    }

    fn is_served_domain(domain: String) -> bool {
        domain.eq_ignore_ascii_case(&corp_domain())
    }
}

interwork_plugin_sdk::export!(CompanyPlan: mapping);

// Native unit tests (`cargo test`), against the SDK's fake host. (The
// compatibility fixture builds this same file for contract 0.1.0, as a
// component only: its frozen SDK has no fake host.)
#[cfg(test)]
mod tests {
    use super::*;
    use interwork_plugin_sdk::testing::{self, Host, Installed};
    use interwork_plugin_sdk::types::ErrorKind;

    fn company() -> Installed {
        Host::new()
            .im_domain("im.example.test")
            .config("corp.domain", "corp.example.test")
            .config(
                "corp.people",
                "+15551234567=John.Smith, +15557654321=jane.doe, broken",
            )
            .install()
    }

    #[test]
    fn numbers_map_to_their_owners_both_ways() {
        let _host = company();
        for uri in [
            "sip:+15551234567@im.example.test",
            "tel:+1-555-123-4567",
            "<sip:+1.555.123.4567@IM.example.test;user=phone>",
        ] {
            let mapped = CompanyPlan::email_of_im(uri.into(), Role::Sender).unwrap();
            assert_eq!(mapped.value, "john.smith@corp.example.test", "{uri}");
        }
        let back = CompanyPlan::im_of_email("John.Smith@corp.example.test".into(), Role::Recipient)
            .unwrap();
        assert_eq!(back.value, "sip:+15551234567@im.example.test");
        // The broken table entry was logged, not fatal.
        assert!(
            testing::logs()
                .iter()
                .any(|l| l.level == Level::Warn && l.message.contains("\"broken\""))
        );
    }

    #[test]
    fn strangers_and_other_domains() {
        let _host = company();
        let unknown =
            CompanyPlan::email_of_im("sip:+19999999999@im.example.test".into(), Role::Sender);
        assert_eq!(unknown.unwrap_err().kind, ErrorKind::NotFound);
        let foreign =
            CompanyPlan::email_of_im("sip:bob@Mail.Example.org".into(), Role::Recipient).unwrap();
        assert_eq!(foreign.value, "bob@mail.example.org");
        let sender = CompanyPlan::im_of_email("bob@mail.example.org".into(), Role::Sender).unwrap();
        assert_eq!(sender.value, "sip:bob@mail.example.org");
        let relay = CompanyPlan::im_of_email("bob@mail.example.org".into(), Role::Recipient);
        assert_eq!(relay.unwrap_err().kind, ErrorKind::Permanent);
        assert!(CompanyPlan::is_served_domain("corp.example.test".into()));
        assert!(!CompanyPlan::is_served_domain("im.example.test".into()));
    }
}
