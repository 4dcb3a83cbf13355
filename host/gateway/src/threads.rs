//! Conversations across the gateway (issue 10 §5): an IM conversation
//! (OMA CPM `Conversation-ID`, `Contribution-ID`,
//! `InReplyTo-Contribution-ID` SIP headers) and a mail thread
//! (`In-Reply-To`, `References`, RFC 5322 §3.6.4) are one thread, tied by
//! the store's correlation records: every message that crossed keeps its
//! Message-ID, Conversation-ID and Contribution-ID there.

use interwork_plugin_host::bindings::types::{EmailMessage, Header, ImMessage};
use interwork_proto::sip::Request;
use interwork_store::{Correlated, CorrelationKey, Millis, Store};

/// CPM's header fields (OMA-TS-CPM_Conv_Fnct §5.4.3): on the IM side they
/// are SIP headers of each MESSAGE and INVITE.
pub const CONVERSATION_ID: &str = "Conversation-ID";
/// The id of one message (pager mode) or one session.
pub const CONTRIBUTION_ID: &str = "Contribution-ID";
/// The Contribution-ID of the message this one answers.
pub const IN_REPLY_TO_CONTRIBUTION_ID: &str = "InReplyTo-Contribution-ID";

/// Most Message-IDs a `References` field carries: the thread's first and
/// its latest, as RFC 5322 §3.6.4 allows trimming, bounded for clients
/// that refuse long header fields.
const MAX_REFERENCES: usize = 10;

/// The CPM headers of a SIP request, for an `im-message`'s extra headers.
pub fn cpm_headers(request: &Request) -> Vec<Header> {
    [
        CONVERSATION_ID,
        CONTRIBUTION_ID,
        IN_REPLY_TO_CONTRIBUTION_ID,
    ]
    .into_iter()
    .filter_map(|name| {
        let value = request.headers.get(name)?.trim();
        (!value.is_empty()).then(|| Header {
            name: name.to_string(),
            value: value.to_string(),
        })
    })
    .collect()
}

/// Adds `headers` an IM does not carry yet (the CPIM ones win).
pub fn add_missing(im: &mut ImMessage, headers: Vec<Header>) {
    for header in headers {
        if !im
            .extra_headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(&header.name))
        {
            im.extra_headers.push(header);
        }
    }
}

fn extra<'a>(im: &'a ImMessage, name: &str) -> Option<&'a str> {
    im.extra_headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.trim())
        .filter(|v| !v.is_empty())
}

/// `Re: ` before a subject, not doubled (RFC 5322 §3.6.5).
pub fn reply_subject(subject: &str) -> String {
    let trimmed = subject.trim();
    let has_re = trimmed
        .get(..3)
        .is_some_and(|start| start.eq_ignore_ascii_case("re:"));
    if has_re {
        trimmed.to_string()
    } else {
        format!("Re: {trimmed}")
    }
}

/// Where a mail made from an IM sits in its thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailThread {
    /// The Message-ID (no brackets) of the message it answers.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first, ending with `in_reply_to`.
    pub references: Vec<String>,
    /// The answered message's subject, for an IM that has none.
    pub subject: Option<String>,
}

fn message_ids(records: &[Correlated]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    // Newest first from the store; the field lists them oldest first.
    for id in records
        .iter()
        .rev()
        .filter_map(|c| c.record.message_id.clone())
    {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The thread of an IM: the message its `InReplyTo-Contribution-ID`
/// names, else the latest of its conversation; the conversation's
/// Message-IDs as references. Empty for an IM that starts a conversation
/// (or when the store cannot be read: a mail without thread beats none).
pub async fn of_im(store: &dyn Store, im: &ImMessage, now: Millis) -> MailThread {
    let lookup = |key| async move {
        store.find(key, now).await.unwrap_or_else(|e| {
            tracing::warn!("cannot read the conversation: {e}");
            Vec::new()
        })
    };
    let conversation = match extra(im, CONVERSATION_ID) {
        Some(id) => lookup(CorrelationKey::ConversationId(id.to_string())).await,
        None => Vec::new(),
    };
    let answered = match extra(im, IN_REPLY_TO_CONTRIBUTION_ID) {
        Some(id) => lookup(CorrelationKey::ContributionId(id.to_string()))
            .await
            .into_iter()
            .next(),
        None => None,
    }
    .or_else(|| conversation.first().cloned());
    let Some(answered) = answered else {
        return MailThread::default();
    };
    let Some(parent) = answered.record.message_id.clone() else {
        return MailThread::default();
    };
    let mut references = message_ids(&conversation);
    references.retain(|id| *id != parent);
    references.push(parent.clone());
    if references.len() > MAX_REFERENCES {
        // The first, then the latest (RFC 5322 §3.6.4 lets a writer drop
        // ids from the middle).
        let first = references[0].clone();
        let latest = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references = std::iter::once(first).chain(latest).collect();
    }
    MailThread {
        in_reply_to: Some(parent),
        references,
        subject: answered.record.subject,
    }
}

impl MailThread {
    /// Puts the thread in a mail the conversion plugin wrote, where the
    /// plugin did not: `In-Reply-To`, `References`, and `Re:` + the
    /// answered subject for a mail without one.
    pub fn apply(&self, email: &mut EmailMessage) {
        let Some(parent) = &self.in_reply_to else {
            return;
        };
        let has = |email: &EmailMessage, name: &str| {
            email
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case(name))
        };
        if !has(email, "In-Reply-To") {
            email.headers.push(Header {
                name: "In-Reply-To".into(),
                value: format!("<{parent}>"),
            });
        }
        if !has(email, "References") {
            let ids: Vec<String> = self.references.iter().map(|id| format!("<{id}>")).collect();
            email.headers.push(Header {
                name: "References".into(),
                value: ids.join(" "),
            });
        }
        if let Some(subject) = &self.subject
            && !has(email, "Subject")
        {
            email.headers.push(Header {
                name: "Subject".into(),
                value: reply_subject(subject),
            });
        }
    }
}

/// Where an IM made from a mail sits in its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImThread {
    /// The conversation: the one of the message the mail answers, else a
    /// new one.
    pub conversation_id: String,
    /// This IM's own id.
    pub contribution_id: String,
    /// The Contribution-ID of the message the mail answers.
    pub in_reply_to_contribution_id: Option<String>,
}

/// The Message-IDs a mail answers, nearest first: its `In-Reply-To`,
/// then its `References` from the last (RFC 5322 §3.6.4 `msg-id`s, the
/// text between `<` and `>`; folded fields unfolded).
pub fn answered_ids(mail: &[u8]) -> Vec<String> {
    let headers = String::from_utf8_lossy(crate::mail::dsn::header_section(mail));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in headers.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.to_string()));
        }
    }
    let ids_in = |name: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|(field, _)| field == name)
            .flat_map(|(_, value)| {
                value
                    .split('<')
                    .skip(1)
                    .filter_map(|rest| rest.split_once('>'))
                    .map(|(id, _)| id.trim().to_string())
                    .filter(|id| id.contains('@'))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let mut ids = ids_in("in-reply-to");
    ids.extend(ids_in("references").into_iter().rev());
    let mut seen: Vec<String> = Vec::new();
    ids.retain(|id| {
        let new = !seen.contains(id);
        seen.push(id.clone());
        new
    });
    ids
}

/// The conversation of an IM made from a mail that answers `answered`
/// (see [`answered_ids`]): that of the nearest message the store knows,
/// else a new one.
pub async fn of_mail(store: &dyn Store, answered: &[String], now: Millis) -> ImThread {
    let mut found = None;
    for id in answered.iter().take(MAX_REFERENCES) {
        match store.find(CorrelationKey::MessageId(id.clone()), now).await {
            Ok(records) if !records.is_empty() => {
                found = records.into_iter().next();
                break;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("cannot read the conversation: {e}");
                break;
            }
        }
    }
    let record = found.map(|c| c.record);
    ImThread {
        conversation_id: record
            .as_ref()
            .and_then(|r| r.conversation_id.clone())
            .unwrap_or_else(crate::ids::token),
        contribution_id: crate::ids::token(),
        in_reply_to_contribution_id: record.and_then(|r| r.contribution_id),
    }
}

impl ImThread {
    /// Puts the thread on the MESSAGE an IM travels in.
    pub fn apply(&self, request: &mut Request) {
        request
            .headers
            .set(CONVERSATION_ID, self.conversation_id.clone());
        request
            .headers
            .set(CONTRIBUTION_ID, self.contribution_id.clone());
        if let Some(id) = &self.in_reply_to_contribution_id {
            request.headers.set(IN_REPLY_TO_CONTRIBUTION_ID, id.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_is_not_doubled() {
        assert_eq!(reply_subject("lunch?"), "Re: lunch?");
        assert_eq!(reply_subject("Re: lunch?"), "Re: lunch?");
        assert_eq!(reply_subject("RE:lunch?"), "RE:lunch?");
        assert_eq!(reply_subject(" re: lunch? "), "re: lunch?");
    }

    #[test]
    fn a_reply_names_what_it_answers_nearest_first() {
        let mail = b"From: a@x\r\nIn-Reply-To: <m3@x>\r\n\
            References: <m1@x> <m2@x>\r\n <m3@x>\r\nSubject: Re: hi\r\n\r\nbody\r\n";
        assert_eq!(answered_ids(mail), ["m3@x", "m2@x", "m1@x"]);
        assert!(answered_ids(b"From: a@x\r\n\r\nbody\r\n").is_empty());
    }
}
