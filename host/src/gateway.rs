//! `interwork run`: the gateway process. It loads the configuration and the
//! directory, starts the plugin registry with its watcher, and reloads on
//! SIGHUP until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::{TcpListener, UdpSocket};
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

use crate::config::{Config, ConfigSource};
use crate::delivery::Deliverer;
use crate::directory::Directory;
use crate::msrp_session::{MsrpServer, Sessions};
use crate::pipeline::ImToEmail;
use crate::pipeline::email_to_im::{EmailToIm, RecipientPolicy};
use crate::pipeline::im_to_email::SipHandler;
use crate::pipeline::large_message::{LargeMessages, MsrpOffer, MsrpToEmail};
use crate::plugin::{self, HostContext, PluginWatch, Plugins, Role};
use crate::sip;
use crate::sip_server::SipServer;
use crate::smtp_server::{Capabilities, SmtpServer, Timeouts, tls_acceptor};

/// Reads the directory file of a configuration (empty when none is set).
pub fn load_directory(config: &Config) -> anyhow::Result<Arc<Directory>> {
    match &config.directory.file {
        Some(path) => Ok(Arc::new(Directory::load(path)?)),
        None => Ok(Arc::new(Directory::default())),
    }
}

/// Starts the plugin registry of a configuration, creating its plugin
/// directory when it is missing.
pub fn start_plugins(config: &Config) -> anyhow::Result<Arc<Plugins>> {
    let directory = load_directory(config)?;
    let engine = plugin::engine_for(config, directory)?;
    if let Some(dir) = config.plugins.dir.as_ref().filter(|d| !d.exists()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create plugins.dir {}", dir.display()))?;
        tracing::info!(dir = %dir.display(), "created the plugin directory");
    }
    Ok(Arc::new(Plugins::start(
        engine,
        config.plugins.dir.clone(),
        plugin::role_choice(config),
    )?))
}

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

/// Binds the SIP and MSRP listeners and starts serving; the tasks run
/// until aborted.
async fn start_listeners(
    config: &Config,
    plugins: Arc<Plugins>,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let deliverer = Arc::new(Deliverer::new(config)?);
    let pipeline = Arc::new(ImToEmail::new(
        plugins,
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
    let large = Arc::new(LargeMessages {
        sessions: sessions.clone(),
        offer: MsrpOffer {
            address: msrp_address,
            max_size: config.limits.msrp_message_max_bytes as u64,
            contact: contact.clone(),
        },
    });
    let handler = Arc::new(SipHandler {
        pager: pipeline.clone(),
        large,
    });
    let server = SipServer::new(
        Arc::new(handler),
        config.sip.trusted_peers.clone(),
        limits,
        config.msrp.advertised_address(),
    );
    let email_to_im = Arc::new(EmailToIm::new(
        config,
        pipeline.plugins(),
        server.clone(),
        msrp_address,
        contact,
    ));
    let smtp = SmtpServer::new(
        Capabilities {
            hostname: config.gateway.hostname.clone(),
            max_size: config.limits.mail_max_bytes,
            starttls: false,
        },
        Arc::new(RecipientPolicy(pipeline.plugins())),
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
        Arc::new(MsrpToEmail(pipeline)),
        config.limits.msrp_message_max_bytes,
        Duration::from_secs(config.msrp.idle_timeout_secs),
    );
    tracing::info!(udp = %udp.local_addr()?, tcp = %tcp.local_addr()?, "SIP listening");
    tracing::info!(listen = %msrp_listener.local_addr()?, advertised = %msrp_address, "MSRP listening");
    let serve = |name: &'static str, result: std::io::Result<()>| {
        if let Err(e) = result {
            tracing::error!("{name} listener failed: {e}");
        }
    };
    let udp_task = tokio::spawn({
        let server = server.clone();
        async move { serve("SIP UDP", server.serve_udp(udp).await) }
    });
    let tcp_task = tokio::spawn(async move { serve("SIP TCP", server.serve_tcp(tcp).await) });
    let msrp_task = tokio::spawn(async move { serve("MSRP", msrp.serve(msrp_listener).await) });
    tracing::info!(listen = %smtp_listener.local_addr()?, "SMTP listening");
    let smtp_task = tokio::spawn(async move { serve("SMTP", smtp.serve(smtp_listener).await) });
    Ok(vec![udp_task, tcp_task, msrp_task, smtp_task])
}

/// Runs the gateway until SIGINT or SIGTERM.
pub async fn run(config: Config, source: ConfigSource) -> anyhow::Result<()> {
    tracing::info!(config = %source, "interwork {} starting", env!("CARGO_PKG_VERSION"));
    let started = std::time::Instant::now();
    let plugins = tokio::task::spawn_blocking({
        let config = config.clone();
        move || start_plugins(&config)
    })
    .await??;
    log_serving(&plugins);
    let watch = PluginWatch::start(plugins.clone(), |_| {})?;
    let listeners = start_listeners(&config, plugins.clone()).await?;
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
                match load_directory(&config) {
                    Ok(directory) => {
                        tracing::info!(addresses = directory.len(), "directory loaded");
                        plugins.engine().set_context(HostContext::new(&config, directory));
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
    for listener in listeners {
        listener.abort();
    }
    drop(watch);
    Ok(())
}
