//! An IM as the SIP side delivered it (pager MESSAGE body or a complete
//! MSRP message): content type checks, CPIM unwrapping (RFC 3862),
//! multipart content read and checked part by part (RFC 2046), IMDN
//! request headers (RFC 5438), into the plugin contract's `im-message`.

use interwork_plugin_host::bindings::types::{Dispositions, Header, ImMessage, Timestamp};
use interwork_proto::mime::entity::{self, Body, Entity};
use interwork_proto::mime::media_type;
use interwork_proto::sip::{NameAddr, Request};
use interwork_proto::{cpim, imdn, uri_list};

use crate::outcome::{About, Kind, Verdict};
use crate::sip::inspection::{ACCEPTED_TYPES, MULTIPARTS, takes_leaf};

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
    if is_recipient_list(request) {
        return group_im(request, &sender, now);
    }
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

/// Whether a MESSAGE is a multiple-recipient one (RFC 5365 §4.1): it
/// requires `recipient-list-message` and carries `multipart/mixed`.
fn is_recipient_list(request: &Request) -> bool {
    let required = request
        .headers
        .get_all("Require")
        .into_iter()
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().eq_ignore_ascii_case(uri_list::OPTION_TAG));
    required
        && request
            .headers
            .get("Content-Type")
            .is_some_and(|ct| media_type(ct) == "multipart/mixed")
}

/// A group IM (RFC 5365): the recipients from the URI list, with how each
/// is addressed (RFC 5364), the content from the other part.
fn group_im(request: &Request, sender: &str, now: Timestamp) -> Result<ImMessage, Verdict> {
    let content_type = request.headers.get("Content-Type").unwrap_or_default();
    let list = uri_list::parse(content_type, &request.body).map_err(|e| {
        Verdict::new(
            Kind::Invalid,
            About::Content,
            format!("bad multiple-recipient MESSAGE: {e}"),
        )
    })?;
    let first = &list.recipients[0].uri;
    let mut im = im_from_content(
        Some(&list.content_type),
        &list.body,
        sender,
        first,
        request.headers.get("Subject"),
        now,
    )?;
    im.recipients.clear();
    for recipient in &list.recipients {
        if im.recipients.contains(&recipient.uri) {
            continue;
        }
        im.recipients.push(recipient.uri.clone());
        match recipient.copy {
            uri_list::Copy::To => {}
            uri_list::Copy::Cc => im.cc.push(recipient.uri.clone()),
            uri_list::Copy::Bcc => im.bcc.push(recipient.uri.clone()),
        }
    }
    crate::threads::add_missing(&mut im, crate::threads::cpm_headers(request));
    Ok(im)
}

/// The media type of a request's content, lower case; for CPIM
/// (RFC 3862) the one it wraps. `None` without a Content-Type, or for CPIM
/// that cannot be read (the IM's own reading then says why). One CPIM
/// parse tells typing indications and IMDNs from messages.
pub fn content_media(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let media = media_type(content_type?);
    if media != "message/cpim" {
        return Some(media);
    }
    cpim::parse(body)
        .ok()
        .and_then(|message| message.content_type().map(media_type))
}

/// A multipart IM content read whole, checked part by part, and written in
/// the canonical form plugins see (`entity` module docs): its
/// `Content-Type` (with the boundary) and body.
fn multipart_content(content_type: &str, body: &[u8]) -> Result<(String, Vec<u8>), Verdict> {
    let entity = entity::parse(content_type, body).map_err(|e| {
        Verdict::new(
            Kind::Invalid,
            About::Content,
            format!("bad {}: {e}", media_type(content_type)),
        )
    })?;
    check_parts(&entity)?;
    let mut written = Vec::with_capacity(body.len());
    let content_type = entity::write(&entity, &crate::ids::token(), &mut written)
        .map_err(|e| Verdict::new(Kind::Invalid, About::Content, e.to_string()))?;
    Ok((content_type, written))
}

/// Every container one of [`MULTIPARTS`], every leaf one [`takes_leaf`].
fn check_parts(entity: &Entity) -> Result<(), Verdict> {
    match &entity.body {
        Body::Leaf(_) if takes_leaf(&entity.media_type()) => Ok(()),
        Body::Leaf(_) => Err(unsupported(&format!(
            "{} inside a multipart",
            entity.media_type()
        ))),
        Body::Parts(parts) if MULTIPARTS.contains(&entity.media_type().as_str()) => {
            parts.iter().try_for_each(check_parts)
        }
        Body::Parts(_) => Err(unsupported(&entity.media_type())),
    }
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
        cc: Vec::new(),
        bcc: Vec::new(),
        date: now,
        subject: subject.map(str::to_string).filter(|s| !s.is_empty()),
        content_type: content_type.to_string(),
        body: body.to_vec(),
        attachments: Vec::new(),
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
        if media_type(inner).starts_with("multipart/") {
            (im.content_type, im.body) = multipart_content(inner, &cpim.body)?;
        } else if takes_leaf(&media_type(inner)) {
            im.content_type = inner.to_string();
            im.body = cpim.body.clone();
        } else {
            return Err(unsupported(inner));
        }
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
    } else if media.starts_with("multipart/") {
        (im.content_type, im.body) = multipart_content(content_type, body)?;
    } else if !takes_leaf(&media) {
        return Err(unsupported(content_type));
    }
    Ok(im)
}
