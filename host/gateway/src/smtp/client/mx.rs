//! Where mail for a domain goes: MX records in preference order (RFC 5321
//! §5.1), the domain itself when it has none (implicit MX), nowhere when it
//! publishes a null MX (RFC 7505).

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;

use super::SmtpFailure;
use crate::BoxFuture;

/// One mail exchanger of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxHost {
    /// Host name, without the final dot.
    pub name: String,
    /// MX preference: lower is tried first.
    pub preference: u16,
}

/// The DNS questions mail delivery asks. [`MxResolver`] asks DNS; tests
/// answer from a table.
pub trait MxLookup: Send + Sync {
    /// The mail exchangers of `domain`, most preferred first (RFC 5321 §5.1).
    fn mx_hosts<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<MxHost>, NoRoute>>;
    /// The addresses of a host (A and AAAA); empty when it has none.
    fn addresses<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Vec<IpAddr>, SmtpFailure>>;
}

/// The shortest time an answer is kept. Records with TTL 0 (dnsmasq's
/// default for local records, and some load balancers') would otherwise
/// cost two queries per mail; measured, that was one DNS round trip per
/// message at 1,800 messages/s. A few seconds is invisible to mail routing.
const POSITIVE_MIN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The shortest time "no such name" and "no records of this type" (the
/// empty AAAA answer of a host with only A records) are kept: negative
/// caching, RFC 2308 §5, with a floor for servers that send none.
const NEGATIVE_MIN_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// DNS lookups for mail delivery.
pub struct MxResolver {
    resolver: TokioResolver,
}

/// Why there is no server to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoute {
    /// The domain takes no mail (no such domain, null MX).
    Permanent(SmtpFailure),
    /// DNS failed; ask again later.
    Temporary(SmtpFailure),
}

fn no_records(error: &NetError) -> Option<ResponseCode> {
    match error {
        NetError::Dns(DnsError::NoRecordsFound(no)) => Some(no.response_code),
        _ => None,
    }
}

impl MxResolver {
    /// A resolver asking `nameserver` (ip:port), or the system's resolvers.
    pub fn new(nameserver: Option<SocketAddr>) -> anyhow::Result<Self> {
        let builder = match nameserver {
            Some(addr) => {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio()?,
        };
        let mut builder = builder;
        let options = builder.options_mut();
        options.positive_min_ttl = Some(POSITIVE_MIN_TTL);
        options.negative_min_ttl = Some(NEGATIVE_MIN_TTL);
        Ok(Self {
            resolver: builder.build()?,
        })
    }

    /// The mail exchangers of `domain`, most preferred first.
    pub async fn lookup_mx(&self, domain: &str) -> Result<Vec<MxHost>, NoRoute> {
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        match self.resolver.mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut hosts: Vec<MxHost> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(mx) => Some(MxHost {
                            name: mx.exchange.to_ascii().trim_end_matches('.').to_string(),
                            preference: mx.preference,
                        }),
                        _ => None,
                    })
                    .collect();
                // RFC 7505: a single MX of "." says the domain takes no mail.
                if hosts.len() == 1 && hosts[0].name.is_empty() {
                    return Err(NoRoute::Permanent(SmtpFailure {
                        code: Some(556),
                        enhanced: Some("5.1.10".into()),
                        text: format!("{domain} accepts no mail (null MX, RFC 7505)"),
                        server: None,
                    }));
                }
                hosts.retain(|h| !h.name.is_empty());
                hosts.sort_by_key(|h| h.preference);
                if hosts.is_empty() {
                    return Ok(vec![implicit(domain)]);
                }
                Ok(hosts)
            }
            Err(e) => match no_records(&e) {
                Some(ResponseCode::NXDomain) => Err(NoRoute::Permanent(SmtpFailure {
                    code: Some(550),
                    enhanced: Some("5.1.2".into()),
                    text: format!("domain {domain} does not exist"),
                    server: None,
                })),
                // The name exists without MX records: RFC 5321 §5.1
                // implicit MX, the domain's own address records.
                Some(_) => Ok(vec![implicit(domain)]),
                None => Err(NoRoute::Temporary(SmtpFailure::local(format!(
                    "MX lookup for {domain} failed: {e}"
                )))),
            },
        }
    }

    /// The addresses of a host (A and AAAA). An empty list when it has none.
    pub async fn lookup_addresses(&self, host: &str) -> Result<Vec<IpAddr>, SmtpFailure> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        match self.resolver.lookup_ip(fqdn.as_str()).await {
            Ok(lookup) => Ok(lookup.iter().collect()),
            Err(e) if no_records(&e).is_some() => Ok(Vec::new()),
            Err(e) => Err(SmtpFailure::local(format!(
                "address lookup for {host} failed: {e}"
            ))),
        }
    }
}

impl MxLookup for MxResolver {
    fn mx_hosts<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<MxHost>, NoRoute>> {
        Box::pin(self.lookup_mx(domain))
    }

    fn addresses<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Vec<IpAddr>, SmtpFailure>> {
        Box::pin(self.lookup_addresses(host))
    }
}

fn implicit(domain: &str) -> MxHost {
    MxHost {
        name: domain.to_string(),
        preference: 0,
    }
}
