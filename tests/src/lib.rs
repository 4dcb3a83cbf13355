//! Helpers for the end-to-end tests: they run the real `interwork` binary
//! (built by `cargo test --workspace` for the host's own tests) in a
//! scratch directory.

use std::io::{BufRead, BufReader};

pub mod flood;
pub mod im_side;
pub mod kamailio;
pub mod mx_world;
pub mod peers;
pub mod postgres;
pub mod sipp_message;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

pub use nix::sys::signal::Signal as UnixSignal;

/// `target/<profile>/interwork`, beside this test's `deps/` directory.
pub fn interwork_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("interwork");
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds it",
        bin.display()
    );
    bin
}

/// The value of a mail's header field `name` as written (unfolded only
/// when it was on one line), from its header section.
pub fn raw_header(mail: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(mail);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    head.split("\r\n")
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim().to_string())
}

/// `GET path` from `127.0.0.1:port` (HTTP/1.1, one request, connection
/// closed): the status code and body; `None` when nothing answers.
pub fn try_http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

/// As [`try_http_get`]; panics when nothing answers.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    try_http_get(port, path).unwrap_or_else(|| panic!("nothing answers GET {path} on {port}"))
}

/// A built guest component, e.g. `directory_mapping` or `fixture_trap`.
pub fn guest(name: &str) -> PathBuf {
    interwork_test_plugins::wasm(name)
}

/// A scratch directory to run the binary in, with its own compile cache
/// shared by the tests of this build.
pub struct Scratch {
    /// The directory (removed on drop).
    pub dir: tempfile::TempDir,
    cache: PathBuf,
}

impl Scratch {
    /// A fresh directory; compiled plugins are cached in `cache`.
    pub fn new(cache: &Path) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            cache: cache.to_path_buf(),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `interwork ARGS` in the scratch directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(interwork_bin());
        cmd.args(args)
            .current_dir(self.path())
            .env("XDG_CACHE_HOME", &self.cache)
            // The store (store.sqlite) of each test in its own scratch
            // directory, never the user's.
            .env("XDG_STATE_HOME", self.path())
            .env_remove("STATE_DIRECTORY")
            .env_remove("CACHE_DIRECTORY")
            .env_remove("RUNTIME_DIRECTORY")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("INTERWORK_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `interwork ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("interwork runs")
    }

    /// The example configuration with every listener on a free loopback
    /// port, plus `replacements`; returns its path and the ports.
    pub fn gateway_config(&self, replacements: &[(&str, &str)]) -> (PathBuf, Ports) {
        let ports = Ports {
            sip: peers::free_port(),
            msrp: peers::free_port(),
            smtp: peers::free_port(),
            admin: peers::free_port(),
        };
        let mut lines: Vec<(String, String)> = vec![
            (
                "udp_listen = \"0.0.0.0:5060\"".into(),
                format!("udp_listen = \"127.0.0.1:{}\"", ports.sip),
            ),
            (
                "tcp_listen = \"0.0.0.0:5060\"".into(),
                format!("tcp_listen = \"127.0.0.1:{}\"", ports.sip),
            ),
            (
                "listen = \"0.0.0.0:2855\"".into(),
                format!("listen = \"127.0.0.1:{}\"", ports.msrp),
            ),
            (
                "listen = \"0.0.0.0:25\"".into(),
                format!("listen = \"127.0.0.1:{}\"", ports.smtp),
            ),
            // Tests stop gateways with work still in flight (a slow MX, a
            // held message): a short drain keeps `stop` within its bound.
            ("drain_secs = 30".into(), "drain_secs = 2".into()),
            (
                ADMIN_LISTEN.into(),
                format!("listen = \"127.0.0.1:{}\"", ports.admin),
            ),
        ];
        lines.extend(
            replacements
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string())),
        );
        let pairs: Vec<(&str, &str)> = lines
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        (self.config(&pairs), ports)
    }

    /// `interwork run --config CONFIG` in the scratch directory, once it
    /// said it is ready.
    pub fn start_gateway(&self, config: &Path) -> Gateway {
        let mut gateway = Gateway::start(self.command(&[
            "run",
            "--config",
            config.to_str().expect("a UTF-8 path"),
        ]));
        gateway.wait_for("interwork ready", Duration::from_secs(30));
        gateway
    }

    /// Writes the example configuration with some lines replaced.
    pub fn config(&self, replacements: &[(&str, &str)]) -> PathBuf {
        let mut text = interwork::config::EMBEDDED_DEFAULT.to_string();
        for (from, to) in replacements {
            assert!(text.contains(from), "example config has no {from:?}");
            text = text.replace(from, to);
        }
        // Gateways of tests run side by side: none takes the one default
        // admin port (gateway_config gives each a port of its own).
        text = text.replace(ADMIN_LISTEN, "listen = \"127.0.0.1:0\"");
        let path = self.path().join("interwork.toml");
        std::fs::write(&path, text).expect("write config");
        path
    }
}

/// The loopback ports of a test gateway's listeners.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// SIP, UDP and TCP.
    pub sip: u16,
    /// MSRP.
    pub msrp: u16,
    /// SMTP.
    pub smtp: u16,
    /// The admin listener (`/metrics`).
    pub admin: u16,
}

/// The admin listener's line in the example configuration.
const ADMIN_LISTEN: &str = "listen = \"127.0.0.1:9464\"";

/// A running `interwork run`, its log lines collected from stderr.
pub struct Gateway {
    child: Child,
    lines: Receiver<String>,
    /// The log lines read so far.
    pub log: Vec<String>,
}

impl Gateway {
    /// Starts `command` (an `interwork run`), reading its stderr.
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("interwork run starts");
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for a log line containing `needle`; returns how long it took.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Duration {
        let started = Instant::now();
        if self.log.iter().any(|l| l.contains(needle)) {
            return Duration::ZERO;
        }
        while let Some(left) = timeout.checked_sub(started.elapsed()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.log.push(line);
                    if found {
                        return started.elapsed();
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no log line with {needle:?} within {timeout:?}; log so far:\n{}",
            self.log.join("\n")
        );
    }

    /// Whether a log line containing `needle` has come, without waiting.
    pub fn has_logged(&mut self, needle: &str) -> bool {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        self.log.iter().any(|l| l.contains(needle))
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many descriptors the gateway holds open now (`/proc/PID/fd`).
    pub fn open_descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .expect("/proc/PID/fd of the gateway")
            .count()
    }

    /// Sends a signal to the gateway.
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits"));
        nix::sys::signal::kill(pid, signal).expect("signal sent");
    }

    /// SIGKILL: the process dies at once, as in a crash or power loss of
    /// the process (what it committed stays; nothing else runs).
    pub fn kill(mut self) {
        self.signal(Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// Waits for the process to exit by itself (after a signal sent with
    /// [`Gateway::signal`]), at most `timeout`.
    pub fn wait_exit(mut self, timeout: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "did not exit within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal(Signal::SIGTERM);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
