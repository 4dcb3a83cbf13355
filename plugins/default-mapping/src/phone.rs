//! Telephone identities in SIP user parts and e-mail local parts.
//!
//! A global number (E.164, RFC 3966 §5.1.4) is written `+CC_NUMBER` in a SIP
//! user part and `+CC-NUMBER` in an e-mail local part, where `CC` is the
//! country code. Marking the country code keeps the number readable, and the
//! two separators keep the forms apart so that each maps back exactly.

/// Country codes of two digits (ITU-T E.164 assignments). Codes `1` and `7`
/// have one digit; every other code has three.
const TWO_DIGIT_CODES: &[&str] = &[
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
    "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
];

/// E.164 allows at most 15 digits, country code included.
const MAX_DIGITS: usize = 15;

/// Splits the digits of a global number (without `+`) into country code and
/// national number.
fn split_country_code(digits: &str) -> Result<(&str, &str), String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("+{digits} is not a global telephone number"));
    }
    if digits.len() > MAX_DIGITS {
        return Err(format!("+{digits} has more than {MAX_DIGITS} digits"));
    }
    if digits.starts_with('0') {
        return Err(format!("+{digits}: no country code starts with 0"));
    }
    let cc_len = if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO_DIGIT_CODES.contains(&&digits[..2.min(digits.len())]) {
        2
    } else {
        3
    };
    if digits.len() <= cc_len {
        return Err(format!("+{digits} has a country code but no number"));
    }
    Ok(digits.split_at(cc_len))
}

/// Removes RFC 3966 visual separators (`-`, `.`, `(`, `)`) from a number.
fn strip_visual_separators(number: &str) -> String {
    number
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
        .collect()
}

/// The SIP user part of a global number written in any of its forms:
/// `+8613812345678`, `+86-138-1234-5678`, `+86_13812345678`.
pub fn global_number_to_sip_user(number: &str) -> Result<String, String> {
    let Some(rest) = number.strip_prefix('+') else {
        return Err(format!(
            "{number} is not a global number (RFC 3966 §5.1.4: it must start with +)"
        ));
    };
    let digits = strip_visual_separators(&rest.replace('_', ""));
    let (cc, national) = split_country_code(&digits)?;
    Ok(format!("+{cc}_{national}"))
}

/// Whether a SIP user part or local part is written as a telephone number.
pub fn looks_like_number(user: &str) -> bool {
    user.starts_with('+')
}

/// The e-mail local part of a SIP user part: a telephone user in any of its
/// spellings becomes `+CC-NUMBER`; any other user part is used as it is.
pub fn sip_user_to_local_part(user: &str) -> Result<String, String> {
    if !looks_like_number(user) {
        return Ok(user.to_string());
    }
    Ok(global_number_to_sip_user(user)?.replacen('_', "-", 1))
}

/// The SIP user part of an e-mail local part: `+CC-NUMBER` (or a number
/// without the separator) becomes `+CC_NUMBER`; anything else is used as it
/// is.
pub fn local_part_to_sip_user(local: &str) -> Result<String, String> {
    if !looks_like_number(local) {
        return Ok(local.to_string());
    }
    let Some(rest) = local.strip_prefix('+') else {
        unreachable!("checked by looks_like_number")
    };
    if rest.matches('-').count() > 1 || rest.contains('_') {
        return Err(format!(
            "{local} is not a telephone address (expected +CC-NUMBER)"
        ));
    }
    if let Some((cc, national)) = rest.split_once('-') {
        let digits = format!("{cc}{national}");
        let (expected_cc, _) = split_country_code(&digits)?;
        if expected_cc != cc {
            return Err(format!(
                "{local}: +{cc} is not where the country code ends (expected +{expected_cc})"
            ));
        }
    }
    global_number_to_sip_user(local)
}
