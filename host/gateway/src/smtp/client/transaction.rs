//! One mail transaction on an open session (RFC 5321 §3.3): MAIL, RCPT,
//! DATA and the message, with the parameters the server's extensions
//! allow, pipelined when it offers PIPELINING (RFC 2920), and the replies
//! turned into a [`DeliveryOutcome`].

use interwork_plugin_host::bindings::types::DsnNotify;
use interwork_proto::smtp::client::{Command, MailFrom, RcptTo, Response, write, write_data};
use interwork_proto::smtp::{MAX_ENVID, Notify, Ret, xtext};

use super::connection::{Connection, SessionError};
use super::{DeliveryOutcome, SmtpFailure};
use crate::mail::OutgoingMail;

/// How a transaction ended.
pub(super) enum Sent {
    /// The server answered: this is the outcome.
    Answered(DeliveryOutcome),
    /// The session broke (I/O error, closed, 421, not a reply) before the
    /// server could have taken the mail: it may go to another server, or
    /// on a fresh session to this one. `before_mail_reply`: no reply to
    /// MAIL had arrived, which is how a reused idle session the server
    /// has closed shows itself.
    Broken {
        why: String,
        before_mail_reply: bool,
    },
    /// The session broke after the message was sent: the server may have
    /// it, so it must not be sent again now (RFC 5321 §4.1.1.4 leaves
    /// the client to treat it as a temporary failure).
    Uncertain(String),
    /// This server cannot take this mail: 8-bit data and no 8BITMIME nor
    /// a 7-bit copy (RFC 6152 §3), or a non-ASCII address and no SMTPUTF8
    /// (RFC 6531 §3.4). Another server may.
    Unsuitable(String),
}

/// Whether the session can carry another transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reuse {
    Yes,
    No,
}

/// The envelope and message as this server will get them.
struct Plan<'a> {
    mail: MailFrom<'a>,
    rcpts: Vec<RcptTo<'a>>,
    message: &'a [u8],
    /// DSN parameters are on the envelope.
    dsn: bool,
}

fn notify(flags: DsnNotify) -> Notify {
    Notify {
        success: flags.contains(DsnNotify::SUCCESS),
        failure: flags.contains(DsnNotify::FAILURE),
        delay: flags.contains(DsnNotify::DELAY),
    }
}

fn plan<'a>(conn: &Connection, mail: &'a OutgoingMail) -> Result<Plan<'a>, String> {
    let ext = conn.extensions;
    let message: &[u8] = match &mail.seven_bit {
        Some(seven_bit) if !ext.eight_bit_mime && !mail.bytes.is_ascii() => seven_bit,
        _ => &mail.bytes,
    };
    let eight_bit = !message.is_ascii();
    if eight_bit && !ext.eight_bit_mime {
        return Err("the server does not offer 8BITMIME and the mail has no 7-bit form".into());
    }
    let utf8 = !mail.envelope_from.is_ascii() || mail.envelope_to.iter().any(|to| !to.is_ascii());
    if utf8 && !ext.smtputf8 {
        return Err("the server does not offer SMTPUTF8 for a non-ASCII address".into());
    }
    // RFC 3461 §4: DSN parameters only to a server that offers DSN; and
    // never on a notification (null reverse-path, RFC 3461 §6.2: no DSN
    // about a DSN).
    let dsn = mail.dsn_notify != DsnNotify::empty() && ext.dsn && !mail.envelope_from.is_empty();
    let envid = mail.envid.as_deref().filter(|_| dsn).filter(|envid| {
        let fits = xtext(envid).len() <= MAX_ENVID;
        if !fits {
            tracing::warn!(envid, "ENVID longer than RFC 3461 §4.4 allows; not sent");
        }
        fits
    });
    let mail_from = MailFrom {
        reverse_path: &mail.envelope_from,
        size: ext.size.map(|_| message.len() as u64),
        eight_bit_mime: eight_bit,
        smtputf8: utf8,
        ret: dsn.then_some(Ret::Hdrs),
        envid,
    };
    let rcpts = mail
        .envelope_to
        .iter()
        .map(|to| RcptTo {
            forward_path: to,
            notify: dsn.then(|| notify(mail.dsn_notify)),
            // The rfc822 address type is ASCII; a UTF-8 one would need
            // RFC 6533's utf-8 type, which we do not write.
            orcpt: (dsn && to.is_ascii()).then_some(to.as_str()),
        })
        .collect();
    Ok(Plan {
        mail: mail_from,
        rcpts,
        message,
        dsn,
    })
}

fn failure(reply: &Response, server: &str) -> DeliveryOutcome {
    let failure = SmtpFailure::from_reply(Some(reply.code), &reply.to_string()).from_server(server);
    if reply.is_permanent() {
        DeliveryOutcome::Permanent(failure)
    } else {
        DeliveryOutcome::Temporary(failure)
    }
}

fn broken(e: SessionError, before_mail_reply: bool) -> (Sent, Reuse) {
    (
        Sent::Broken {
            why: e.to_string(),
            before_mail_reply,
        },
        Reuse::No,
    )
}

/// RFC 5321 §3.8: 421 says the server is closing the session.
fn closing(reply: &Response, before_mail_reply: bool) -> Option<(Sent, Reuse)> {
    (reply.code == 421).then(|| {
        (
            Sent::Broken {
                why: reply.to_string(),
                before_mail_reply,
            },
            Reuse::No,
        )
    })
}

/// Sends `mail` on `conn`; `server` names it in the outcome.
pub(super) async fn send(
    conn: &mut Connection,
    mail: &OutgoingMail,
    server: &str,
) -> (Sent, Reuse) {
    let plan = match plan(conn, mail) {
        Ok(plan) => plan,
        Err(why) => return (Sent::Unsuitable(format!("{server}: {why}")), Reuse::Yes),
    };
    let pipelining = conn.extensions.pipelining;
    let mut commands = Vec::with_capacity(128 * (1 + plan.rcpts.len()));
    write(&Command::Mail(plan.mail.clone()), &mut commands);
    // RFC 2920 §3.1: MAIL, the RCPTs and DATA may go in one write; the
    // replies come in order and each must be read.
    let mail_reply = if pipelining {
        for rcpt in &plan.rcpts {
            write(&Command::Rcpt(rcpt.clone()), &mut commands);
        }
        write(&Command::Data, &mut commands);
        if let Err(e) = conn.write(&commands).await {
            return broken(e, true);
        }
        conn.reply().await
    } else {
        match conn.write(&commands).await {
            Ok(()) => conn.reply().await,
            Err(e) => Err(e),
        }
    };
    let mail_reply = match mail_reply {
        Ok(reply) => reply,
        Err(e) => return broken(e, true),
    };
    if let Some(closed) = closing(&mail_reply, true) {
        return closed;
    }
    // The first refusal decides the outcome (one outcome per mail).
    let mut refused = (!mail_reply.is_positive_completion()).then_some(mail_reply);
    for rcpt in &plan.rcpts {
        if !pipelining {
            if refused.is_some() {
                break;
            }
            if let Err(e) = conn.command(&Command::Rcpt(rcpt.clone())).await {
                return broken(e, false);
            }
        }
        let reply = match conn.reply().await {
            Ok(reply) => reply,
            Err(e) => return broken(e, false),
        };
        if let Some(closed) = closing(&reply, false) {
            return closed;
        }
        if refused.is_none() && !reply.is_positive_completion() {
            refused = Some(reply);
        }
    }
    let data_reply = if pipelining || refused.is_none() {
        if !pipelining && let Err(e) = conn.command(&Command::Data).await {
            return broken(e, false);
        }
        match conn.reply().await {
            Ok(reply) => Some(reply),
            Err(e) => return broken(e, false),
        }
    } else {
        None
    };
    if let Some(reply) = &data_reply
        && let Some(closed) = closing(reply, false)
    {
        return closed;
    }
    if let Some(refused) = refused {
        // A server that said 354 although a recipient was refused waits
        // for a message we will not send (RFC 2920 §3.1 has it refuse
        // DATA when no recipient was taken): only closing ends that.
        if data_reply.as_ref().is_some_and(Response::is_intermediate) {
            return (Sent::Answered(failure(&refused, server)), Reuse::No);
        }
        return (Sent::Answered(failure(&refused, server)), reset(conn).await);
    }
    let data_reply = data_reply.expect("DATA was sent");
    if data_reply.code != 354 {
        return (
            Sent::Answered(failure(&data_reply, server)),
            reset(conn).await,
        );
    }
    // The message and the final "." in one write.
    let mut data = Vec::new();
    write_data(plan.message, &mut data);
    if let Err(e) = conn.write(&data).await {
        return (Sent::Uncertain(format!("{server}: {e}")), Reuse::No);
    }
    match conn.reply().await {
        Ok(reply) if reply.is_positive_completion() => (
            Sent::Answered(DeliveryOutcome::Delivered {
                server: server.to_string(),
                reply: reply.text(),
                dsn: plan.dsn,
            }),
            Reuse::Yes,
        ),
        // After the message the transaction is over whatever the reply
        // (RFC 5321 §4.1.1.4); 421 closes the session too.
        Ok(reply) => {
            let reuse = if reply.code == 421 {
                Reuse::No
            } else {
                Reuse::Yes
            };
            (Sent::Answered(failure(&reply, server)), reuse)
        }
        Err(e) => (
            Sent::Uncertain(format!(
                "{server}: {e} after the message was sent; the server may have it"
            )),
            Reuse::No,
        ),
    }
}

/// RSET after a transaction that did not reach the message (RFC 5321
/// §4.1.1.5), so the session starts the next one clean.
async fn reset(conn: &mut Connection) -> Reuse {
    if conn.command(&Command::Rset).await.is_err() {
        return Reuse::No;
    }
    match conn.reply().await {
        Ok(reply) if reply.code == 250 => Reuse::Yes,
        _ => Reuse::No,
    }
}
