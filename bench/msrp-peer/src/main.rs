//! `msrp-peer`: the IM side of the large-message benchmark (`bench/run
//! large`, issue 11). The tests' MSRP peers parse by hand, one line at a
//! time, and answer chunk by chunk; this one reads 256 KiB at a time,
//! parses with the gateway's own codec and pipelines, so that the
//! gateway, not the peer, sets the rate. It prints one JSON line per
//! message.

mod frames;
mod receive;
mod send;

use std::net::{SocketAddr, TcpListener};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "The MSRP peer of bench/run large")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mail → IM: listen for the gateway's MSRP connections and answer
    /// every chunk; exit after COUNT complete messages.
    Receive {
        /// Loopback port to listen on (0: any; the chosen one is printed
        /// first as {"port": N}).
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[arg(long, default_value_t = 1)]
        count: usize,
    },
    /// IM → mail: set up a session with the gateway and send COUNT
    /// messages of BYTES, one dialog each.
    Send {
        /// The gateway's SIP address (UDP).
        #[arg(long)]
        sip: SocketAddr,
        /// Request URI, e.g. sip:bob@mail.example.test.
        #[arg(long)]
        to: String,
        #[arg(long, default_value_t = 10 * 1024 * 1024)]
        bytes: usize,
        /// Largest SEND body: 64 KiB, as clients that send files in big
        /// chunks do (the gateway accepts up to 64 KiB per chunk).
        #[arg(long, default_value_t = 64 * 1024)]
        chunk: usize,
        #[arg(long, default_value_t = 1)]
        count: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Receive { port, count } => {
            let listener = TcpListener::bind(("127.0.0.1", port))?;
            println!("{{\"port\": {}}}", listener.local_addr()?.port());
            receive::run(listener, count)
        }
        Command::Send {
            sip,
            to,
            bytes,
            chunk,
            count,
        } => send::run(&send::Plan {
            sip,
            to,
            bytes,
            chunk,
            count,
        }),
    }
}
