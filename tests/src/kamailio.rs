//! Kamailio as the IM system's stateful proxy (PEERS.md): `record_route()`
//! on every dialog-creating request, loose routing of in-dialog requests,
//! and routes by Request-URI domain to loopback ports. Every request it
//! relays is logged as `RELAY <method> <ruri> -> <destination>`, so a test
//! can count and follow what crossed the proxy.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::peers::free_port;

/// A running Kamailio, killed on drop.
pub struct Kamailio {
    child: Child,
    /// Its SIP port, UDP and TCP on 127.0.0.1.
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Kamailio {
    /// A proxy that sends requests for each `(domain, port)` to
    /// `127.0.0.1:port` over UDP, recording the route of dialogs.
    pub fn start(routes: &[(&str, u16)]) -> Self {
        Self::start_with(free_port(), routes, None)
    }

    /// A proxy on `port` that routes as [`Kamailio::start`] does and sends
    /// requests for the domains of `dispatched` to its backends in turn
    /// (dispatcher, round robin, RFC 3261 failover to the next backend on
    /// 408 and 5xx): the IM system's proxy in front of several gateways.
    pub fn start_with(
        port: u16,
        routes: &[(&str, u16)],
        dispatched: Option<(&[&str], &[u16])>,
    ) -> Self {
        let found = Command::new("sh")
            .args(["-c", "command -v kamailio"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(found, "kamailio is not installed: .ci/run installs it");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut by_domain = String::new();
        let mut dispatcher = String::new();
        let mut dispatch_routes = "";
        if let Some((domains, backends)) = dispatched {
            let list: String = backends
                .iter()
                .map(|b| format!("1 sip:127.0.0.1:{b} 0 0\n"))
                .collect();
            let list_file = dir.path().join("dispatcher.list");
            std::fs::write(&list_file, list).expect("write dispatcher.list");
            dispatcher = format!(
                "loadmodule \"dispatcher.so\"\n\
                 modparam(\"dispatcher\", \"list_file\", \"{}\")\n\
                 modparam(\"dispatcher\", \"flags\", 2)\n",
                list_file.display()
            );
            dispatch_routes = r#"
route[DISPATCH] {
    if (!ds_select_dst("1", "4")) { sl_send_reply("503", "No gateway"); exit; }
    t_on_failure("NEXT_GATEWAY");
    route(RELAY);
}

failure_route[NEXT_GATEWAY] {
    if (t_check_status("408|5[0-9][0-9]") && ds_next_dst()) {
        t_on_failure("NEXT_GATEWAY");
        route(RELAY);
    }
}
"#;
            for domain in domains {
                by_domain.push_str(&format!(
                    "    if ($rd == \"{domain}\") {{ route(DISPATCH); exit; }}\n"
                ));
            }
        }
        for (domain, to) in routes {
            by_domain.push_str(&format!(
                "    if ($rd == \"{domain}\") {{ $du = \"sip:127.0.0.1:{to}\"; route(RELAY); exit; }}\n"
            ));
        }
        let config = format!(
            r#"#!KAMAILIO
debug=2
log_stderror=yes
children=2
auto_aliases=no
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
alias="127.0.0.1:{port}"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
{dispatcher}

modparam("tm", "fr_timer", 5000)
modparam("rr", "enable_full_lr", 1)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ route(RELAY); exit; }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{ route(RELAY); }}
            exit;
        }}
        xlog("L_WARN", "NOROUTE $rm $ru\n");
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{ route(RELAY); }}
        exit;
    }}
    t_check_trans();
    remove_hf("Route");
    if (is_method("INVITE|MESSAGE|SUBSCRIBE")) {{ record_route(); }}
{by_domain}
    sl_send_reply("404", "No route");
}}

route[RELAY] {{
    xlog("L_WARN", "RELAY $rm $ru -> $du\n");
    if (!t_relay()) {{ sl_reply_error(); }}
}}
{dispatch_routes}"#
        );
        let path = dir.path().join("kamailio.cfg");
        std::fs::write(&path, config).expect("write kamailio.cfg");
        let mut child = Command::new("kamailio")
            .arg("-f")
            .arg(&path)
            .args(["-DD", "-E", "-m", "64", "-M", "8"])
            .arg("-P")
            .arg(dir.path().join("kamailio.pid"))
            .arg("-Y")
            .arg(dir.path())
            .arg("-w")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kamailio starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn({
            let log = log.clone();
            move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            }
        });
        let kamailio = Self {
            child,
            port,
            log,
            _dir: dir,
        };
        kamailio.wait_until_listening();
        kamailio
    }

    fn wait_until_listening(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("kamailio did not listen:\n{}", self.log().join("\n"));
    }

    /// Its log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The `RELAY` lines once `done` holds for them, or when `timeout`
    /// passed: Kamailio's log reaches us through a pipe and a reader
    /// thread, so a line can lag behind the answer it relayed.
    pub fn relayed_when(&self, done: impl Fn(&[String]) -> bool, timeout: Duration) -> Vec<String> {
        let started = Instant::now();
        loop {
            let relayed = self.relayed();
            if done(&relayed) || started.elapsed() > timeout {
                return relayed;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The `NOROUTE` lines so far: in-dialog requests the proxy could not
    /// route (no `Route` it recognised), answered 404.
    pub fn noroute(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|l| l.contains("NOROUTE"))
            .collect()
    }

    /// The `RELAY` lines so far: `<method> <ruri> -> <destination>`.
    pub fn relayed(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter_map(|l| l.split_once("RELAY ").map(|(_, r)| r.to_string()))
            .collect()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // SIGTERM: the main process stops its worker processes too; a
        // SIGKILL would leave them holding the port.
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
