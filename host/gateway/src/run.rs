//! `interwork run`: the gateway process. It loads the configuration and the
//! directory, starts the plugin registry with its watcher, binds the
//! listeners and serves, reloading on SIGHUP, until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use interwork_plugin_host::{PluginWatch, Plugins, Role};
use interwork_proto::sip;
use tokio::net::{TcpListener, UdpSocket};
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

use crate::config::{Config, ConfigSource};
use crate::flows::email_to_im::{EmailToIm, RecipientPolicy};
use crate::flows::im_to_email::{ImToEmail, MsrpIn, SipIn};
use crate::im::outgoing::{ImComposer, ImSender};
use crate::msrp::{MsrpServer, Sessions};
use crate::plugins;
use crate::shutdown::{self, Shutdown};
use crate::sip::SipEndpoint;
use crate::sip::dialog::{MsrpOffer, MsrpSessionSetup};
use crate::smtp::client::Deliverer;
use crate::smtp::server::{Capabilities, SmtpServer, Timeouts, tls_acceptor};

fn log_serving(plugins: &Plugins) {
    let set = plugins.current();
    for role in Role::ALL {
        let p = set.get(role);
        tracing::info!(
            interface = role.name(),
            sha256 = &p.sha256[..16],
            "served by {}",
            p.id
        );
    }
}

/// Binds the SIP, MSRP and SMTP listeners and starts serving; each task
/// returns when `shutdown` is signalled.
async fn start_listeners(
    config: &Config,
    plugins: Arc<Plugins>,
    shutdown: &Shutdown,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let deliverer = Arc::new(Deliverer::new(config)?);
    let im_to_email = Arc::new(ImToEmail::new(
        plugins.clone(),
        deliverer,
        config.gateway.hostname.clone(),
    ));
    let limits = sip::Limits {
        max_message_bytes: config.limits.sip_message_max_bytes,
        ..sip::Limits::default()
    };
    let msrp_listener = TcpListener::bind(config.msrp.listen)
        .await
        .with_context(|| format!("cannot bind msrp.listen {}", config.msrp.listen))?;
    let msrp_address = SocketAddr::new(
        config.msrp.advertised_address(),
        msrp_listener.local_addr()?.port(),
    );
    let udp = UdpSocket::bind(config.sip.udp_listen)
        .await
        .with_context(|| format!("cannot bind sip.udp_listen {}", config.sip.udp_listen))?;
    let tcp = TcpListener::bind(config.sip.tcp_listen)
        .await
        .with_context(|| format!("cannot bind sip.tcp_listen {}", config.sip.tcp_listen))?;
    // The gateway's SIP Contact, in its INVITE answers and its own INVITEs.
    let contact = format!(
        "<sip:interwork@{}>",
        SocketAddr::new(msrp_address.ip(), udp.local_addr()?.port())
    );
    let sessions = Arc::new(Sessions::default());
    let setup = Arc::new(MsrpSessionSetup {
        sessions: sessions.clone(),
        offer: MsrpOffer {
            address: msrp_address,
            max_size: config.limits.msrp_message_max_bytes as u64,
            contact: contact.clone(),
        },
        agent: config.gateway.hostname.clone(),
    });
    let handler = Arc::new(SipIn {
        pager: im_to_email.clone(),
        sessions: setup,
    });
    let endpoint = SipEndpoint::new(
        Arc::new(handler),
        config.sip.trusted_peers.clone(),
        limits,
        config.msrp.advertised_address(),
    );
    let email_to_im = Arc::new(EmailToIm::new(
        plugins.clone(),
        ImComposer::with_msrp_address(config, msrp_address),
        ImSender::new(endpoint.clone(), contact),
    ));
    let smtp = SmtpServer::new(
        Capabilities {
            hostname: config.gateway.hostname.clone(),
            max_size: config.limits.mail_max_bytes,
            starttls: false,
        },
        Arc::new(RecipientPolicy(plugins)),
        Arc::new(email_to_im),
        config.smtp.max_sessions,
        match (&config.smtp.tls_certificate, &config.smtp.tls_private_key) {
            (Some(certificate), Some(key)) => Some(tls_acceptor(certificate, key)?),
            _ => None,
        },
        Timeouts {
            command: Duration::from_secs(config.smtp.command_timeout_secs),
            data: Duration::from_secs(config.smtp.data_timeout_secs),
        },
    );
    let smtp_listener = TcpListener::bind(config.smtp.listen)
        .await
        .with_context(|| format!("cannot bind smtp.listen {}", config.smtp.listen))?;
    let msrp = MsrpServer::new(
        sessions,
        Arc::new(MsrpIn(im_to_email)),
        config.limits.msrp_message_max_bytes,
        Duration::from_secs(config.msrp.idle_timeout_secs),
    );
    tracing::info!(udp = %udp.local_addr()?, tcp = %tcp.local_addr()?, "SIP listening");
    tracing::info!(listen = %msrp_listener.local_addr()?, advertised = %msrp_address, "MSRP listening");
    tracing::info!(listen = %smtp_listener.local_addr()?, "SMTP listening");
    let serve = |name: &'static str, result: std::io::Result<()>| {
        if let Err(e) = result {
            tracing::error!("{name} listener failed: {e}");
        }
    };
    let tasks = vec![
        tokio::spawn({
            let (endpoint, shutdown) = (endpoint.clone(), shutdown.clone());
            async move { serve("SIP UDP", endpoint.serve_udp(udp, shutdown).await) }
        }),
        tokio::spawn({
            let shutdown = shutdown.clone();
            async move { serve("SIP TCP", endpoint.serve_tcp(tcp, shutdown).await) }
        }),
        tokio::spawn({
            let shutdown = shutdown.clone();
            async move { serve("MSRP", msrp.serve(msrp_listener, shutdown).await) }
        }),
        tokio::spawn({
            let shutdown = shutdown.clone();
            async move { serve("SMTP", smtp.serve(smtp_listener, shutdown).await) }
        }),
    ];
    Ok(tasks)
}

/// Runs the gateway until SIGINT or SIGTERM.
pub async fn run(config: Config, source: ConfigSource) -> anyhow::Result<()> {
    tracing::info!(config = %source, "interwork {} starting", env!("CARGO_PKG_VERSION"));
    let started = std::time::Instant::now();
    let plugins = tokio::task::spawn_blocking({
        let config = config.clone();
        move || plugins::start(&config)
    })
    .await??;
    log_serving(&plugins);
    let watch = PluginWatch::start(plugins.clone(), |_| {})?;
    let (stop, shutdown) = shutdown::channel();
    let listeners = start_listeners(&config, plugins.clone(), &shutdown).await?;
    if let Some(dir) = plugins.dir() {
        tracing::info!(dir = %dir.display(), "watching the plugin directory");
    }
    tracing::info!(
        startup_ms = started.elapsed().as_millis() as u64,
        "interwork ready"
    );

    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading the directory file and the plugins");
                match plugins::load_directory(&config) {
                    Ok(directory) => {
                        tracing::info!(addresses = directory.len(), "directory loaded");
                        plugins
                            .engine()
                            .set_context(plugins::host_context(&config, directory));
                    }
                    Err(e) => tracing::error!("{e:#}; the previous directory stays"),
                }
                watch.request_reload();
            }
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
        }
    }
    tracing::info!("interwork stopping");
    stop.trigger();
    for listener in listeners {
        let _ = listener.await;
    }
    drop(watch);
    Ok(())
}
