//! The verbs that ask the running gateway over its control socket
//! (`crate::control`): `status`, `plugins list`, `reload`, `plugins use`.

use std::process::ExitCode;

use crate::config::Config;
use crate::control::{self, Answer, Command};
use crate::live::{ServingPlugin, Status};

/// Asks, on a runtime of its own; the answer or what went wrong.
fn ask(config: &Config, command: &Command) -> anyhow::Result<Answer> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(control::ask(&config.control_socket(), command))
}

/// `interwork status [--json]`.
pub fn status(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    match ask(config, &Command::Status)? {
        Answer::Status(status) if json => {
            println!("{}", serde_json::to_string_pretty(&status)?);
            Ok(ExitCode::SUCCESS)
        }
        Answer::Status(status) => {
            print_status(&status);
            Ok(ExitCode::SUCCESS)
        }
        other => unexpected(other),
    }
}

fn print_status(status: &Status) {
    let state = match (status.ready, status.draining) {
        (_, true) => "draining",
        (true, false) => "ready",
        (false, false) => "starting",
    };
    println!(
        "interwork {} (pid {}): {state}, up {}",
        status.version,
        status.pid,
        uptime(status.uptime_secs)
    );
    for (what, address) in &status.listeners {
        println!("listening  {what:<8} {address}");
    }
    let connections: Vec<String> = status
        .connections
        .iter()
        .map(|(what, open)| format!("{what} {open}"))
        .collect();
    println!(
        "open       {}, msrp sessions {}, messages in flight {}",
        connections.join(", "),
        status.msrp_sessions,
        status.messages_in_flight
    );
    for plugin in &status.plugins {
        print_plugin(plugin);
    }
    for (path, why) in &status.refused_plugins {
        println!("refused    {path}: {why}");
    }
    println!("store      {}", status.store);
    match &status.queue {
        None => println!("queue      (the store did not answer)"),
        Some(queue) if queue.is_empty() => println!("queue      empty"),
        Some(queue) => {
            for line in queue {
                println!(
                    "queue      {:<10} {:<8} {:>6}  oldest {}",
                    line.direction,
                    line.state,
                    line.count,
                    uptime(line.oldest_age_secs)
                );
            }
        }
    }
}

fn print_plugin(plugin: &ServingPlugin) {
    println!(
        "{:<10} {} {}  {}  contract {}  sha256 {}",
        plugin.interface,
        plugin.name,
        plugin.version,
        plugin.source,
        plugin.contract,
        &plugin.sha256[..16.min(plugin.sha256.len())]
    );
}

fn uptime(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// `interwork plugins list`: what the running gateway serves.
pub fn plugins(config: &Config) -> anyhow::Result<ExitCode> {
    match ask(config, &Command::Plugins)? {
        Answer::Plugins { serving, refused } => {
            for plugin in &serving {
                print_plugin(plugin);
            }
            for (path, why) in &refused {
                println!("refused    {path}: {why}");
            }
            Ok(ExitCode::SUCCESS)
        }
        other => unexpected(other),
    }
}

/// `interwork reload` and `interwork plugins use FILE`: what happened.
pub fn done(config: &Config, command: Command) -> anyhow::Result<ExitCode> {
    match ask(config, &command)? {
        Answer::Done(said) => {
            for line in said {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        other => unexpected(other),
    }
}

fn unexpected(answer: Answer) -> anyhow::Result<ExitCode> {
    match answer {
        Answer::Error(why) => {
            eprintln!("interwork: the gateway says: {why}");
            Ok(ExitCode::from(1))
        }
        other => anyhow::bail!("unexpected answer from the gateway: {other:?}"),
    }
}
