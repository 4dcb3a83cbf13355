//! `interwork queue …`: the queue tools, as Postfix's `postqueue` /
//! `postsuper`. They work on the store the configuration names (SQLite or
//! PostgreSQL), beside running gateways (SQLite in WAL mode lets both at
//! once); every gateway's retry worker looks at the queue each
//! `store.scan_interval_ms`, so a flushed or released message is attempted
//! within that time by whichever node claims it first.

use std::process::ExitCode;

use clap::Subcommand;
use interwork_proto::dates::{self, Timestamp};
use interwork_store::{Entry, Millis, QueueId, State, StoreError};

use crate::config::Config;
use crate::spool::{self, millis_now};

/// What `interwork queue` does.
#[derive(Subcommand)]
pub enum QueueCommand {
    /// Every message in the queue, oldest first: id, state, age,
    /// attempts, next attempt, sender, recipients and the last error.
    List,
    /// One message: all it is known by, and its content.
    Show {
        /// Its id (from `queue list`).
        id: QueueId,
    },
    /// Makes every queued message (or one) due now.
    Flush {
        /// Only this message.
        id: Option<QueueId>,
    },
    /// Keeps a queued message from being attempted until released.
    Hold {
        /// Its id.
        id: QueueId,
    },
    /// Releases a held message: due now.
    Release {
        /// Its id.
        id: QueueId,
    },
    /// Deletes a message, whatever its state (it is never delivered).
    Delete {
        /// Its id.
        id: QueueId,
    },
}

/// Runs one queue command; exit 1 when the message is not there.
pub fn run(config: &Config, command: QueueCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = spool::open_store(config).await?;
        let now = millis_now();
        let done = match command {
            QueueCommand::List => {
                print!("{}", list(&store.list(&[]).await?, now));
                return Ok(ExitCode::SUCCESS);
            }
            QueueCommand::Show { id } => match store.get(id).await {
                Ok(message) => {
                    print!("{}", show(&message.entry, now));
                    println!();
                    print!("{}", String::from_utf8_lossy(&message.content));
                    Ok(())
                }
                Err(e) => Err(e),
            },
            QueueCommand::Flush { id } => match store.flush(id, now).await {
                Ok(0) if id.is_some() => Err(StoreError::NotFound(id.unwrap_or_default())),
                Ok(n) => {
                    println!("{n} message(s) due now");
                    Ok(())
                }
                Err(e) => Err(e),
            },
            QueueCommand::Hold { id } => said(store.set_hold(id, true, now).await, id, "held"),
            QueueCommand::Release { id } => {
                said(store.set_hold(id, false, now).await, id, "released")
            }
            QueueCommand::Delete { id } => said(store.delete(id).await, id, "deleted"),
        };
        match done {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(StoreError::NotFound(id)) => {
                eprintln!("interwork: no message {id} in the queue in a state that allows this");
                Ok(ExitCode::from(1))
            }
            Err(e) => Err(e.into()),
        }
    })
}

fn said(result: Result<(), StoreError>, id: QueueId, what: &str) -> Result<(), StoreError> {
    result.map(|()| println!("{id} {what}"))
}

/// `3d4h`, `2h5m`, `4m03s`, `12s`: two units at most, as people read ages.
fn span(ms: Millis) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

fn list(entries: &[Entry], now: Millis) -> String {
    let mut out = format!(
        "{:<8} {:<8} {:>7} {:>5} {:>8}  {:<30} TO\n",
        "ID", "STATE", "AGE", "TRIES", "NEXT", "FROM"
    );
    for e in entries {
        let next = match (e.state, &e.lease) {
            (State::Queued, Some(lease)) if lease.until > now => "sending".to_string(),
            (State::Queued, _) if e.next_attempt_at <= now => "now".to_string(),
            (State::Queued, _) => span(e.next_attempt_at - now),
            _ => "-".to_string(),
        };
        let from = if e.sender.is_empty() { "<>" } else { &e.sender };
        out.push_str(&format!(
            "{:<8} {:<8} {:>7} {:>5} {:>8}  {:<30} {}\n",
            e.id,
            e.state.as_str(),
            span(now - e.created_at),
            e.attempts,
            next,
            from,
            e.recipients.join(", ")
        ));
        if let Some(error) = &e.last_error {
            out.push_str(&format!("{:8} ({error})\n", ""));
        }
    }
    let count = |state| entries.iter().filter(|e| e.state == state).count();
    out.push_str(&format!(
        "-- {} message(s): {} queued, {} held, {} failed, {} expired\n",
        entries.len(),
        count(State::Queued),
        count(State::Held),
        count(State::Failed),
        count(State::Expired)
    ));
    out
}

fn when(at: Millis, now: Millis) -> String {
    let text = dates::format_rfc3339(&Timestamp::utc(at.div_euclid(1000)))
        .unwrap_or_else(|_| at.to_string());
    if at >= now {
        format!("{text} (in {})", span(at - now))
    } else {
        format!("{text} ({} ago)", span(now - at))
    }
}

fn show(e: &Entry, now: Millis) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| out.push_str(&format!("{name:<16} {value}\n"));
    line("id:", &e.id.to_string());
    line("direction:", e.direction.as_str());
    line("state:", e.state.as_str());
    line("message-id:", &format!("<{}>", e.message_id));
    if let Some(imdn) = &e.imdn_message_id {
        line("imdn-message-id:", imdn);
    }
    line("from:", if e.sender.is_empty() { "<>" } else { &e.sender });
    line("to:", &e.recipients.join(", "));
    line("accepted:", &when(e.created_at, now));
    line("expires:", &when(e.expires_at, now));
    line("attempts:", &e.attempts.to_string());
    if e.state == State::Queued {
        line("next attempt:", &when(e.next_attempt_at, now));
    }
    if let Some(lease) = &e.lease {
        line(
            "being sent by:",
            &format!("{} until {}", lease.owner, when(lease.until, now)),
        );
    }
    if let Some(error) = &e.last_error {
        line("last error:", error);
    }
    if let Some(notify) = &e.dsn_notify {
        line("dsn notify:", notify);
    }
    line("size:", &format!("{} bytes", e.size));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_two_units() {
        assert_eq!(span(12_345), "12s");
        assert_eq!(span(243_000), "4m03s");
        assert_eq!(span(7_500_000), "2h05m");
        assert_eq!(span(4 * 86_400_000 + 3_600_000), "4d01h");
        assert_eq!(span(-5), "0s");
    }
}
