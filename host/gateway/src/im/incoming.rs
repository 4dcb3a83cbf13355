//! An IM as the SIP side delivered it (pager MESSAGE body or a complete
//! MSRP message): content type checks, CPIM unwrapping (RFC 3862), IMDN
//! request headers (RFC 5438), into the plugin contract's `im-message`.

use interwork_plugin_host::bindings::types::{Dispositions, Header, ImMessage, Timestamp};
use interwork_proto::sip::{NameAddr, Request};
use interwork_proto::{cpim, imdn};

use crate::outcome::{About, Kind, Verdict};

/// The IM identity of a request's sender: P-Asserted-Identity where the
/// IM system asserts it (RFC 3325), From otherwise.
pub fn sender_of(request: &Request) -> Result<String, Verdict> {
    let headers = &request.headers;
    let header = headers
        .get("P-Asserted-Identity")
        .or_else(|| headers.get("From"))
        .unwrap_or_default();
    NameAddr::parse(header)
        .map(|addr| addr.uri)
        .map_err(|e| Verdict::new(Kind::Invalid, About::Sender, e.to_string()))
}

/// The IM in a SIP MESSAGE request (pager mode, RFC 3428), dated `now`
/// unless it carries a CPIM `DateTime`.
pub fn im_of_message(request: &Request, now: Timestamp) -> Result<ImMessage, Verdict> {
    let headers = &request.headers;
    let sender = sender_of(request)?;
    let mut im = im_from_content(
        headers.get("Content-Type"),
        &request.body,
        &sender,
        &request.uri,
        headers.get("Subject"),
        now,
    )?;
    crate::threads::add_missing(&mut im, crate::threads::cpm_headers(request));
    Ok(im)
}

/// What the gateway takes (the `Accept` of a 415).
pub const ACCEPTED_TYPES: &str =
    "text/plain, message/cpim, text/*, image/*, audio/*, video/*, application/*";

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Content the gateway can turn into mail: text, media, documents. Not
/// multipart (no mail client would show it as the IM showed it) and not
/// other `message/*` types (IMDN reports, `message/sipfrag`: signalling,
/// not content).
fn acceptable(media: &str) -> bool {
    let Some((top, sub)) = media.split_once('/') else {
        return false;
    };
    !sub.is_empty()
        && matches!(top, "text" | "image" | "audio" | "video" | "application")
        && media != "application/sdp"
}

fn unsupported(content_type: &str) -> Verdict {
    Verdict::unsupported(
        ACCEPTED_TYPES,
        format!("cannot turn {content_type} into mail"),
    )
}

/// The IM in a content body. `sender`, `recipient` and `subject` come from
/// SIP (From, Request-URI, Subject); CPIM headers add the date, subject and
/// IMDN requests. `now` dates an IM that carries no DateTime.
pub fn im_from_content(
    content_type: Option<&str>,
    body: &[u8],
    sender: &str,
    recipient: &str,
    subject: Option<&str>,
    now: Timestamp,
) -> Result<ImMessage, Verdict> {
    let content_type = content_type.ok_or_else(|| unsupported("content without a Content-Type"))?;
    let media = media_type(content_type);
    let mut im = ImMessage {
        sender: sender.to_string(),
        recipients: vec![recipient.to_string()],
        date: now,
        subject: subject.map(str::to_string).filter(|s| !s.is_empty()),
        content_type: content_type.to_string(),
        body: body.to_vec(),
        imdn_message_id: None,
        dispositions: Dispositions::empty(),
        extra_headers: Vec::new(),
    };
    if media == "message/cpim" {
        let cpim = cpim::parse(body).map_err(|e| {
            Verdict::new(
                Kind::Invalid,
                About::Content,
                format!("bad message/cpim: {e}"),
            )
        })?;
        let inner = cpim
            .content_type()
            .ok_or_else(|| unsupported("message/cpim without a Content-Type"))?;
        if !acceptable(&media_type(inner)) {
            return Err(unsupported(inner));
        }
        im.content_type = inner.to_string();
        im.body = cpim.body.clone();
        if let Some(date) = cpim.date_time() {
            im.date = Timestamp {
                unix_seconds: date.unix_seconds,
                offset_minutes: date.offset_minutes,
            };
        }
        if im.subject.is_none() {
            im.subject = cpim.subject().filter(|s| !s.is_empty());
        }
        im.imdn_message_id = cpim
            .get_ns(imdn::IMDN_URN, "Message-ID")
            .map(|h| h.value.clone());
        if let Some(asked) = cpim.get_ns(imdn::IMDN_URN, "Disposition-Notification") {
            im.dispositions = super::contract_dispositions(imdn::Dispositions::parse(&asked.value));
        }
        for header in cpim
            .headers
            .iter()
            .filter(|h| h.prefix.is_none() && h.name.eq_ignore_ascii_case("Contribution-ID"))
        {
            im.extra_headers.push(Header {
                name: header.name.clone(),
                value: header.value.clone(),
            });
        }
    } else if !acceptable(&media) {
        return Err(unsupported(content_type));
    }
    Ok(im)
}
