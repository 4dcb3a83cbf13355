//! What a hostile client can do to the real binary, and what it must not
//! achieve: listeners that stop for good, descriptors held by a flood,
//! slots held by a silent TLS client.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use interwork_e2e::flood::{allow_open_files, connect_from};
use interwork_e2e::{Gateway, Ports, Scratch};

const UNTRUSTED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn scratch() -> Scratch {
    Scratch::new(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"))
}

/// Reads what the server sends until `deadline`, the connection closes, or
/// a line ending arrives; `None` when nothing came in time.
fn read_line(stream: &mut TcpStream, deadline: Duration) -> Option<String> {
    stream.set_read_timeout(Some(deadline)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.ends_with(b"\r\n") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    (!got.is_empty()).then(|| String::from_utf8_lossy(&got).into_owned())
}

/// The `220` greeting of an SMTP server on `stream`, or what came instead.
fn greeting_220(stream: &mut TcpStream) -> Result<String, String> {
    match read_line(stream, Duration::from_secs(2)) {
        Some(line) if line.starts_with("220 ") => Ok(line),
        Some(line) => Err(line),
        None => Err("no greeting".into()),
    }
}

/// The `220` greeting to a connection from 127.0.0.1, or why not.
fn smtp_greeting(port: u16) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    greeting_220(&mut stream)
}

/// The status line of the answer to an OPTIONS over SIP TCP from
/// 127.0.0.1, or why there is none.
fn sip_tcp_options(port: u16, call_id: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let local = stream.local_addr().unwrap();
    let request = format!(
        "OPTIONS sip:gw.example.test SIP/2.0\r\n\
         Via: SIP/2.0/TCP {local};branch=z9hG4bK{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@im.example.test>;tag=p\r\n\
         To: <sip:gw.example.test>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    read_line(&mut stream, Duration::from_secs(2)).ok_or_else(|| "no answer".into())
}

fn start(s: &Scratch, extra: &[(&str, &str)], open_files: Option<u64>) -> (Gateway, Ports) {
    let (config, ports) = s.gateway_config(extra);
    let mut command = s.command(&["run", "--config", config.to_str().unwrap()]);
    if let Some(limit) = open_files {
        command = under_open_files_limit(&command, limit);
    }
    let mut gateway = Gateway::start(command);
    gateway.wait_for("interwork ready", Duration::from_secs(60));
    (gateway, ports)
}

/// `command` run by `sh` under `ulimit -n limit`: soft and hard limit both
/// (dash's `ulimit -n`), so that the gateway's raise to the hard limit
/// changes nothing.
fn under_open_files_limit(command: &Command, limit: u64) -> Command {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(std::process::Stdio::null());
    if let Some(dir) = command.get_current_dir() {
        shell.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => shell.env(key, value),
            None => shell.env_remove(key),
        };
    }
    shell
}

/// Waits until `probe` succeeds; returns how long that took.
fn until_ok(what: &str, timeout: Duration, probe: impl Fn() -> Result<String, String>) -> Duration {
    let started = Instant::now();
    loop {
        match probe() {
            Ok(_) => return started.elapsed(),
            Err(e) if started.elapsed() > timeout => panic!("{what}: {e} after {timeout:?}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn running_out_of_descriptors_does_not_end_the_listeners() {
    let s = scratch();
    // Session limits far above the descriptors, so that accept() itself
    // fails with EMFILE, the case that used to end the accept loops.
    let (mut gateway, ports) = start(
        &s,
        &[
            ("max_sessions = 100", "max_sessions = 5000"),
            (
                "max_sessions_per_client = 50",
                "max_sessions_per_client = 5000",
            ),
        ],
        Some(160),
    );
    // Sessions until accept() fails; the connections queued after that
    // wait in the listen backlog.
    let mut held = Vec::new();
    while !gateway.has_logged("Too many open files") {
        assert!(held.len() < 1000, "no EMFILE after {} sessions", held.len());
        for _ in 0..10 {
            held.push(TcpStream::connect(("127.0.0.1", ports.smtp)).expect("connect"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let sessions = held.len();
    drop(held);
    let smtp = until_ok("SMTP after EMFILE", Duration::from_secs(10), || {
        smtp_greeting(ports.smtp)
    });
    let sip = until_ok("SIP TCP after EMFILE", Duration::from_secs(10), || {
        sip_tcp_options(ports.sip, "emfile-1")
    });
    gateway.wait_for("accepting connections again", Duration::from_secs(5));
    eprintln!(
        "EMFILE after {sessions} connections; service back once they closed: SMTP in \
         {smtp:?}, SIP TCP in {sip:?}"
    );
    assert!(gateway.stop().success(), "the gateway did not exit cleanly");
}

#[test]
fn a_flood_from_an_untrusted_address_holds_few_descriptors_and_leaves_service_up() {
    const PER_LISTENER: usize = 2000;
    assert!(
        allow_open_files(3 * PER_LISTENER as u64 + 256) >= 3 * PER_LISTENER as u64 + 256,
        "this test needs {} open files",
        3 * PER_LISTENER + 256
    );
    let s = scratch();
    let (gateway, ports) = start(&s, &[], None);
    let baseline = gateway.open_descriptors();
    let started = Instant::now();
    let mut flood = Vec::with_capacity(3 * PER_LISTENER);
    for port in [ports.sip, ports.smtp, ports.msrp] {
        for _ in 0..PER_LISTENER {
            flood.push(connect_from(UNTRUSTED, port).expect("flood connection"));
        }
    }
    let connected = started.elapsed();
    // Let the accept loops catch up with the backlog, then look.
    std::thread::sleep(Duration::from_millis(500));
    let mut peak = 0;
    for _ in 0..10 {
        peak = peak.max(gateway.open_descriptors());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Service for everyone else goes on during the flood.
    let smtp_line = smtp_greeting(ports.smtp);
    let sip_line = sip_tcp_options(ports.sip, "flood-1");
    // SMTP connections past the per-client limit were told why.
    let mut refused = connect_from(UNTRUSTED, ports.smtp).unwrap();
    let told = read_line(&mut refused, Duration::from_secs(2));
    drop(refused);
    let held = peak - baseline;
    eprintln!(
        "flood: {} connections in {connected:?}; gateway descriptors {baseline} before, \
         {peak} at peak (+{held})",
        flood.len()
    );
    // 50 SMTP sessions and 32 MSRP connections from one address at most;
    // the SIP TCP ones are closed at accept; a little room for the
    // sessions of the probes above.
    assert!(held <= 50 + 32 + 16, "the flood holds {held} descriptors");
    assert!(smtp_line.is_ok(), "SMTP during the flood: {smtp_line:?}");
    assert!(
        sip_line
            .as_deref()
            .is_ok_and(|l| l.starts_with("SIP/2.0 200")),
        "SIP TCP during the flood: {sip_line:?}"
    );
    assert!(
        told.as_deref().is_some_and(|l| l.starts_with("421 4.7.0 ")),
        "past the per-client limit: {told:?}"
    );

    let ended = Instant::now();
    drop(flood);
    // Full service for the flooding address too, as soon as its
    // connections are gone.
    let back = until_ok("SMTP from 127.0.0.2 again", Duration::from_secs(10), || {
        let mut stream = connect_from(UNTRUSTED, ports.smtp).map_err(|e| e.to_string())?;
        greeting_220(&mut stream)
    });
    let settled = until_ok("descriptors back", Duration::from_secs(10), || {
        let now = gateway.open_descriptors();
        if now <= baseline + 2 {
            Ok(String::new())
        } else {
            Err(format!("{now} descriptors"))
        }
    });
    eprintln!(
        "after the flood: 127.0.0.2 served again in {back:?}; descriptors back to baseline in \
         {:?}",
        ended.elapsed().max(settled)
    );
}

#[test]
fn a_client_silent_after_starttls_is_cut_at_the_handshake_deadline() {
    let s = scratch();
    let status = std::process::Command::new("openssl")
        .current_dir(s.path())
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=gw.example.test"])
        .args(["-keyout", "smtp.key", "-out", "smtp.crt"])
        .output()
        .expect("openssl runs");
    assert!(status.status.success());
    let (_gateway, ports) = start(
        &s,
        &[
            (
                "# tls_certificate = \"smtp.crt\"",
                "tls_certificate = \"smtp.crt\"",
            ),
            (
                "# tls_private_key = \"smtp.key\"",
                "tls_private_key = \"smtp.key\"",
            ),
            (
                "tls_handshake_timeout_secs = 10",
                "tls_handshake_timeout_secs = 1",
            ),
            ("max_sessions = 100", "max_sessions = 20"),
            (
                "max_sessions_per_client = 50",
                "max_sessions_per_client = 20",
            ),
        ],
        None,
    );
    // Twenty clients take every slot, ask for TLS and say nothing more.
    let mut silent = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(("127.0.0.1", ports.smtp)).unwrap();
        let greeting = read_line(&mut stream, Duration::from_secs(2)).unwrap();
        assert!(greeting.starts_with("220 "), "{greeting}");
        stream.write_all(b"EHLO silent.example.test\r\n").unwrap();
        let mut ehlo = String::new();
        while !ehlo.contains("250 ") {
            ehlo.push_str(&read_line(&mut stream, Duration::from_secs(2)).expect("EHLO"));
        }
        stream.write_all(b"STARTTLS\r\n").unwrap();
        let go = read_line(&mut stream, Duration::from_secs(2)).unwrap();
        assert!(go.starts_with("220 "), "{go}");
        silent.push(stream);
    }
    let started = Instant::now();
    for stream in &mut silent {
        let mut buf = [0u8; 64];
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let read = stream.read(&mut buf);
        assert!(
            matches!(read, Ok(0))
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock),
            "still open after the handshake deadline: {read:?}"
        );
    }
    let cut = started.elapsed();
    assert!(cut < Duration::from_secs(4), "cut after {cut:?}");
    // Their slots are free again.
    let line = smtp_greeting(ports.smtp);
    assert!(line.is_ok(), "after the silent clients: {line:?}");
}
