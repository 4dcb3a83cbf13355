//! The directory of provisioned addresses (SPEC S2): pairs of an IM identity
//! and the e-mail address assigned to it, kept by the operator in a TOML
//! file and read by plugins through the `directory` interface.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a directory file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The file cannot be read.
    #[error("cannot read directory file {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why. In the message, not a `source`: with its
        /// chain it would be printed twice.
        error: std::io::Error,
    },
    /// The file is not TOML of the expected shape.
    #[error("directory file {path}: {error}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What the TOML parser said. In the message, not a `source`: with its
        /// chain it would be printed twice.
        error: toml::de::Error,
    },
    /// One entry is wrong.
    #[error("directory file {path}: address[{index}]: {message}")]
    Entry {
        /// The file.
        path: PathBuf,
        /// Which `[[address]]`, from 0.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    #[serde(default)]
    address: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    im: String,
    email: String,
}

/// Provisioned addresses, one-to-one in both directions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Directory {
    email_by_im: BTreeMap<String, String>,
    im_by_email: BTreeMap<String, String>,
}

/// IM URIs compare with scheme and host in lower case (RFC 3261 §19.1.4);
/// the user part stays as written.
pub fn normalize_im(uri: &str) -> String {
    let uri = uri.trim().trim_start_matches('<').trim_end_matches('>');
    let Some((scheme, rest)) = uri.split_once(':') else {
        return uri.to_string();
    };
    let scheme = scheme.to_ascii_lowercase();
    match rest.rsplit_once('@') {
        Some((user, host)) => format!("{scheme}:{user}@{}", host.to_ascii_lowercase()),
        None => format!("{scheme}:{rest}"),
    }
}

/// E-mail addresses compare case-insensitively: local parts are
/// case-sensitive in theory (RFC 5321 §2.4) but nobody provisions two
/// mailboxes that differ only in case, and mail clients change case.
pub fn normalize_email(address: &str) -> String {
    address
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase()
}

impl Directory {
    /// Reads a directory file.
    pub fn load(path: &Path) -> Result<Self, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|error| DirectoryError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ParseError::Syntax(error) => DirectoryError::Syntax {
                path: path.to_path_buf(),
                error,
            },
            ParseError::Entry { index, message } => DirectoryError::Entry {
                path: path.to_path_buf(),
                index,
                message,
            },
        })
    }

    fn parse(text: &str) -> Result<Self, ParseError> {
        let file: DirectoryFile = toml::from_str(text).map_err(ParseError::Syntax)?;
        Self::from_pairs(file.address.into_iter().map(|e| (e.im, e.email)))
            .map_err(|(index, message)| ParseError::Entry { index, message })
    }

    /// A directory of (IM URI, e-mail address) pairs, normalised; the
    /// first pair that is malformed or breaks one-to-one is refused with
    /// its index.
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, (usize, String)> {
        let mut directory = Self::default();
        for (index, (im_given, email_given)) in pairs.into_iter().enumerate() {
            let im = normalize_im(&im_given);
            let email = normalize_email(&email_given);
            if !im.contains(':') || !email.contains('@') {
                return Err((
                    index,
                    format!(
                        "{im_given:?} ↔ {email_given:?} is not an IM URI and an e-mail address"
                    ),
                ));
            }
            // SPEC S2: one-to-one, so that replies thread back.
            if let Some(other) = directory.email_by_im.get(&im) {
                return Err((index, format!("{im} already has {other}")));
            }
            if let Some(other) = directory.im_by_email.get(&email) {
                return Err((index, format!("{email} already belongs to {other}")));
            }
            directory.email_by_im.insert(im.clone(), email.clone());
            directory.im_by_email.insert(email, im);
        }
        Ok(directory)
    }

    /// The (IM URI, e-mail address) pairs, normalised, by IM URI.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.email_by_im
            .iter()
            .map(|(im, email)| (im.clone(), email.clone()))
            .collect()
    }

    /// The provisioned e-mail address of an IM identity.
    pub fn email_of(&self, im_uri: &str) -> Option<&str> {
        self.email_by_im
            .get(&normalize_im(im_uri))
            .map(String::as_str)
    }

    /// The IM identity of a provisioned e-mail address.
    pub fn im_of(&self, address: &str) -> Option<&str> {
        self.im_by_email
            .get(&normalize_email(address))
            .map(String::as_str)
    }

    /// How many addresses are provisioned.
    pub fn len(&self) -> usize {
        self.email_by_im.len()
    }

    /// Whether no address is provisioned.
    pub fn is_empty(&self) -> bool {
        self.email_by_im.is_empty()
    }
}

/// What plugins read through the `directory` import.
impl interwork_plugin_host::DirectoryLookup for Directory {
    fn email_of(&self, im_uri: &str) -> Option<String> {
        Directory::email_of(self, im_uri).map(str::to_string)
    }

    fn im_of(&self, address: &str) -> Option<String> {
        Directory::im_of(self, address).map(str::to_string)
    }
}

enum ParseError {
    Syntax(toml::de::Error),
    Entry { index: usize, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
        [[address]]
        im = "sip:+86_13812345678@IM.example.test"
        email = "Zhang.San@gw.example.test"

        [[address]]
        im = "<sip:alice@im.example.test>"
        email = "<alice.w@gw.example.test>"
    "#;

    #[test]
    fn lookups_are_normalised_both_ways() {
        let dir = Directory::parse(SAMPLE).ok().unwrap();
        assert_eq!(dir.len(), 2);
        assert_eq!(
            dir.email_of("SIP:+86_13812345678@im.EXAMPLE.test"),
            Some("zhang.san@gw.example.test")
        );
        assert_eq!(
            dir.im_of("ZHANG.SAN@GW.EXAMPLE.TEST"),
            Some("sip:+86_13812345678@im.example.test")
        );
        assert_eq!(
            dir.email_of("sip:alice@im.example.test"),
            Some("alice.w@gw.example.test")
        );
        assert_eq!(dir.email_of("sip:Alice@im.example.test"), None);
        assert_eq!(dir.im_of("bob@gw.example.test"), None);
    }

    #[test]
    fn mapping_must_be_one_to_one() {
        let twice = r#"
            [[address]]
            im = "sip:a@im.example.test"
            email = "x@gw.example.test"
            [[address]]
            im = "sip:b@im.example.test"
            email = "X@gw.example.test"
        "#;
        match Directory::parse(twice) {
            Err(ParseError::Entry { index: 1, message }) => {
                assert!(
                    message.contains("already belongs to sip:a@im.example.test"),
                    "{message}"
                )
            }
            _ => panic!("duplicate e-mail address accepted"),
        }
    }

    #[test]
    fn bad_entries_are_refused() {
        let bad = "[[address]]\nim = \"alice\"\nemail = \"alice@x.test\"\n";
        assert!(matches!(
            Directory::parse(bad),
            Err(ParseError::Entry { index: 0, .. })
        ));
        let unknown = "[[address]]\nim = \"sip:a@b\"\nemail = \"a@b\"\nname = \"A\"\n";
        assert!(matches!(
            Directory::parse(unknown),
            Err(ParseError::Syntax(_))
        ));
    }
}
