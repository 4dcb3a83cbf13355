//! Real third-party peers on loopback: dnsmasq (DNS MX), aiosmtpd (SMTP),
//! sipp (SIP). Each runs as a child process in a temp dir and is killed
//! when dropped.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback port that was free a moment ago (TCP and UDP).
///
/// Taken below the kernel's ephemeral range (32768–60999 by default), so
/// that no outgoing connection of the gateway or of a peer can be given it
/// between this check and the bind; from a sequence of this process, so
/// that two tests running at once never get the same one.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    // Start where another test binary of the same run is unlikely to be.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        (std::process::id() % u32::from(SPAN)) as u16 + 1,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    loop {
        let port = FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % SPAN;
        let tcp = TcpListener::bind(("127.0.0.1", port));
        let udp = UdpSocket::bind(("127.0.0.1", port));
        if tcp.is_ok() && udp.is_ok() {
            return port;
        }
    }
}

fn require(tool: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{tool} is not installed: .ci/run installs the test peers"
    );
}

/// A child process killed on drop.
pub struct Peer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Its scratch directory.
    pub dir: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// dnsmasq answering for `*.test` names with the given records.
/// `mx`: (domain, exchange, preference); `hosts`: (name, ip).
pub fn dnsmasq(mx: &[(&str, &str, u16)], hosts: &[(&str, &str)]) -> Peer {
    require("dnsmasq");
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut conf = format!(
        "port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n\
         user=root\nlocal=/test/\npid-file={}/dnsmasq.pid\nlog-facility=-\n",
        dir.path().display()
    );
    for (domain, exchange, preference) in mx {
        conf.push_str(&format!("mx-host={domain},{exchange},{preference}\n"));
    }
    for (name, ip) in hosts {
        conf.push_str(&format!("host-record={name},{ip}\n"));
    }
    let conf_path = dir.path().join("dnsmasq.conf");
    std::fs::write(&conf_path, conf).expect("write dnsmasq.conf");
    let child = Command::new("dnsmasq")
        .arg(format!("--conf-file={}", conf_path.display()))
        .arg("--keep-in-foreground")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq starts");
    // Ready when it holds the port.
    let started = Instant::now();
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "dnsmasq did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Peer { child, port, dir }
}

/// aiosmtpd with the recipient policy of `tests/peers/smtp_sink.py`.
pub fn smtp_sink() -> Peer {
    smtp_sink_on(free_port())
}

/// As [`smtp_sink`], on a given port (an MX that comes up late).
pub fn smtp_sink_on(port: u16) -> Peer {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/smtp_sink.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(port.to_string())
        .arg(dir.path().join("Maildir"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs");
    let stdout = child.stdout.take().expect("piped");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert_eq!(
        line.trim(),
        "ready",
        "aiosmtpd did not start (is python3-aiosmtpd installed?)"
    );
    Peer { child, port, dir }
}

impl Peer {
    /// The sink's mails once there are `count` (or when `timeout` passed).
    pub fn mails_when(&self, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let started = Instant::now();
        loop {
            let mails = self.mails();
            if mails.len() >= count || started.elapsed() > timeout {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Mails the SMTP sink accepted, oldest first.
    pub fn mails(&self) -> Vec<Vec<u8>> {
        let new = self.dir.path().join("Maildir/new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&new)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read(p).expect("read mail"))
            .collect()
    }
}

/// Outcome of a sipp run.
pub struct SippRun {
    /// Exit status 0: every call succeeded.
    pub success: bool,
    /// Its output and message log.
    pub output: String,
}

/// Runs a sipp scenario once against `target` (`127.0.0.1:port`), over
/// `transport` ("u1" for UDP, "t1" for TCP).
pub fn sipp(scenario_xml: &str, target: &str, transport: &str) -> SippRun {
    sipp_calls(scenario_xml, target, transport, 1)
}

/// Runs a sipp scenario `calls` times (at sipp's default rate, 10 calls
/// per second), as [`sipp`].
pub fn sipp_calls(scenario_xml: &str, target: &str, transport: &str, calls: usize) -> SippRun {
    require("sipp");
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("scenario.xml");
    std::fs::write(&scenario, scenario_xml).expect("write scenario");
    let output = Command::new("sipp")
        .current_dir(dir.path())
        .args(["-sf", scenario.to_str().expect("utf-8 path")])
        .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
        .args([
            "-t",
            transport,
            "-m",
            &calls.to_string(),
            "-nostdin",
            "-timeout",
            "30",
            "-timeout_error",
        ])
        .args(["-trace_err", "-trace_msg"])
        .arg(target)
        .output()
        .expect("sipp runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    for entry in std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with("_messages.log") || name.ends_with("_errors.log") {
            text.push_str(&format!("\n--- {name}\n"));
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    SippRun {
        success: output.status.success(),
        output: text,
    }
}

/// A UAS scenario step: take a MESSAGE, answer it `code reason`.
fn answer_step(code: u16, reason: &str) -> String {
    format!(
        r#"<recv request="MESSAGE"/>
<send><![CDATA[
SIP/2.0 {code} {reason}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
"#
    )
}

/// A sipp UAS answering one request with `code`, in the background: the IM
/// system's side of e-mail → IM. `finish` returns its message log.
pub struct SippUas {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SippUas {
    /// Answers the first MESSAGE with `code` and `reason`.
    pub fn start(code: u16, reason: &str) -> Self {
        Self::start_on(free_port(), code, reason)
    }

    /// The same, on a given port (a second UAS where the first one was).
    pub fn start_on(port: u16, code: u16, reason: &str) -> Self {
        Self::calls_on(port, 1, code, reason)
    }

    /// Answers the MESSAGEs of `calls` calls, each with `code`.
    pub fn calls_on(port: u16, calls: usize, code: u16, reason: &str) -> Self {
        Self::with_scenario_calls(
            port,
            calls,
            &format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<scenario name=\"uas\">\n{}</scenario>\n",
                answer_step(code, reason)
            ),
        )
    }

    /// Answers the MESSAGEs of one call (one Call-ID: the first and its
    /// retries) with these codes in turn: an IM user offline, then back.
    pub fn answering(answers: &[(u16, &str)]) -> Self {
        let steps: String = answers
            .iter()
            .map(|(code, reason)| answer_step(*code, reason))
            .collect();
        Self::with_scenario(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<scenario name=\"uas\">\n{steps}</scenario>\n"
        ))
    }

    /// Answers an INVITE with 200 and an SDP answer whose `a=path` is
    /// `msrp_path` (`a=setup:passive`: the gateway connects), takes the ACK,
    /// and answers the BYE.
    pub fn start_msrp(msrp_path: &str, msrp_port: u16) -> Self {
        Self::msrp_scenario(msrp_path, msrp_port, "")
    }

    /// The same behind a record-routing proxy: the 200 copies the
    /// INVITE's Record-Route (RFC 3261 §12.1.1), as a UAS must.
    pub fn start_msrp_behind_proxy(msrp_path: &str, msrp_port: u16) -> Self {
        Self::msrp_scenario(msrp_path, msrp_port, "[last_Record-Route:]\n")
    }

    fn msrp_scenario(msrp_path: &str, msrp_port: u16, record_route: &str) -> Self {
        Self::with_scenario(&format!(
            r#"<?xml version="1.0" encoding="UTF-8" ?>
<scenario name="uas-msrp">
<recv request="INVITE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
{record_route}Contact: <sip:im@127.0.0.1:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=im 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=message {msrp_port} TCP/MSRP *
a=accept-types:message/cpim text/plain
a=path:{msrp_path}
a=setup:passive
]]></send>
<recv request="ACK"/>
<recv request="BYE" timeout="60000"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"#
        ))
    }

    fn with_scenario(scenario: &str) -> Self {
        Self::with_scenario_on(free_port(), scenario)
    }

    fn with_scenario_on(port: u16, scenario: &str) -> Self {
        Self::with_scenario_calls(port, 1, scenario)
    }

    fn with_scenario_calls(port: u16, calls: usize, scenario: &str) -> Self {
        require("sipp");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("uas.xml");
        std::fs::write(&path, scenario).expect("write scenario");
        let child = Command::new("sipp")
            .current_dir(dir.path())
            .args(["-sf", path.to_str().expect("utf-8")])
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-m",
                &calls.to_string(),
                "-nostdin",
            ])
            .args(["-timeout", "60", "-trace_msg", "-trace_err"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp starts");
        // Ready when it holds its port.
        let started = Instant::now();
        while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sipp UAS did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, dir }
    }

    /// Waits for sipp to finish its one call; returns (success, message log).
    /// (A scenario that ends on a received BYE ends the call there.)
    pub fn finish(mut self) -> (bool, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "sipp UAS never got its request"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut log = String::new();
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with("_messages.log") || name.ends_with("_errors.log") {
                // Lossy: a message may carry binary content (an image).
                let bytes = std::fs::read(entry.path()).unwrap_or_default();
                log.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        (status.success(), log)
    }
}

impl Drop for SippUas {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs swaks against `127.0.0.1:port` with extra arguments; returns
/// (exit success, transcript).
pub fn swaks(port: u16, args: &[&str]) -> (bool, String) {
    require("swaks");
    let output = Command::new("swaks")
        .args([
            "--server",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--timeout",
            "60",
        ])
        .args(args)
        .output()
        .expect("swaks runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// An isolated Postfix instance (PEERS.md) on `127.0.0.1:port` that relays
/// `im.example.test` to the gateway's SMTP port, with short retry times.
pub struct Postfix {
    dir: tempfile::TempDir,
    /// The port its smtpd listens on.
    pub port: u16,
}

impl Postfix {
    /// Starts an instance relaying to the gateway's SMTP port `relay_to`.
    pub fn start(relay_to: u16) -> Self {
        Self::start_relaying(&[("im.example.test", relay_to)], "")
    }

    /// Starts an instance relaying each `(domain, port)` to
    /// `127.0.0.1:port`, with `extra` appended to its main.cf (e.g.
    /// `smtpd_discard_ehlo_keywords = 8bitmime`).
    pub fn start_relaying(routes: &[(&str, u16)], extra: &str) -> Self {
        let transports: Vec<(&str, String)> = routes
            .iter()
            .map(|(domain, port)| (*domain, format!("smtp:[127.0.0.1]:{port}")))
            .collect();
        Self::start_routing(&transports, extra)
    }

    /// Starts an instance that takes mail for each `(domain, transport)`
    /// and hands it to that Postfix transport (`smtp:[127.0.0.1]:2525`,
    /// `discard:why` — a final delivery, so a `NOTIFY=SUCCESS` mail gets a
    /// "delivered" DSN — or `error:5.1.1 why`), with `extra` main.cf lines.
    pub fn start_routing(routes: &[(&str, String)], extra: &str) -> Self {
        require("postfix");
        let dir = tempfile::tempdir().expect("temp dir");
        let t = dir.path();
        let port = free_port();
        // mktemp dirs are 0700: Postfix's unprivileged daemons need to enter.
        let chmod = |p: &Path, mode: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        chmod(t, 0o755);
        for sub in ["etc", "spool", "data"] {
            std::fs::create_dir(t.join(sub)).expect("mkdir");
        }
        let status = Command::new("chown")
            .arg("postfix")
            .arg(t.join("data"))
            .status()
            .expect("chown runs");
        assert!(status.success(), "chown postfix failed");
        let main_cf = format!(
            "compatibility_level = 3.6\nqueue_directory = {t}/spool\ndata_directory = {t}/data\n\
myhostname = mta.example.test\nmydestination =\ninet_interfaces = 127.0.0.1\ninet_protocols = ipv4\n\
mynetworks = 127.0.0.0/8\nrelay_domains = {domains}\n\
transport_maps = inline:{{ {transports} }}\n\
default_transport = error:outside delivery disabled\nsmtp_dns_support_level = disabled\n\
maillog_file = {t}/maillog\nmaillog_file_prefixes = /tmp\nminimal_backoff_time = 2s\n\
maximal_backoff_time = 4s\nqueue_run_delay = 2s\n\
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n\
alias_maps =\nalias_database =\nlocal_recipient_maps =\nbiff = no\n{extra}\n",
            t = t.display(),
            domains = routes
                .iter()
                .map(|(d, _)| *d)
                .collect::<Vec<_>>()
                .join(", "),
            transports = routes
                .iter()
                .map(|(d, transport)| format!("{d}={transport}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        std::fs::write(t.join("etc/main.cf"), main_cf).expect("main.cf");
        let master_cf = format!(
            "127.0.0.1:{port} inet n - n - - smtpd\n{}",
            [
                "pickup unix n - n 60 1 pickup",
                "cleanup unix n - n - 0 cleanup",
                "qmgr unix n - n 300 1 qmgr",
                "rewrite unix - - n - - trivial-rewrite",
                "bounce unix - - n - 0 bounce",
                "defer unix - - n - 0 bounce",
                "trace unix - - n - 0 bounce",
                "verify unix - - n - 1 verify",
                "flush unix n - n 1000? 0 flush",
                "proxymap unix - - n - - proxymap",
                "smtp unix - - n - - smtp",
                "relay unix - - n - - smtp",
                "showq unix n - n - - showq",
                "error unix - - n - - error",
                "retry unix - - n - - error",
                "discard unix - - n - - discard",
                "anvil unix - - n - 1 anvil",
                "scache unix - - n - 1 scache",
                "postlog unix-dgram n - n - 1 postlogd",
            ]
            .join("\n")
        );
        std::fs::write(t.join("etc/master.cf"), master_cf + "\n").expect("master.cf");
        let started = Command::new("postfix")
            .arg("-c")
            .arg(t.join("etc"))
            .arg("start")
            .output()
            .expect("postfix runs");
        assert!(
            started.status.success(),
            "postfix start: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let postfix = Self { dir, port };
        let begun = Instant::now();
        while TcpListener::bind(("127.0.0.1", port)).is_ok() {
            assert!(
                begun.elapsed() < Duration::from_secs(20),
                "postfix did not listen:\n{}",
                postfix.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        postfix
    }

    /// Its mail log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// Waits for a log line containing every one of `needles`.
    pub fn wait_for(&self, needles: &[&str], timeout: Duration) {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self
                .log()
                .lines()
                .any(|l| needles.iter().all(|n| l.contains(n)))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no Postfix log line with {needles:?}:\n{}", self.log());
    }

    /// `postqueue -f`: retry deferred mail now.
    pub fn flush(&self) {
        let status = Command::new("postqueue")
            .arg("-c")
            .arg(self.dir.path().join("etc"))
            .arg("-f")
            .status()
            .expect("postqueue runs");
        assert!(status.success());
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(self.dir.path().join("etc"))
            .arg("stop")
            .output();
    }
}

/// A content server (RCS FT-HTTP, GSMA RCC.07 §3.2.5) on loopback:
/// Python's `http.server` serving `files` (path, bytes) from its scratch
/// directory; each request it takes is a line of [`content_server_log`].
pub fn content_server(files: &[(&str, &[u8])]) -> Peer {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("www");
    for (path, bytes) in files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().expect("a folder")).expect("mkdir");
        std::fs::write(file, bytes).expect("write a served file");
    }
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("access.log")).expect("access log");
    let child = Command::new("/usr/bin/python3")
        .args(["-u", "-m", "http.server", &port.to_string()])
        .args(["--bind", "127.0.0.1", "--directory"])
        .arg(&root)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("python3 runs");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Peer { child, port, dir }
}

/// The request lines a [`content_server`] logged (`"GET /f HTTP/1.1" 200`).
pub fn content_server_log(server: &Peer) -> Vec<String> {
    std::fs::read_to_string(server.dir.path().join("access.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"GET "))
        .map(str::to_string)
        .collect()
}
