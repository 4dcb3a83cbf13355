//! Helpers shared by the tests: a tiny PRNG and frame generators.

use crate::msrp::{
    ByteRange, Continuation, FailureReport, Frame, Limits, Method, MsrpUri, Request, Response,
    Status, parse, write,
};

/// Parses `bytes`, which must hold exactly one complete frame.
pub(super) fn parse_whole(bytes: &[u8]) -> Frame {
    match parse(bytes, &Limits::default()) {
        Ok(Some((frame, consumed))) => {
            assert_eq!(consumed, bytes.len(), "frame should use the whole buffer");
            frame
        }
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// The wire form of `frame`.
pub(super) fn wire(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    write(frame, &mut out);
    out
}

/// Turns RFC-style text with `\n` line ends into CRLF wire bytes.
pub(super) fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

pub(super) fn uri(text: &str) -> MsrpUri {
    text.parse().expect("test URI should parse")
}

pub(super) fn alice() -> MsrpUri {
    uri("msrp://alice.example.com:7777/iau39soe2843z;tcp")
}

pub(super) fn bob() -> MsrpUri {
    uri("msrp://bob.example.com:8888/9di4eae923wzd;tcp")
}

/// Marsaglia's xorshift64: deterministic, dependency-free randomness.
pub(super) struct XorShift(u64);

impl XorShift {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(super) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub(super) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(super) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn string_from(&mut self, alphabet: &[u8], min: usize, max: usize) -> String {
        let len = min + self.below(max - min + 1);
        (0..len).map(|_| *self.pick(alphabet) as char).collect()
    }

    pub(super) fn ident(&mut self) -> String {
        const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        const IDENT: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-+%=";
        let mut s = String::from(*self.pick(ALNUM) as char);
        s.push_str(&self.string_from(IDENT, 3, 31));
        s
    }

    pub(super) fn uri(&mut self) -> MsrpUri {
        const HOSTS: &[&str] = &[
            "example.com",
            "relay.example.net",
            "192.0.2.7",
            "::1",
            "2001:db8::5",
        ];
        const SID: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-._~+=/";
        let mut uri = MsrpUri::new(
            self.chance(3),
            *self.pick(HOSTS),
            if self.chance(4) {
                None
            } else {
                Some(self.next() as u16)
            },
            if self.chance(5) {
                String::new()
            } else {
                self.string_from(SID, 1, 20)
            },
        );
        if self.chance(6) {
            uri.user = Some("alice".to_owned());
        }
        if self.chance(6) {
            uri.transport = "ws".to_owned();
        }
        if self.chance(6) {
            uri.params.push("foo=bar".to_owned());
        }
        uri
    }

    fn path(&mut self) -> Vec<MsrpUri> {
        (0..1 + self.below(3)).map(|_| self.uri()).collect()
    }

    /// Header text: printable ASCII and some non-ASCII, never leading whitespace.
    fn text(&mut self) -> String {
        const TEXT: &[u8] = b"abc XYZ 0123 ;:=/\t-_.,!?\"'<>";
        let mut s = self.string_from(TEXT, 0, 30).trim_start().to_owned();
        if self.chance(4) {
            s.push_str("äß€");
        }
        s
    }

    fn other_headers(&mut self) -> Vec<(String, String)> {
        const NAMES: &[&str] = &[
            "X-Extra",
            "Expires",
            "Use-Nickname",
            "Content-ID",
            "x-lower",
        ];
        (0..self.below(3))
            .map(|_| ((*self.pick(NAMES)).to_owned(), self.text()))
            .collect()
    }

    fn continuation(&mut self) -> Continuation {
        *self.pick(&[
            Continuation::Complete,
            Continuation::More,
            Continuation::Aborted,
        ])
    }

    /// A random frame that obeys the grammar, so it must survive write + parse.
    pub(super) fn frame(&mut self) -> Frame {
        if self.chance(3) {
            return Frame::Response(Response {
                transaction_id: self.ident(),
                code: 100 + self.below(900) as u16,
                comment: if self.chance(3) {
                    None
                } else {
                    Some(self.text())
                },
                to_path: self.path(),
                from_path: self.path(),
                other_headers: self.other_headers(),
                continuation: self.continuation(),
            });
        }
        let method = self
            .pick(&[
                Method::Send,
                Method::Send,
                Method::Report,
                Method::Other("AUTH".into()),
            ])
            .clone();
        let tid = self.ident();
        let mut request = Request::new(tid.clone(), method.clone(), self.path(), self.path());
        if self.chance(2) {
            request.message_id = Some(self.ident());
        }
        if self.chance(2) {
            let start = 1 + self.below(5000) as u64;
            let end = (!self.chance(3)).then(|| start - 1 + self.below(3000) as u64);
            let total = (!self.chance(3)).then(|| end.unwrap_or(start) + self.below(100) as u64);
            request.byte_range = Some(ByteRange { start, end, total });
        }
        if self.chance(3) {
            request.success_report = Some(self.chance(2));
        }
        if self.chance(3) {
            request.failure_report = Some(*self.pick(&[
                FailureReport::Yes,
                FailureReport::No,
                FailureReport::Partial,
            ]));
        }
        if self.chance(3) {
            let comment = if self.chance(2) {
                Some(self.text())
            } else {
                None
            };
            request.status = Some(Status {
                namespace: self.below(1000) as u16,
                code: self.below(1000) as u16,
                comment,
            });
        }
        request.other_headers = self.other_headers();
        if self.chance(3) {
            let max = if method == Method::Send { 3000 } else { 10240 };
            let len = self.below(max);
            let mut body = self.bytes(len);
            // RFC 4975 §7.1: the sender keeps the end-line out of the body.
            let needle = [b"\r\n-------".as_slice(), tid.as_bytes()].concat();
            if body.windows(needle.len()).any(|w| w == needle) {
                body.clear();
            }
            request.body = body;
            request.content_type =
                Some((*self.pick(&["text/plain", "message/cpim", "image/png; x=1"])).to_owned());
        } else if self.chance(4) {
            request.content_type = Some("text/plain".to_owned());
        }
        request.continuation = self.continuation();
        Frame::Request(request)
    }
}
