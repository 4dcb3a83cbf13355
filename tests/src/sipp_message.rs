//! The sipp scenario most end-to-end tests send: one MESSAGE outside any
//! dialog (RFC 3428), then the final answer the test expects of the
//! gateway. Each test file states only what its MESSAGE has of its own.

use std::time::Duration;

/// One MESSAGE for a sipp UAC; [`SippMessage::xml`] is its scenario.
///
/// sipp fills in the Via branch, the Call-ID (`[call_id]`, unique per
/// call, as RFC 3261 §8.1.1.4 wants), the From tag (`[call_number]`) and
/// the Content-Length; a body may use `[call_number]` too, to tell the
/// calls of one run apart.
#[derive(Debug, Clone)]
pub struct SippMessage {
    from: String,
    to: String,
    headers: String,
    content_type: String,
    body: String,
    expect: u16,
    timeout: Option<Duration>,
    trying: bool,
}

impl SippMessage {
    /// From `"Alice" <sip:alice@im.example.test>` to
    /// `sip:bob@mail.example.test`, `text/plain`, expecting `202 Accepted`.
    pub fn text(body: &str) -> Self {
        Self {
            from: "\"Alice\" <sip:alice@im.example.test>".into(),
            to: "sip:bob@mail.example.test".into(),
            headers: String::new(),
            content_type: "text/plain".into(),
            body: body.into(),
            expect: 202,
            timeout: None,
            trying: true,
        }
    }

    /// The same, with `content_type` for the body.
    pub fn new(content_type: &str, body: &str) -> Self {
        Self {
            content_type: content_type.into(),
            ..Self::text(body)
        }
    }

    /// From `uri`, without a display name.
    pub fn from(mut self, uri: &str) -> Self {
        self.from = format!("<{uri}>");
        self
    }

    /// To (and the Request-URI) `uri`.
    pub fn to(mut self, uri: &str) -> Self {
        self.to = uri.into();
        self
    }

    /// One more header field, a whole line without its line end.
    pub fn header(mut self, line: &str) -> Self {
        self.headers.push_str(line);
        self.headers.push('\n');
        self
    }

    /// More header fields, as [`SippMessage::header`].
    pub fn headers<S: AsRef<str>>(self, lines: &[S]) -> Self {
        lines.iter().fold(self, |m, line| m.header(line.as_ref()))
    }

    /// The final answer expected.
    pub fn expect(mut self, code: u16) -> Self {
        self.expect = code;
        self
    }

    /// How long the final answer may take (sipp's own default otherwise).
    pub fn within(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The final answer must be the first response: no `100 Trying`
    /// before it (for requests turned away at once).
    pub fn at_once(mut self) -> Self {
        self.trying = false;
        self
    }

    /// The scenario. Retransmitted every 500 ms until answered (sipp
    /// stops at the first response); a `100 Trying` may come first,
    /// unless [`SippMessage::at_once`].
    pub fn xml(&self) -> String {
        let Self {
            from,
            to,
            headers,
            content_type,
            body,
            expect,
            timeout,
            trying,
        } = self;
        let timeout = timeout
            .map(|t| format!(" timeout=\"{}\"", t.as_millis()))
            .unwrap_or_default();
        let trying = if *trying {
            "<recv response=\"100\" optional=\"true\"/>\n"
        } else {
            ""
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="message">
<send retrans="500"><![CDATA[
MESSAGE {to} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: {from};tag=[call_number]
To: <{to}>
Call-ID: [call_id]
CSeq: 1 MESSAGE
Max-Forwards: 70
{headers}Content-Type: {content_type}
Content-Length: [len]

{body}
]]></send>
{trying}<recv response="{expect}"{timeout}/>
</scenario>
"#
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_has_what_was_asked() {
        let xml = SippMessage::new("message/cpim", "CPIM BODY")
            .from("sip:+15551234567@im.example.test")
            .to("sip:carol@mail.example.test")
            .headers(&["Require: foo", "Subject: hi"])
            .expect(420)
            .within(Duration::from_secs(20))
            .xml();
        for line in [
            "MESSAGE sip:carol@mail.example.test SIP/2.0\n",
            "From: <sip:+15551234567@im.example.test>;tag=[call_number]\n",
            "To: <sip:carol@mail.example.test>\n",
            "Require: foo\nSubject: hi\nContent-Type: message/cpim\n",
            "\n\nCPIM BODY\n]]>",
            "<recv response=\"420\" timeout=\"20000\"/>",
        ] {
            assert!(xml.contains(line), "{line:?} not in\n{xml}");
        }
        let plain = SippMessage::text("hello").xml();
        assert!(plain.contains("From: \"Alice\" <sip:alice@im.example.test>;tag="));
        assert!(plain.contains("Content-Type: text/plain\n"));
        assert!(
            plain.contains("<recv response=\"100\" optional=\"true\"/>\n<recv response=\"202\"/>")
        );
        let at_once = SippMessage::text("hello").expect(503).at_once().xml();
        assert!(at_once.contains("]]></send>\n<recv response=\"503\"/>"));
    }
}
