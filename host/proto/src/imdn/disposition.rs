//! The `imdn.Disposition-Notification` header value (RFC 5438 §6.2).

use std::fmt;
use std::ops::BitOr;

/// Which notifications a sender asked for, as a small set of flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Dispositions {
    bits: u8,
}

impl Dispositions {
    /// Nothing requested.
    pub const NONE: Self = Self { bits: 0 };
    /// `positive-delivery` (RFC 5438 §5.1).
    pub const POSITIVE_DELIVERY: Self = Self { bits: 1 };
    /// `negative-delivery` (RFC 5438 §5.1).
    pub const NEGATIVE_DELIVERY: Self = Self { bits: 2 };
    /// `display` (RFC 5438 §5.3).
    pub const DISPLAY: Self = Self { bits: 4 };

    /// Wire tokens in the order they are written.
    const TOKENS: [(Self, &'static str); 3] = [
        (Self::POSITIVE_DELIVERY, "positive-delivery"),
        (Self::NEGATIVE_DELIVERY, "negative-delivery"),
        (Self::DISPLAY, "display"),
    ];

    /// True if every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.bits & other.bits == other.bits
    }

    /// True if nothing is requested.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Self) {
        self.bits |= other.bits;
    }

    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: Self) {
        self.bits &= !other.bits;
    }

    /// Reads a header value such as `positive-delivery, display`.
    ///
    /// Tokens are case-insensitive; parameters after `;` are ignored;
    /// `processing` (RFC 5438 §5.2, meant for intermediaries) and unknown
    /// tokens are ignored so that extensions do not break parsing; an empty
    /// value requests nothing. Never fails: a request the gateway does not
    /// understand is simply not honoured.
    pub fn parse(value: &str) -> Self {
        let mut requested = Self::NONE;
        for item in value.split(',') {
            let token = item.split(';').next().unwrap_or_default().trim();
            for (flag, name) in Self::TOKENS {
                if token.eq_ignore_ascii_case(name) {
                    requested.insert(flag);
                }
            }
        }
        requested
    }
}

impl BitOr for Dispositions {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self {
            bits: self.bits | other.bits,
        }
    }
}

/// The header value: known tokens joined by `", "`; empty when nothing is
/// requested.
impl fmt::Display for Dispositions {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        for (flag, name) in Self::TOKENS {
            if self.contains(flag) {
                write!(formatter, "{separator}{name}")?;
                separator = ", ";
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tokens_case_insensitively() {
        let parsed = Dispositions::parse("positive-delivery, negative-delivery");
        assert_eq!(
            parsed,
            Dispositions::POSITIVE_DELIVERY | Dispositions::NEGATIVE_DELIVERY
        );
        assert_eq!(
            Dispositions::parse(" Display ,POSITIVE-DELIVERY"),
            Dispositions::DISPLAY | Dispositions::POSITIVE_DELIVERY
        );
        assert_eq!(Dispositions::parse("display;x=1"), Dispositions::DISPLAY);
    }

    #[test]
    fn ignores_unknown_and_empty() {
        assert_eq!(
            Dispositions::parse("processing, fancy, display"),
            Dispositions::DISPLAY
        );
        assert!(Dispositions::parse("").is_empty());
        assert!(Dispositions::parse(" , ,").is_empty());
        assert!(Dispositions::parse("positive-deliveryx").is_empty());
    }

    #[test]
    fn formats_in_canonical_order() {
        let all = Dispositions::DISPLAY
            | Dispositions::NEGATIVE_DELIVERY
            | Dispositions::POSITIVE_DELIVERY;
        assert_eq!(
            all.to_string(),
            "positive-delivery, negative-delivery, display"
        );
        assert_eq!(Dispositions::NONE.to_string(), "");
        assert_eq!(Dispositions::parse(&all.to_string()), all);
    }

    #[test]
    fn flag_operations() {
        let mut flags = Dispositions::NONE;
        flags.insert(Dispositions::DISPLAY);
        assert!(flags.contains(Dispositions::DISPLAY));
        assert!(!flags.contains(Dispositions::POSITIVE_DELIVERY));
        flags.remove(Dispositions::DISPLAY);
        assert!(flags.is_empty());
    }
}
