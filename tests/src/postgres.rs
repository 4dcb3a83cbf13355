//! A throwaway PostgreSQL cluster on loopback (PEERS.md, "PostgreSQL as a
//! throwaway cluster"): `initdb` in a temporary directory, the server on a
//! free 127.0.0.1 port with its socket in that directory, stopped and
//! removed on drop. `fsync` stays on: the store's tests and measurements
//! are about durable commits.
//!
//! Authentication is `trust` for the socket and for 127.0.0.1: nothing but
//! this machine can reach the cluster, it lives for one test run, and the
//! store's URL handling is the same with or without a password.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, chown, geteuid};

use crate::peers::free_port;

/// Where Debian's `postgresql-NN` packages put the server binaries (off
/// PATH; only the client wrappers are on it).
const DEBIAN_SERVERS: &str = "/usr/lib/postgresql";

/// A running cluster: superuser `postgres`, no password.
pub struct Postgres {
    bin: PathBuf,
    /// Run the server's programs as the `postgres` user (we are root, and
    /// `initdb` / `pg_ctl` refuse to run as root).
    as_postgres: bool,
    /// The port it listens on, 127.0.0.1 only.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Postgres {
    /// initdb + start; takes about half a second.
    pub fn start() -> anyhow::Result<Self> {
        let bin = server_binaries()?;
        let dir = tempfile::Builder::new()
            .prefix("interwork-pg-")
            .tempdir()
            .context("temp dir for the cluster")?;
        let as_postgres = geteuid().is_root();
        if as_postgres {
            // The server must own its data directory, socket directory and log.
            let user = User::from_name("postgres")
                .context("looking up the postgres user")?
                .context("running as root needs the `postgres` user: apt-get install postgresql")?;
            chown(dir.path(), Some(user.uid), Some(user.gid))
                .context("chown of the cluster's directory to postgres")?;
        }
        let mut cluster = Self {
            bin,
            as_postgres,
            port: 0,
            dir,
        };
        let data = cluster.data();
        // -N: initdb does not fsync the new files: they are thrown away
        // anyway. The running server syncs as usual.
        cluster.run(
            cluster
                .server_command("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
                .args(["--locale=C", "-N"]),
            "initdb",
        )?;
        let settings = format!(
            "\n# interwork-e2e: a loopback throwaway cluster\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             fsync = on\n\
             synchronous_commit = on\n\
             max_connections = 200\n",
            cluster.dir.path().display()
        );
        append(&data.join("postgresql.conf"), &settings)?;
        // The port is free when picked, but another process could take it
        // before the server binds: try a few.
        let mut last = None;
        for _ in 0..3 {
            let port = free_port();
            let started = cluster.run(
                cluster
                    .server_command("pg_ctl")
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(cluster.log_path())
                    .args(["-o", &format!("-p {port}"), "-w", "-t", "60", "start"]),
                "pg_ctl start",
            );
            match started {
                Ok(_) => {
                    cluster.port = port;
                    return Ok(cluster);
                }
                Err(e) => last = Some(e),
            }
        }
        let log = cluster.log();
        Err(last.expect("tried at least once")).with_context(|| format!("server log:\n{log}"))
    }

    /// One cluster for the tests of this process that run at the same
    /// time: it starts with the first caller and stops when the last
    /// holder drops it (a static would never be dropped, and the server
    /// would outlive the tests).
    pub fn shared() -> anyhow::Result<Arc<Self>> {
        static CURRENT: Mutex<Weak<Postgres>> = Mutex::new(Weak::new());
        let mut current = CURRENT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cluster) = current.upgrade() {
            return Ok(cluster);
        }
        let cluster = Arc::new(Self::start()?);
        *current = Arc::downgrade(&cluster);
        Ok(cluster)
    }

    /// The URL of database `db`, over TCP on loopback.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates an empty database `name` (lower-case letters, digits and
    /// `_`, at most 63 bytes) and returns its URL.
    pub fn create_database(&self, name: &str) -> anyhow::Result<String> {
        let plain = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if name.is_empty() || name.len() > 63 || !plain {
            bail!("{name:?} is not a plain database name");
        }
        self.sql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url(name))
    }

    /// Runs `sql` in database `db` with psql; returns its unaligned output.
    pub fn sql(&self, db: &str, sql: &str) -> anyhow::Result<String> {
        let output = self.run(
            Command::new(self.bin.join("psql"))
                .arg(self.url(db))
                .args([
                    "-X",
                    "-q",
                    "-A",
                    "-t",
                    "-w",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    sql,
                ])
                .current_dir(self.dir.path()),
            "psql",
        )?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// One of the server's programs, as the postgres user when we are root,
    /// run from a directory that user may enter.
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        command.current_dir(self.dir.path());
        command
    }

    fn run(&self, command: &mut Command, what: &str) -> anyhow::Result<Output> {
        let output = command
            .output()
            .with_context(|| format!("{what} did not run"))?;
        if !output.status.success() {
            bail!(
                "{what} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }

    /// The postmaster's pid, from the first line of `postmaster.pid`.
    fn postmaster_pid(&self) -> Option<Pid> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        let pid: i32 = text.lines().next()?.trim().parse().ok()?;
        Some(Pid::from_raw(pid))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Read before stopping: a clean stop removes the file.
        let pid = self.postmaster_pid();
        // Immediate: the data is thrown away, no checkpoint is needed.
        let stopped = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "10", "stop"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !stopped && let Some(pid) = pid {
            // SIGQUIT is PostgreSQL's immediate shutdown; SIGKILL if it
            // does not go (its children exit when they see it gone).
            let _ = kill(pid, Signal::SIGQUIT);
            let started = Instant::now();
            while Path::new(&format!("/proc/{pid}")).exists() {
                if started.elapsed() > Duration::from_secs(5) {
                    let _ = kill(pid, Signal::SIGKILL);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // The TempDir removes the directory after this.
    }
}

/// The `bin` directory of the newest PostgreSQL installed.
fn server_binaries() -> anyhow::Result<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(DEBIAN_SERVERS)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    let version: Vec<u32> = name
                        .split('.')
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .ok()?;
                    let bin = entry.path().join("bin");
                    bin.join("initdb").exists().then_some((version, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "PostgreSQL is not installed (no {DEBIAN_SERVERS}/*/bin/initdb): \
             apt-get install postgresql (scripts/test installs it)"
        ),
    }
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
