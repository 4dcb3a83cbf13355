//! Interwork's default address mapping (SPEC S2).
//!
//! * Provisioned addresses from the gateway's directory win over everything.
//! * Constructed addresses: `sip:alice@im.example.test` ↔ `alice@im.example.test`.
//! * Telephone identities: `tel:+8613812345678` → `sip:+86_13812345678@<im domain>`
//!   ↔ `+86-13812345678@<im domain>`. The separator marks where the E.164
//!   country code ends, so each form turns back into the others exactly.
//! * Foreign identities: an IM recipient whose domain is not served
//!   (`sip:bob@mail.example.org`, `mailto:bob@mail.example.org`) already is an
//!   e-mail address; an e-mail sender becomes the IM identity
//!   `sip:bob@mail.example.org`, so that the IM user's reply finds its way back.
//!
//! Plugin config keys (`[plugins.config]`): `mapping.tel-domain` — the IM
//! domain that global `tel:` numbers belong to (default: the first IM domain).

mod address;
mod phone;

use interwork_plugin_sdk::mapping::{Guest, Mapped, Origin, Role};
use interwork_plugin_sdk::types::{ErrorKind, PluginError};
use interwork_plugin_sdk::{config, directory};

use address::ImIdentity;
use interwork_plugin_sdk::{EmailAddress as MailAddress, sip_uri};

struct DefaultMapping;

fn is_im_domain(domain: &str) -> bool {
    config::im_domains()
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
}

fn is_mail_domain(domain: &str) -> bool {
    config::mail_domains()
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
}

fn tel_domain() -> Result<String, PluginError> {
    if let Some(domain) = config::get("mapping.tel-domain") {
        return Ok(domain);
    }
    config::im_domains()
        .into_iter()
        .next()
        .ok_or_else(|| PluginError::permanent("no IM domain is configured for tel: identities"))
}

fn provisioned(value: String) -> Mapped {
    Mapped {
        value,
        origin: Origin::Provisioned,
    }
}

impl Guest for DefaultMapping {
    fn email_of_im(im_uri: String, role: Role) -> Result<Mapped, PluginError> {
        let identity = ImIdentity::parse(&im_uri, tel_domain).map_err(PluginError::invalid)?;
        // The directory knows the identity by its SIP form; a tel: URI is
        // looked up both as written and as its SIP form.
        for key in [im_uri.as_str(), identity.canonical_uri().as_str()] {
            if let Some(address) = directory::email_of(key) {
                return Ok(provisioned(address));
            }
        }
        match identity {
            ImIdentity::Mailto(mail) => match role {
                Role::Recipient => Ok(Mapped {
                    value: mail.to_string(),
                    origin: Origin::Foreign,
                }),
                Role::Sender => Err(PluginError::new(
                    ErrorKind::NotFound,
                    format!("sender {im_uri} is an e-mail address, not an IM user of this gateway"),
                )),
            },
            ImIdentity::Sip { user, host, .. } if is_im_domain(&host) => {
                let local = phone::sip_user_to_local_part(&user).map_err(PluginError::invalid)?;
                match role {
                    Role::Sender => Ok(Mapped {
                        value: format!("{local}@{}", host.to_ascii_lowercase()),
                        origin: Origin::Constructed,
                    }),
                    // An IM user of a served domain has no mailbox of its
                    // own unless the directory gives one: its constructed
                    // address is this gateway, and mail to it would loop.
                    Role::Recipient => Err(PluginError::new(
                        ErrorKind::NotFound,
                        format!("IM user {im_uri} has no provisioned e-mail address"),
                    )),
                }
            }
            ImIdentity::Sip { user, host, .. } => {
                if is_mail_domain(&host) {
                    return Err(PluginError::new(
                        ErrorKind::NotFound,
                        format!("{im_uri} is not a provisioned address of this gateway"),
                    ));
                }
                match role {
                    Role::Recipient => {
                        let mail = MailAddress::from_sip_user(&user, &host)
                            .map_err(PluginError::invalid)?;
                        Ok(Mapped {
                            value: mail.to_string(),
                            origin: Origin::Foreign,
                        })
                    }
                    Role::Sender => Err(PluginError::new(
                        ErrorKind::NotFound,
                        format!("sender {im_uri} is not in a served IM domain"),
                    )),
                }
            }
        }
    }

    fn im_of_email(address: String, role: Role) -> Result<Mapped, PluginError> {
        let mail = MailAddress::parse(&address).map_err(PluginError::invalid)?;
        if let Some(uri) = directory::im_of(&mail.to_string()) {
            return Ok(provisioned(uri));
        }
        let served_im = is_im_domain(&mail.domain);
        match role {
            Role::Recipient if served_im => Ok(Mapped {
                value: sip_uri(
                    &phone::local_part_to_sip_user(&mail.local).map_err(PluginError::invalid)?,
                    &mail.domain,
                ),
                origin: Origin::Constructed,
            }),
            Role::Recipient if is_mail_domain(&mail.domain) => Err(PluginError::new(
                ErrorKind::NotFound,
                format!("{mail} is not a provisioned address of this gateway"),
            )),
            Role::Recipient => Err(PluginError::new(
                ErrorKind::Permanent,
                format!("{} is not a domain of this gateway", mail.domain),
            )),
            // A served-domain sender is one of our own IM users writing by
            // mail: give it its own IM identity back.
            Role::Sender if served_im => Ok(Mapped {
                value: sip_uri(
                    &phone::local_part_to_sip_user(&mail.local).map_err(PluginError::invalid)?,
                    &mail.domain,
                ),
                origin: Origin::Constructed,
            }),
            Role::Sender => Ok(Mapped {
                value: mail.to_sip_uri(),
                origin: Origin::Foreign,
            }),
        }
    }

    fn is_served_domain(domain: String) -> bool {
        is_im_domain(&domain) || is_mail_domain(&domain)
    }
}

interwork_plugin_sdk::export!(DefaultMapping: mapping);

#[cfg(test)]
mod tests {
    use super::*;
    use interwork_plugin_sdk::testing::{Host, Installed};

    fn host() -> Installed {
        Host::new()
            .im_domain("im.example.test")
            .mail_domain("gw.example.test")
            .provision("sip:boss@im.example.test", "the.boss@corp.example.test")
            .install()
    }

    fn email_of(uri: &str, role: Role) -> Result<String, ErrorKind> {
        DefaultMapping::email_of_im(uri.into(), role)
            .map(|m| m.value)
            .map_err(|e| e.kind)
    }

    fn im_of(address: &str, role: Role) -> Result<String, ErrorKind> {
        DefaultMapping::im_of_email(address.into(), role)
            .map(|m| m.value)
            .map_err(|e| e.kind)
    }

    #[test]
    fn constructed_addresses_turn_back_into_their_identity() {
        let _host = host();
        let address = email_of("sip:alice@im.example.test", Role::Sender).unwrap();
        assert_eq!(address, "alice@im.example.test");
        assert_eq!(
            im_of(&address, Role::Recipient).unwrap(),
            "sip:alice@im.example.test"
        );
    }

    #[test]
    fn telephone_numbers_keep_their_country_code() {
        let _host = host();
        let address = email_of("tel:+8613812345678", Role::Sender).unwrap();
        assert_eq!(address, "+86-13812345678@im.example.test");
        assert_eq!(
            im_of(&address, Role::Recipient).unwrap(),
            "sip:+86_13812345678@im.example.test"
        );
        let _host = Host::new()
            .im_domain("im.example.test")
            .im_domain("phones.example.test")
            .config("mapping.tel-domain", "phones.example.test")
            .install();
        assert_eq!(
            email_of("tel:+15551234567", Role::Sender).unwrap(),
            "+1-5551234567@phones.example.test"
        );
    }

    #[test]
    fn the_directory_wins_and_our_users_have_no_constructed_mailbox() {
        let _host = host();
        assert_eq!(
            email_of("sip:boss@im.example.test", Role::Recipient).unwrap(),
            "the.boss@corp.example.test"
        );
        assert_eq!(
            im_of("the.boss@corp.example.test", Role::Recipient).unwrap(),
            "sip:boss@im.example.test"
        );
        // Mail to a constructed address of ours would come back: a loop.
        assert_eq!(
            email_of("sip:alice@im.example.test", Role::Recipient),
            Err(ErrorKind::NotFound)
        );
    }

    #[test]
    fn foreign_identities_are_mail_users_and_others_are_refused() {
        let _host = host();
        assert_eq!(
            email_of("sip:bob@mail.example.org", Role::Recipient).unwrap(),
            "bob@mail.example.org"
        );
        assert_eq!(
            email_of("mailto:bob@mail.example.org", Role::Recipient).unwrap(),
            "bob@mail.example.org"
        );
        assert_eq!(
            im_of("bob@mail.example.org", Role::Sender).unwrap(),
            "sip:bob@mail.example.org"
        );
        assert_eq!(
            im_of("bob@mail.example.org", Role::Recipient),
            Err(ErrorKind::Permanent)
        );
        assert_eq!(
            email_of("sip:bob@mail.example.org", Role::Sender),
            Err(ErrorKind::NotFound)
        );
        assert_eq!(email_of("http://x", Role::Sender), Err(ErrorKind::Invalid));
        assert!(DefaultMapping::is_served_domain("GW.example.test".into()));
        assert!(!DefaultMapping::is_served_domain("mail.example.org".into()));
    }
}
