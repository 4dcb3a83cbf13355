//! What a UAS checks of a request before it processes it (RFC 3261 §8.2),
//! one step per function, in the RFC's order: the method (§8.2.1), the
//! Request-URI (§8.2.2.1), the dialog a To tag names (§8.2.2.2, with
//! §12.2.2), the extensions it requires (§8.2.2.3) and its content
//! (§8.2.3). The first step that fails gives the answer. Merged requests
//! (§8.2.2.2, `482`) need the server transactions, so the endpoint checks
//! them (`transaction::Begin::Merged`).
//!
//! Pure functions of the request: the running gateway and `interwork
//! convert im-to-email` give the same answers.

use interwork_proto::mime::media_type;
use interwork_proto::sip::{Method, NameAddr, Request, Uri};
use interwork_proto::uri_list;

use super::Answer;

/// Methods the gateway serves (the `Allow` of a 405 and of OPTIONS).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, MESSAGE, OPTIONS";

/// Request-URI schemes the gateway serves: SIP and SIPS URIs, and tel URIs
/// (RFC 3966) that the mapping turns into addresses.
const URI_SCHEMES: &[&str] = &["sip", "sips", "tel"];

/// Content types a MESSAGE may carry at the top: what becomes mail (the
/// `Accept` of a 415 and of OPTIONS). Inside CPIM and multipart the same
/// leaves are taken (`crate::im::incoming`).
pub const ACCEPTED_TYPES: &str = "text/plain, message/cpim, multipart/mixed, multipart/related, \
     multipart/alternative, text/*, image/*, audio/*, video/*, application/*";

/// Content codings the gateway decodes (RFC 3261 §20.12): none but the
/// identity.
pub const ACCEPTED_ENCODINGS: &str = "identity";

/// Languages the gateway takes (RFC 3261 §20.3): any; a `Content-Language`
/// is carried, never judged.
pub const ACCEPTED_LANGUAGES: &str = "*";

/// What the IM side learns of the gateway: the answer to OPTIONS
/// (RFC 3261 §11.2).
pub fn capabilities() -> Answer {
    Answer::new(200, "OK")
        .with("Allow", ALLOW)
        .with("Accept", ACCEPTED_TYPES)
        .with("Accept-Encoding", ACCEPTED_ENCODINGS)
        .with("Accept-Language", ACCEPTED_LANGUAGES)
        .with("Supported", uri_list::OPTION_TAG)
}

/// The answer to a request whose content the gateway cannot take
/// (RFC 3261 §8.2.3): 415 listing what it takes.
pub fn unsupported_media() -> Answer {
    with_accepted(Answer::new(415, "Unsupported Media Type"), ACCEPTED_TYPES)
}

/// The three lists §8.2.3 asks a 415 to carry, `accept` as its types.
pub fn with_accepted(answer: Answer, accept: &str) -> Answer {
    answer
        .with("Accept", accept)
        .with("Accept-Encoding", ACCEPTED_ENCODINGS)
        .with("Accept-Language", ACCEPTED_LANGUAGES)
}

/// All the §8.2 steps but the merged-request one. `in_dialog` says whether
/// a Call-ID is one of the gateway's dialogs (its MSRP sessions).
pub fn inspect(request: &Request, in_dialog: impl Fn(&str) -> bool) -> Result<(), Answer> {
    method(request)?;
    request_uri(request)?;
    dialog(request, in_dialog)?;
    required_extensions(request)?;
    content(request)
}

/// §8.2.1: a method the gateway does not serve is answered 405 with the
/// methods it does.
pub fn method(request: &Request) -> Result<(), Answer> {
    match request.method {
        Method::Other(_) => Err(Answer::new(405, "Method Not Allowed").with("Allow", ALLOW)),
        _ => Ok(()),
    }
}

/// §8.2.2.1: a Request-URI of a scheme the gateway does not serve is 416.
/// The request was validated, so the URI parses.
pub fn request_uri(request: &Request) -> Result<(), Answer> {
    let scheme = Uri::parse(&request.uri)
        .map(|uri| uri.scheme)
        .unwrap_or_default();
    if URI_SCHEMES.contains(&scheme.as_str()) {
        Ok(())
    } else {
        Err(Answer::new(416, "Unsupported URI Scheme"))
    }
}

/// The To tag of a request, if any: a request with one is inside a dialog.
pub fn to_tag(request: &Request) -> Option<String> {
    let to = NameAddr::parse(request.headers.get("To")?).ok()?;
    to.param("tag")
        .filter(|tag| !tag.is_empty())
        .map(str::to_string)
}

/// §8.2.2.2 and §12.2.2: a request with a To tag belongs to a dialog; one
/// the gateway does not know is 481. Inside one of its sessions, a
/// MESSAGE is served as any other; a re-INVITE, which would change the
/// session, is 488 and the session goes on unchanged (§14.2). CANCEL and
/// BYE find their session themselves.
pub fn dialog(request: &Request, in_dialog: impl Fn(&str) -> bool) -> Result<(), Answer> {
    if !matches!(request.method, Method::Message | Method::Invite) || to_tag(request).is_none() {
        return Ok(());
    }
    let call_id = request.headers.get("Call-ID").unwrap_or_default();
    if !in_dialog(call_id) {
        return Err(Answer::new(481, "Call/Transaction Does Not Exist"));
    }
    if request.method == Method::Invite {
        return Err(Answer::new(488, "Not Acceptable Here"));
    }
    Ok(())
}

/// The option tags the gateway supports for a method.
fn supported(method: &Method) -> &'static [&'static str] {
    match method {
        // RFC 5365 §7: multiple-recipient MESSAGE.
        Method::Message => &[uri_list::OPTION_TAG],
        _ => &[],
    }
}

/// §8.2.2.3: a request that requires an extension the gateway does not
/// support is 420, with `Unsupported` naming each such option tag. CANCEL
/// and ACK are never refused for their `Require`.
pub fn required_extensions(request: &Request) -> Result<(), Answer> {
    if matches!(request.method, Method::Cancel | Method::Ack) {
        return Ok(());
    }
    let ours = supported(&request.method);
    let mut unsupported: Vec<&str> = Vec::new();
    for tag in request
        .headers
        .get_all("Require")
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
    {
        let known = ours.iter().any(|ours| ours.eq_ignore_ascii_case(tag));
        if !known && !unsupported.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            unsupported.push(tag);
        }
    }
    if unsupported.is_empty() {
        return Ok(());
    }
    let mut answer = Answer::new(420, "Bad Extension").with("Unsupported", unsupported.join(", "));
    if !ours.is_empty() {
        answer = answer.with("Supported", ours.join(", "));
    }
    Err(answer)
}

/// §8.2.3: content the gateway cannot take is 415, with the types,
/// codings and languages it takes. The top-level type is judged here; what
/// CPIM or a multipart body holds, where the IM is read.
pub fn content(request: &Request) -> Result<(), Answer> {
    // An INVITE must carry its offer: the answer's MSRP path depends on
    // the offer's (an offer in the 2xx, RFC 3261 §13.2.1, is not made).
    if request.body.is_empty() && request.method != Method::Invite {
        return Ok(());
    }
    // §20.12: a content coding the gateway cannot undo.
    let encoded = request
        .headers
        .get_all("Content-Encoding")
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"));
    let media = media_type(request.headers.get("Content-Type").unwrap_or_default());
    match request.method {
        Method::Invite if encoded || media != "application/sdp" => Err(with_accepted(
            Answer::new(415, "Unsupported Media Type"),
            "application/sdp",
        )),
        Method::Message if encoded || !message_type(&media) => Err(unsupported_media()),
        _ => Ok(()),
    }
}

/// A top-level type a MESSAGE may carry: content the gateway takes, CPIM
/// around it, or one of the [`MULTIPARTS`] of it.
fn message_type(media: &str) -> bool {
    takes_leaf(media) || media == "message/cpim" || MULTIPARTS.contains(&media)
}

/// Content the gateway can turn into mail, alone or as a leaf of a
/// multipart: text, media, documents. Not other `message/*` types (IMDN
/// reports, `message/sipfrag`: signalling, not content), not SDP.
pub fn takes_leaf(media: &str) -> bool {
    let Some((top, sub)) = media.split_once('/') else {
        return false;
    };
    !sub.is_empty()
        && matches!(top, "text" | "image" | "audio" | "video" | "application")
        && media != "application/sdp"
}

/// The multiparts that become mail with the same structure (RFC 2046
/// §5.1.3, RFC 2387, RFC 2046 §5.1.4). Others (`signed`, `encrypted`,
/// `report`) mean something a gateway cannot keep.
pub const MULTIPARTS: &[&str] = &[
    "multipart/mixed",
    "multipart/related",
    "multipart/alternative",
];

#[cfg(test)]
mod tests;
