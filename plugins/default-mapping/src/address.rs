//! The IM identities the mapping sees, normalised: telephone numbers in
//! their SIP form (the parsing itself is the SDK's).

use std::fmt;

use interwork_plugin_sdk::{EmailAddress, ImUri, sip_uri};

use crate::phone;

/// An IM identity, normalised: scheme and host in lower case, telephone
/// numbers in their SIP form.
pub enum ImIdentity {
    /// `sip:` or `sips:` URI (a `tel:` URI becomes one in the tel domain).
    Sip { user: String, host: String },
    /// `mailto:` URI.
    Mailto(EmailAddress),
}

impl ImIdentity {
    /// Parses a `sip:`, `sips:`, `tel:` or `mailto:` URI. `tel_domain` is
    /// asked only for `tel:` URIs.
    pub fn parse<E>(
        uri: &str,
        tel_domain: impl FnOnce() -> Result<String, E>,
    ) -> Result<Self, String>
    where
        E: fmt::Display,
    {
        match ImUri::parse(uri)? {
            ImUri::Sip {
                user,
                host,
                user_is_phone,
                ..
            } => {
                let user = if user_is_phone || phone::looks_like_number(&user) {
                    phone::global_number_to_sip_user(&user)?
                } else {
                    user
                };
                Ok(Self::Sip { user, host })
            }
            ImUri::Tel(number) => {
                let user = phone::global_number_to_sip_user(&number)?;
                let host = tel_domain().map_err(|e| e.to_string())?;
                Ok(Self::Sip {
                    user,
                    host: host.to_ascii_lowercase(),
                })
            }
            ImUri::Mailto(mail) => Ok(Self::Mailto(mail)),
        }
    }

    /// The identity as a `sip:` (or `mailto:`) URI, as the directory keeps it.
    pub fn canonical_uri(&self) -> String {
        match self {
            Self::Sip { user, host } => sip_uri(user, host),
            Self::Mailto(mail) => format!("mailto:{mail}"),
        }
    }
}
