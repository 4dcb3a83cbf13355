//! {description}
//!
//! The rules, in order: a provisioned address (the gateway's directory)
//! wins; a user of a served IM domain is `user@domain` by mail and back;
//! an e-mail sender from elsewhere becomes the IM identity `sip:address`
//! so that replies find their way; anything else is not found.

use interwork_plugin_sdk::mapping::{Guest, Mapped, Origin, Role};
use interwork_plugin_sdk::types::PluginError;
use interwork_plugin_sdk::{EmailAddress, ImUri, config, directory, sip_uri};

struct Plugin;

fn is_im_domain(domain: &str) -> bool {
    config::im_domains()
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
}

impl Guest for Plugin {
    fn email_of_im(im_uri: String, _role: Role) -> Result<Mapped, PluginError> {
        if let Some(address) = directory::email_of(&im_uri) {
            return Ok(Mapped {
                value: address,
                origin: Origin::Provisioned,
            });
        }
        match ImUri::parse(&im_uri).map_err(PluginError::invalid)? {
            ImUri::Sip { user, host, .. } if is_im_domain(&host) => Ok(Mapped {
                value: format!("{user}@{host}"),
                origin: Origin::Constructed,
            }),
            _ => Err(PluginError::not_found(format!(
                "{im_uri} is not a user of a served IM domain"
            ))),
        }
    }

    fn im_of_email(address: String, role: Role) -> Result<Mapped, PluginError> {
        if let Some(im) = directory::im_of(&address) {
            return Ok(Mapped {
                value: im,
                origin: Origin::Provisioned,
            });
        }
        let mail = EmailAddress::parse(&address).map_err(PluginError::invalid)?;
        if is_im_domain(&mail.domain) {
            return Ok(Mapped {
                value: sip_uri(&mail.local, &mail.domain),
                origin: Origin::Constructed,
            });
        }
        match role {
            Role::Sender => Ok(Mapped {
                value: mail.to_sip_uri(),
                origin: Origin::Foreign,
            }),
            Role::Recipient => Err(PluginError::not_found(format!(
                "{address} is not in a served domain"
            ))),
        }
    }

    fn is_served_domain(domain: String) -> bool {
        is_im_domain(&domain)
            || config::mail_domains()
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&domain))
    }
}

interwork_plugin_sdk::export!(Plugin: mapping);

#[cfg(test)]
mod tests {
    use super::*;
    use interwork_plugin_sdk::testing::Host;
    use interwork_plugin_sdk::types::ErrorKind;

    fn host() -> interwork_plugin_sdk::testing::Installed {
        Host::new()
            .im_domain("im.example.test")
            .mail_domain("gw.example.test")
            .provision("sip:boss@im.example.test", "the.boss@corp.example.test")
            .install()
    }

    #[test]
    fn a_user_of_an_im_domain_has_a_constructed_address() {
        let _host = host();
        let mapped = Plugin::email_of_im("sip:alice@im.example.test".into(), Role::Sender).unwrap();
        assert_eq!(mapped.value, "alice@im.example.test");
        let back = Plugin::im_of_email(mapped.value, Role::Recipient).unwrap();
        assert_eq!(back.value, "sip:alice@im.example.test");
    }

    #[test]
    fn a_provisioned_address_wins() {
        let _host = host();
        let mapped = Plugin::email_of_im("sip:boss@im.example.test".into(), Role::Sender).unwrap();
        assert_eq!((mapped.value.as_str(), mapped.origin), ("the.boss@corp.example.test", Origin::Provisioned));
    }

    #[test]
    fn strangers_are_not_found_and_foreign_senders_can_be_answered() {
        let _host = host();
        let refused = Plugin::email_of_im("sip:bob@elsewhere.example".into(), Role::Recipient);
        assert_eq!(refused.unwrap_err().kind, ErrorKind::NotFound);
        let sender = Plugin::im_of_email("bob@mail.example.org".into(), Role::Sender).unwrap();
        assert_eq!(sender.value, "sip:bob@mail.example.org");
        assert!(Plugin::is_served_domain("gw.example.test".into()));
        assert!(!Plugin::is_served_domain("mail.example.org".into()));
    }
}
