//! An SMTP server session as a state machine over bytes: feed it what the
//! client sent, write out what it returns. Command parsing and DATA
//! dot-unstuffing are Stalwart's `smtp-proto`; the policy is ours.

use smtp_proto::request::receiver::DataReceiver;
use smtp_proto::{
    Error as ProtoError, MAIL_RET_FULL, MAIL_RET_HDRS, MAIL_SMTPUTF8, RCPT_NOTIFY_DELAY,
    RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_NEVER, RCPT_NOTIFY_SUCCESS, Request,
};

use super::{Dsn, Notify, RecipientDsn, Reply, Ret};

/// Recipients one transaction may name: RFC 5321 §4.5.3.1.8's minimum a
/// server must take. The reply to DATA covers them all; the gateway keeps
/// what it could not yet deliver to some (the e-mail → IM direction).
pub const MAX_RECIPIENTS: usize = 100;

/// What the server offers (EHLO) and enforces.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The name in the greeting and the EHLO reply.
    pub hostname: String,
    /// Largest message (RFC 1870 SIZE).
    pub max_size: usize,
    /// Whether STARTTLS is offered (a certificate is configured).
    pub starttls: bool,
}

/// Decides whether a recipient is one of ours (RCPT TO).
pub trait RecipientCheck {
    /// `Ok` to accept `address` in a transaction from `mail_from` (empty
    /// for the null reverse-path); otherwise the reply (550 5.1.1, 550
    /// 5.7.1, 451…).
    fn check(&self, mail_from: &str, address: &str) -> Result<(), Reply>;
}

/// A complete mail transaction, handed over at the end of DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// What the client said in EHLO/HELO.
    pub helo: String,
    /// Reverse-path; empty for the null path of bounces.
    pub mail_from: String,
    /// Forward-paths (one per transaction, see RCPT).
    pub rcpt_to: Vec<String>,
    /// The message, dot-unstuffed, without the final `.`.
    pub data: Vec<u8>,
    /// `MAIL FROM … SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// The DSN parameters (RFC 3461 §4): ENVID and RET of MAIL, NOTIFY
    /// and ORCPT of each RCPT (`dsn.recipients[i]` is of `rcpt_to[i]`).
    pub dsn: Dsn,
}

/// What MAIL FROM said.
#[derive(Debug, Clone, Default)]
struct Sender {
    address: String,
    smtputf8: bool,
    envid: Option<String>,
    ret: Option<Ret>,
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes to the client.
    Send(Vec<u8>),
    /// Deliver this transaction, then call `delivered` with the reply.
    Deliver(Transaction),
    /// Close the connection (after writing what came before).
    Close,
    /// Start TLS on the connection now (after writing the 220), then feed
    /// the session what comes over TLS (RFC 3207).
    StartTls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Greeted; no EHLO/HELO yet.
    Connected,
    /// EHLO/HELO done; MAIL, RCPT as the transaction goes.
    Ready,
    /// Receiving the message after 354.
    Data,
    /// The message is being delivered: the DATA reply waits for it
    /// (RFC 5321 §4.5.3.2.6 gives the client 10 minutes).
    Delivering,
    Closed,
}

/// Longest command line taken (RFC 5321 §4.5.3.1.4 says 512 octets; the
/// extensions' parameters need more, real clients stay far below this).
const MAX_COMMAND_LINE: usize = 2048;

/// Bad commands tolerated before the session is closed (a client that
/// speaks something else, or a scanner).
const MAX_ERRORS: u32 = 20;

/// One SMTP session.
pub struct SmtpSession {
    caps: Capabilities,
    state: State,
    helo: Option<String>,
    mail_from: Option<Sender>,
    rcpt_to: Vec<String>,
    rcpt_dsn: Vec<RecipientDsn>,
    /// The command line received so far, up to its LF.
    line: Vec<u8>,
    data: DataReceiver,
    data_buf: Vec<u8>,
    data_too_big: bool,
    /// Bytes that arrived while a delivery was pending (pipelining).
    pending: Vec<u8>,
    errors: u32,
    /// Discarding an over-long command line up to its LF.
    skipping_line: bool,
    /// Whether the connection is encrypted already.
    tls: bool,
    /// Set by STARTTLS: the rest of this `feed` is discarded.
    stop_feeding: bool,
}

impl SmtpSession {
    /// A session that has not greeted yet.
    pub fn new(caps: Capabilities) -> Self {
        Self {
            caps,
            state: State::Connected,
            helo: None,
            mail_from: None,
            rcpt_to: Vec::new(),
            rcpt_dsn: Vec::new(),
            line: Vec::new(),
            data: DataReceiver::new(),
            data_buf: Vec::new(),
            data_too_big: false,
            pending: Vec::new(),
            errors: 0,
            skipping_line: false,
            tls: false,
            stop_feeding: false,
        }
    }

    /// The 220 greeting.
    pub fn greeting(&self) -> Vec<u8> {
        Reply::plain(220, format!("{} ESMTP Interwork", self.caps.hostname)).to_bytes()
    }

    /// Whether the session is inside DATA (the driver uses the longer data
    /// timeout of RFC 5321 §4.5.3.2.5 then).
    pub fn in_data(&self) -> bool {
        self.state == State::Data
    }

    /// Whether a mail transaction is open (MAIL accepted, not yet ended
    /// by its DATA reply or RSET): a session closed now would cut it.
    pub fn in_transaction(&self) -> bool {
        self.mail_from.is_some()
    }

    fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.rcpt_dsn.clear();
        self.data_buf = Vec::new();
        self.data_too_big = false;
    }

    /// Takes bytes from the client.
    pub fn feed(&mut self, bytes: &[u8], check: &dyn RecipientCheck) -> Vec<Output> {
        let mut out = Vec::new();
        let mut iter = bytes.iter();
        self.stop_feeding = false;
        while !iter.as_slice().is_empty() {
            if self.stop_feeding {
                break;
            }
            match self.state {
                State::Closed => break,
                State::Delivering => {
                    self.pending.extend_from_slice(iter.as_slice());
                    break;
                }
                State::Data => {
                    if !self.data.ingest(&mut iter, &mut self.data_buf) {
                        // One byte of slack: a read that ends in "CRLF . CR"
                        // leaves that CR in the buffer until the LF shows it
                        // is the end of data (and smtp-proto pops it), so a
                        // message of exactly the limit would otherwise be
                        // refused or not depending on where the read ends
                        // (found by the smtp_session fuzz target).
                        if self.data_buf.len() > self.caps.max_size + 1 {
                            // Keep reading to the end of DATA, keep nothing.
                            self.data_too_big = true;
                            self.data_buf.clear();
                        }
                        continue;
                    }
                    if self.data_too_big || self.data_buf.len() > self.caps.max_size {
                        self.reset_transaction();
                        self.state = State::Ready;
                        out.push(send(Reply::new(552, "5.3.4", "Message too big for system")));
                        continue;
                    }
                    let sender = self.mail_from.take().unwrap_or_default();
                    out.push(Output::Deliver(Transaction {
                        helo: self.helo.clone().unwrap_or_default(),
                        mail_from: sender.address,
                        rcpt_to: std::mem::take(&mut self.rcpt_to),
                        data: std::mem::take(&mut self.data_buf),
                        smtputf8: sender.smtputf8,
                        dsn: Dsn {
                            envid: sender.envid,
                            ret: sender.ret,
                            recipients: std::mem::take(&mut self.rcpt_dsn),
                        },
                    }));
                    self.state = State::Delivering;
                }
                State::Connected | State::Ready => {
                    // The command line is assembled here, up to its LF, and
                    // parsed whole: smtp-proto's own incremental receiver
                    // answers a line that came in several reads differently
                    // from the same line in one read (found by the
                    // smtp_session fuzz target: "RCPT TO\n" byte by byte got
                    // 500 instead of 501).
                    let rest = iter.as_slice();
                    let line_end = rest.iter().position(|&b| b == b'\n');
                    let taken = line_end.map_or(rest.len(), |end| end + 1);
                    iter = rest[taken..].iter();
                    if self.skipping_line {
                        self.skipping_line = line_end.is_none();
                        continue;
                    }
                    if self.line.len() + line_end.unwrap_or(rest.len()) > MAX_COMMAND_LINE {
                        self.line.clear();
                        self.skipping_line = line_end.is_none();
                        self.error(Reply::new(500, "5.5.2", "Line too long"), &mut out);
                        continue;
                    }
                    self.line.extend_from_slice(&rest[..taken]);
                    if line_end.is_none() {
                        break;
                    }
                    let line = std::mem::take(&mut self.line);
                    match Request::parse(&mut line.iter()) {
                        Ok(request) => {
                            let request = request.into_owned();
                            self.command(request, check, &mut out);
                        }
                        // A whole line that smtp-proto still finds short
                        // ("RCPT TO" with no colon) is bad syntax.
                        Err(ProtoError::NeedsMoreData { .. }) => self.error(
                            Reply::new(501, "5.5.4", "Syntax error in parameters"),
                            &mut out,
                        ),
                        Err(e) => self.error(protocol_error(e), &mut out),
                    }
                }
            }
        }
        out
    }

    fn error(&mut self, reply: Reply, out: &mut Vec<Output>) {
        self.errors += 1;
        out.push(send(reply));
        if self.errors >= MAX_ERRORS {
            out.push(send(Reply::new(421, "4.7.0", "Too many errors, closing")));
            out.push(Output::Close);
            self.state = State::Closed;
        }
    }

    /// The outcome of the delivery asked for with `Output::Deliver`: its
    /// reply goes out, and commands that were pipelined behind DATA run.
    pub fn delivered(&mut self, reply: Reply, check: &dyn RecipientCheck) -> Vec<Output> {
        if self.state != State::Delivering {
            return Vec::new();
        }
        self.state = State::Ready;
        self.reset_transaction();
        let mut out = vec![send(reply)];
        let pending = std::mem::take(&mut self.pending);
        out.extend(self.feed(&pending, check));
        out
    }

    fn command(
        &mut self,
        request: Request<String>,
        check: &dyn RecipientCheck,
        out: &mut Vec<Output>,
    ) {
        let reply = match request {
            Request::Ehlo { host } => {
                self.reset_transaction();
                self.helo = Some(host);
                self.state = State::Ready;
                out.push(Output::Send(self.ehlo_reply()));
                return;
            }
            Request::Helo { host } => {
                self.reset_transaction();
                self.helo = Some(host);
                self.state = State::Ready;
                Reply::plain(250, self.caps.hostname.clone())
            }
            Request::Mail { from } => {
                if self.helo.is_none() {
                    Reply::new(503, "5.5.1", "Say EHLO first")
                } else if self.mail_from.is_some() {
                    Reply::new(503, "5.5.1", "Nested MAIL command")
                } else if from.size > self.caps.max_size {
                    Reply::new(552, "5.3.4", "Message too big for system")
                } else if from.flags & MAIL_RET_FULL != 0 && from.flags & MAIL_RET_HDRS != 0 {
                    Reply::new(501, "5.5.4", "RET given twice")
                } else {
                    // smtp-proto has decoded the ENVID's xtext and checked
                    // its length (RFC 3461 §4.4).
                    let ret = if from.flags & MAIL_RET_FULL != 0 {
                        Some(Ret::Full)
                    } else if from.flags & MAIL_RET_HDRS != 0 {
                        Some(Ret::Hdrs)
                    } else {
                        None
                    };
                    self.mail_from = Some(Sender {
                        address: from.address,
                        smtputf8: from.flags & MAIL_SMTPUTF8 != 0,
                        envid: from.env_id,
                        ret,
                    });
                    Reply::new(250, "2.1.0", "Sender OK")
                }
            }
            Request::Rcpt { to } => {
                if self.mail_from.is_none() {
                    Reply::new(503, "5.5.1", "MAIL first")
                } else if self.rcpt_to.len() >= MAX_RECIPIENTS {
                    // RFC 5321 §4.5.3.1.10: the client sends the rest in
                    // another transaction.
                    Reply::new(452, "4.5.3", "Too many recipients")
                } else if self
                    .rcpt_to
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&to.address))
                {
                    // The same mailbox twice gets one copy.
                    Reply::new(250, "2.1.5", "Recipient OK (already named)")
                } else {
                    match notify_of(to.flags) {
                        Err(reply) => reply,
                        Ok(notify) => match check.check(
                            self.mail_from.as_ref().map_or("", |s| s.address.as_str()),
                            &to.address,
                        ) {
                            Ok(()) => {
                                self.rcpt_to.push(to.address);
                                // ORCPT: smtp-proto takes only the rfc822
                                // address type and decodes its xtext.
                                self.rcpt_dsn.push(RecipientDsn {
                                    notify,
                                    orcpt: to.orcpt,
                                });
                                Reply::new(250, "2.1.5", "Recipient OK")
                            }
                            Err(reply) => reply,
                        },
                    }
                }
            }
            Request::Data => {
                if self.mail_from.is_none() {
                    Reply::new(503, "5.5.1", "MAIL first")
                } else if self.rcpt_to.is_empty() {
                    Reply::new(554, "5.5.1", "No valid recipients")
                } else {
                    self.data = data_receiver();
                    self.data_buf = Vec::new();
                    self.data_too_big = false;
                    self.state = State::Data;
                    Reply::plain(354, "Start mail input; end with <CRLF>.<CRLF>")
                }
            }
            Request::Rset => {
                self.reset_transaction();
                Reply::new(250, "2.0.0", "Reset")
            }
            Request::Noop { .. } => Reply::new(250, "2.0.0", "OK"),
            // RFC 5321 §3.5.3: 252 when the server will not verify.
            Request::Vrfy { .. } => Reply::new(
                252,
                "2.5.2",
                "Cannot VRFY user, but will accept mail for delivery",
            ),
            Request::Help { .. } => Reply::new(214, "2.0.0", "See RFC 5321"),
            Request::Quit => {
                out.push(send(Reply::new(221, "2.0.0", "Bye")));
                out.push(Output::Close);
                self.state = State::Closed;
                return;
            }
            Request::Lhlo { .. } => Reply::new(500, "5.5.1", "This is not an LMTP server"),
            Request::StartTls if self.caps.starttls && !self.tls => {
                out.push(send(Reply::plain(220, "2.0.0 Ready to start TLS")));
                out.push(Output::StartTls);
                // RFC 3207 §4.2: forget everything said before TLS,
                // including anything pipelined behind STARTTLS.
                self.tls = true;
                self.helo = None;
                self.reset_transaction();
                self.state = State::Connected;
                self.line.clear();
                self.stop_feeding = true;
                return;
            }
            Request::StartTls if self.tls => Reply::new(503, "5.5.1", "TLS already active"),
            Request::StartTls
            | Request::Expn { .. }
            | Request::Bdat { .. }
            | Request::Auth { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => Reply::new(502, "5.5.1", "Command not implemented"),
        };
        out.push(send(reply));
    }

    fn ehlo_reply(&self) -> Vec<u8> {
        let mut lines = vec![
            format!("{} greets you", self.caps.hostname),
            format!("SIZE {}", self.caps.max_size),
            "PIPELINING".to_string(),
            "8BITMIME".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
            "SMTPUTF8".to_string(),
            "DSN".to_string(),
        ];
        if self.caps.starttls && !self.tls {
            lines.push("STARTTLS".to_string());
        }
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            out.extend_from_slice(format!("250{sep}{line}\r\n").as_bytes());
        }
        out
    }
}

/// The NOTIFY= of RCPT flags. RFC 3461 §4.1: NEVER stands alone;
/// smtp-proto refuses it after another keyword, not before one.
fn notify_of(flags: u64) -> Result<Option<Notify>, Reply> {
    let notify = Notify {
        success: flags & RCPT_NOTIFY_SUCCESS != 0,
        failure: flags & RCPT_NOTIFY_FAILURE != 0,
        delay: flags & RCPT_NOTIFY_DELAY != 0,
    };
    match (flags & RCPT_NOTIFY_NEVER != 0, notify.is_never()) {
        (true, true) => Ok(Some(Notify::NEVER)),
        (true, false) => Err(Reply::new(
            501,
            "5.5.4",
            "NOTIFY=NEVER cannot be combined with other values",
        )),
        (false, true) => Ok(None),
        (false, false) => Ok(Some(notify)),
    }
}

/// smtp-proto's receiver for DATA, at the start of a line. A new one
/// counts as in the middle of a line, so a message whose first line is
/// `.` (the empty message, RFC 5321 §4.1.1.4) never ended and a first line
/// `..x` was not unstuffed (found by the smtp_reply fuzz target): it is
/// given the CRLF that ended the DATA command, which it keeps no byte of.
fn data_receiver() -> DataReceiver {
    let mut receiver = DataReceiver::new();
    let mut none = Vec::new();
    receiver.ingest(&mut b"\r\n".iter(), &mut none);
    receiver
}

fn send(reply: Reply) -> Output {
    Output::Send(reply.to_bytes())
}

fn protocol_error(error: ProtoError) -> Reply {
    match error {
        ProtoError::UnknownCommand => Reply::new(500, "5.5.1", "Unknown command"),
        ProtoError::InvalidSenderAddress => Reply::new(501, "5.1.7", "Bad sender address syntax"),
        ProtoError::InvalidRecipientAddress => {
            Reply::new(501, "5.1.3", "Bad recipient address syntax")
        }
        ProtoError::SyntaxError { syntax } => Reply::new(501, "5.5.4", format!("Syntax: {syntax}")),
        ProtoError::InvalidParameter { param } => {
            Reply::new(501, "5.5.4", format!("Invalid parameter {param}"))
        }
        ProtoError::UnsupportedParameter { param } => {
            Reply::new(555, "5.5.4", format!("Unsupported parameter {param}"))
        }
        ProtoError::ResponseTooLong => Reply::new(500, "5.5.2", "Line too long"),
        _ => Reply::new(500, "5.5.1", "Syntax error"),
    }
}
