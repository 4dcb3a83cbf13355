//! The smallest world of IM → e-mail: the real gateway, dnsmasq giving
//! `mail.example.test` its MX, and aiosmtpd as that MX.

use std::path::Path;
use std::time::Duration;

use crate::peers::{self, Peer};
use crate::{Gateway, Ports, Scratch, http_get};

/// The gateway delivering mail.example.test to aiosmtpd.
pub struct MxWorld {
    /// The MX: every mail it took.
    pub smtp: Peer,
    /// dnsmasq.
    pub dns: Peer,
    /// The gateway, its log read so far.
    pub gateway: Gateway,
    /// Its scratch directory.
    pub scratch: Scratch,
    /// Its listeners' ports.
    pub ports: Ports,
}

impl MxWorld {
    /// Starts the world, with the compile cache in `cache` (the test's
    /// `CARGO_TARGET_TMPDIR`); `extra` replaces lines of the example
    /// configuration. Ready once the MSRP listener is (the last to bind).
    pub fn start(cache: &Path, extra: &[(&str, &str)]) -> Self {
        let smtp = peers::smtp_sink();
        let dns = peers::dnsmasq(
            &[("mail.example.test", "mx.mail.example.test", 10)],
            &[("mx.mail.example.test", "127.0.0.1")],
        );
        let scratch = Scratch::new(cache);
        let mut lines = vec![
            (
                "delivery_port = 25".to_string(),
                format!("delivery_port = {}", smtp.port),
            ),
            (
                "# nameserver = \"127.0.0.1:5354\"".to_string(),
                format!("nameserver = \"127.0.0.1:{}\"", dns.port),
            ),
        ];
        lines.extend(extra.iter().map(|(a, b)| (a.to_string(), b.to_string())));
        let pairs: Vec<(&str, &str)> = lines
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (config, ports) = scratch.gateway_config(&pairs);
        let mut gateway =
            Gateway::start(scratch.command(&["run", "--config", config.to_str().unwrap()]));
        gateway.wait_for("MSRP listening", Duration::from_secs(30));
        Self {
            smtp,
            dns,
            gateway,
            scratch,
            ports,
        }
    }

    /// `127.0.0.1:<SIP port>`.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.ports.sip)
    }

    /// Runs a sipp scenario `calls` times over UDP; every call must
    /// succeed.
    pub fn sipp(&self, scenario: &str, calls: usize) {
        let run = peers::sipp_calls(scenario, &self.target(), "u1", calls);
        assert!(
            run.success,
            "sipp failed:\n{}\n--- gateway log\n{}",
            run.output,
            self.gateway.log.join("\n")
        );
    }

    /// The one mail the MX holds, once it does; and then no other.
    pub fn only_mail(&self) -> Vec<u8> {
        let mails = self.smtp.mails_when(1, Duration::from_secs(20));
        assert_eq!(mails.len(), 1, "{}", self.gateway.log.join("\n"));
        // Anything else the gateway would send goes within this time.
        std::thread::sleep(Duration::from_millis(500));
        let mut mails = self.smtp.mails();
        assert_eq!(mails.len(), 1, "{}", self.gateway.log.join("\n"));
        mails.remove(0)
    }

    /// A series' value on `/metrics`, 0 when it is absent.
    pub fn metric(&self, series: &str) -> f64 {
        let (code, page) = http_get(self.ports.admin, "/metrics");
        assert_eq!(code, 200);
        page.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }
}
