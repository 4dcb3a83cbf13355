//! `interwork run`: the gateway process. It loads the configuration and the
//! directory, starts the plugin registry with its watcher, opens the store,
//! binds the listeners, starts the queue's retry worker and serves,
//! reloading on SIGHUP, until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use interwork_plugin_host::{PluginWatch, Plugins, Role};
use interwork_proto::sip;
use interwork_store::{Direction, Store};
use tokio::net::{TcpListener, UdpSocket};
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

use crate::admission::Admission;
use crate::config::{Config, ConfigSource};
use crate::flows::email_to_im::{EmailToIm, RecipientPolicy};
use crate::flows::im_to_email::{ImToEmail, MsrpIn, SipIn};
use crate::im::file_transfer::FileTransfers;
use crate::im::outgoing::{ImComposer, ImSender};
use crate::listen::{self, ConnectionLimits, Gate, TrustedPeers};
use crate::live::{self, Live};
use crate::msrp::{MsrpServer, Sessions};
use crate::plugins;
use crate::reload::{Knobs, Reloader};
use crate::shutdown::{self, Shutdown};
use crate::sip::SipEndpoint;
use crate::sip::dialog::{MsrpOffer, MsrpSessionSetup};
use crate::smtp::client::{Deliverer, PerDomainLimit};
use crate::smtp::server::{Capabilities, SmtpServer, Timeouts, tls_acceptor};
use crate::spool::{self, ImCourier, MailCourier, QueuePolicy, Spool};
use crate::{admin, control, systemd, telemetry};

/// Logs which plugin serves each interface.
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

/// The running listeners, and what a drain waits on.
struct Listeners {
    /// One task per listener; each returns when `shutdown` is signalled.
    tasks: Vec<JoinHandle<()>>,
    /// The SMTP sessions open.
    smtp_sessions: Arc<crate::listen::Admission>,
    /// The messages in flight, both directions.
    messages: Arc<Admission>,
    /// Its correlation records not yet committed.
    spool: Arc<Spool>,
    /// Where each listens.
    bound: Vec<(&'static str, SocketAddr)>,
    /// The connections of each TCP listener.
    connections: Vec<(&'static str, Arc<crate::listen::Admission>)>,
    /// The MSRP sessions set up.
    sessions: Arc<Sessions>,
    /// What a reload may change in them.
    knobs: Knobs,
}

impl Listeners {
    /// Sessions and messages still going.
    fn in_flight(&self) -> (usize, usize) {
        (
            self.smtp_sessions.total(),
            self.messages.in_flight() + self.spool.uncommitted(),
        )
    }
}

/// Binds the SIP, MSRP and SMTP listeners and starts serving; each task
/// returns when `shutdown` is signalled; `draining` tells them to take
/// nothing new.
async fn start_listeners(
    config: &Config,
    plugins: Arc<Plugins>,
    store: Arc<dyn Store>,
    shutdown: &Shutdown,
    draining: &Shutdown,
) -> anyhow::Result<Listeners> {
    let deliverer = Arc::new(PerDomainLimit::new(
        Arc::new(Deliverer::new(config)?),
        config.smtp.max_deliveries_per_domain,
    ));
    let admission = Admission::new(
        config.limits.max_messages_in_flight,
        config.limits.busy_retry_after_secs,
    );
    let spool = Arc::new(Spool::new(
        store,
        spool::lease_owner(config),
        QueuePolicy::of(config),
    ));
    let mail_courier = Arc::new(
        MailCourier::new(
            deliverer,
            spool.store().clone(),
            config.gateway.hostname.clone(),
            spool.policy().clone(),
        )
        .with_delivered_on_250(config.notifications.delivered_on_250, Some(plugins.clone())),
    );
    spool.serve(Direction::ImToMail, mail_courier.clone());
    let im_to_email = Arc::new(
        ImToEmail::new(
            plugins.clone(),
            spool.clone(),
            mail_courier,
            config.gateway.hostname.clone(),
        )
        .with_notifications(config.notifications.clone())
        .with_admission(admission.clone())
        .with_file_transfers(Arc::new(FileTransfers::new(
            &config.file_transfer,
            config.limits.mail_max_bytes as u64,
        )?)),
    );
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
    let msrp_sessions = sessions.clone();
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
        draining: Some(draining.clone()),
    });
    let trusted = TrustedPeers::from(config.sip.trusted_peers.clone());
    let endpoint = SipEndpoint::with_backlog(
        Arc::new(handler),
        trusted.clone(),
        limits,
        config.msrp.advertised_address(),
        config.limits.max_messages_in_flight,
        config.limits.busy_retry_after_secs,
    );
    let email_to_im = Arc::new(
        EmailToIm::new(
            plugins.clone(),
            ImComposer::with_msrp_address(config, msrp_address),
            ImSender::new(endpoint.clone(), contact),
            config.limits.mail_hop_limit,
            spool.clone(),
            config.im_delivery.spool,
        )
        .with_notifications(config.notifications.clone())
        .with_admission(admission.clone()),
    );
    // Always: IMs queued while the option was on (or by another node) are
    // still delivered.
    spool.serve(
        Direction::MailToIm,
        Arc::new(ImCourier(email_to_im.clone())),
    );
    let knobs = Knobs {
        trusted: trusted.clone(),
        messages: admission.clone(),
        requests: endpoint.backlog().clone(),
        email_to_im: email_to_im.clone(),
    };
    let smtp = SmtpServer::new(
        Capabilities {
            hostname: config.gateway.hostname.clone(),
            max_size: config.limits.mail_max_bytes,
            starttls: false,
        },
        Arc::new(RecipientPolicy::new(plugins.clone(), admission.clone())),
        Arc::new(email_to_im),
        match (&config.smtp.tls_certificate, &config.smtp.tls_private_key) {
            (Some(certificate), Some(key)) => Some(tls_acceptor(certificate, key)?),
            _ => None,
        },
        Timeouts {
            command: Duration::from_secs(config.smtp.command_timeout_secs),
            data: Duration::from_secs(config.smtp.data_timeout_secs),
            tls_handshake: Duration::from_secs(config.smtp.tls_handshake_timeout_secs),
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
    let sip_gate = Gate::new(
        "SIP TCP",
        tcp,
        ConnectionLimits {
            total: config.sip.tcp_max_connections,
            per_source: config.sip.tcp_max_connections_per_source,
        },
    )
    .allow_only(trusted.clone());
    let msrp_gate = Gate::new(
        "MSRP",
        msrp_listener,
        ConnectionLimits {
            total: config.msrp.max_connections,
            per_source: config.msrp.max_connections_per_source,
        },
    );
    let smtp_gate = Gate::new(
        "SMTP",
        smtp_listener,
        ConnectionLimits {
            total: config.smtp.max_sessions,
            per_source: config.smtp.max_sessions_per_client,
        },
    );
    tracing::info!(udp = %udp.local_addr()?, tcp = %sip_gate.local_addr()?, "SIP listening");
    tracing::info!(listen = %msrp_gate.local_addr()?, advertised = %msrp_address, "MSRP listening");
    tracing::info!(listen = %smtp_gate.local_addr()?, "SMTP listening");
    let bound = vec![
        ("sip-udp", udp.local_addr()?),
        ("sip-tcp", sip_gate.local_addr()?),
        ("msrp", msrp_gate.local_addr()?),
        ("smtp", smtp_gate.local_addr()?),
    ];
    let connections = vec![
        ("smtp", smtp_gate.admission().clone()),
        ("sip_tcp", sip_gate.admission().clone()),
        ("msrp", msrp_gate.admission().clone()),
    ];
    let smtp_sessions = smtp_gate.admission().clone();
    let smtp = smtp.with_drain(draining.clone(), Some(plugins));
    let sip_idle = Duration::from_secs(config.sip.tcp_idle_timeout_secs);
    let tasks = vec![
        tokio::spawn(endpoint.clone().serve_udp(udp, shutdown.clone())),
        tokio::spawn(endpoint.serve_tcp(sip_gate, sip_idle, shutdown.clone())),
        tokio::spawn(msrp.serve(msrp_gate, shutdown.clone())),
        tokio::spawn(smtp.serve(smtp_gate, shutdown.clone())),
        tokio::spawn(spool.clone().run(shutdown.clone())),
    ];
    Ok(Listeners {
        tasks,
        smtp_sessions,
        messages: admission,
        spool,
        bound,
        connections,
        sessions: msrp_sessions,
        knobs,
    })
}

/// Descriptors kept for what is not a listener's connection: outgoing SMTP
/// and SIP connections, plugin and directory files, the runtime.
const DESCRIPTORS_OF_OUR_OWN: u64 = 256;

/// Raises the open-files limit and says whether the connection limits fit
/// in it: past it `accept()` fails (EMFILE) until descriptors come back.
fn check_open_files(config: &Config) {
    let limit = match listen::raise_open_files_limit() {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!("cannot raise the open-files limit: {e}");
            return;
        }
    };
    let connections = (config.sip.tcp_max_connections
        + config.msrp.max_connections
        + config.smtp.max_sessions) as u64;
    let needed = connections + DESCRIPTORS_OF_OUR_OWN;
    if needed > limit {
        tracing::warn!(
            open_files = limit,
            needed,
            "the connection limits (sip.tcp_max_connections + msrp.max_connections + \
             smtp.max_sessions) do not fit the open-files limit; past it new connections \
             wait until descriptors are free"
        );
    } else {
        tracing::info!(open_files = limit, connections, "open-files limit");
    }
}

/// How often a node asks whether the shared directory changed.
const DIRECTORY_POLL: Duration = Duration::from_secs(2);

/// Reloads the shared directory whenever its version in the store moves
/// (another node, or `interwork directory import`, replaced it).
async fn follow_shared_directory(
    config: Config,
    plugins: Arc<Plugins>,
    store: Arc<dyn Store>,
    mut version: i64,
    mut shutdown: Shutdown,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(DIRECTORY_POLL) => {}
            () = shutdown.signalled() => return,
        }
        match store.directory_version().await {
            Ok(now) if now == version => {}
            Ok(_) => {
                match plugins::load_shared_directory(&config, &plugins, store.as_ref()).await {
                    Ok(loaded) => version = loaded,
                    Err(e) => tracing::error!("{e:#}; the previous directory stays"),
                }
            }
            Err(e) => tracing::warn!("cannot ask the store for the directory's version: {e}"),
        }
    }
}

/// What the store is, for `status`.
fn store_backend(config: &Config) -> String {
    match &config.store.url {
        Some(_) => "postgresql".to_string(),
        None => format!("sqlite {}", config.store_path().display()),
    }
}

/// Binds the admin listener and the control socket, when configured.
async fn start_operations(
    config: &Config,
    live: &Arc<Live>,
    shutdown: &Shutdown,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut tasks = Vec::new();
    if config.admin.enabled {
        let metrics = telemetry::install()?;
        let listener = TcpListener::bind(config.admin.listen)
            .await
            .with_context(|| format!("cannot bind admin.listen {}", config.admin.listen))?;
        tracing::info!(listen = %listener.local_addr()?, "admin listening: /metrics /healthz /readyz");
        tasks.push(tokio::spawn(admin::serve(
            listener,
            live.clone(),
            metrics,
            shutdown.clone(),
        )));
    }
    if config.control.enabled {
        let path = config.control_socket();
        let listener = control::bind(&path).await?;
        tracing::info!(socket = %path.display(), "control socket listening");
        tasks.push(tokio::spawn(control::serve(
            listener,
            path,
            live.clone(),
            shutdown.clone(),
        )));
    }
    Ok(tasks)
}

/// Runs the gateway until SIGINT or SIGTERM.
pub async fn run(config: Config, source: ConfigSource) -> anyhow::Result<()> {
    tracing::info!(config = %source, "interwork {} starting", env!("CARGO_PKG_VERSION"));
    let started = std::time::Instant::now();
    if config.admin.enabled {
        // Before the plugins load: their meters are made as they do.
        telemetry::install()?;
    }
    // Before anything can announce the gateway: a SIGHUP (systemctl
    // reload) that came before its handler would end the process, its
    // default action.
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    check_open_files(&config);
    let plugins = tokio::task::spawn_blocking({
        let config = config.clone();
        move || plugins::start(&config)
    })
    .await??;
    log_serving(&plugins);
    let watch = PluginWatch::start(plugins.clone(), |_| {})?;
    let store = spool::open_store(&config).await?;
    let (stop, shutdown) = shutdown::channel();
    let (drain, draining) = shutdown::channel();
    let mut shared_version = None;
    if config.directory.shared {
        // Before the listeners: no request is mapped without it.
        shared_version =
            Some(plugins::load_shared_directory(&config, &plugins, store.as_ref()).await?);
    }
    let mut listeners = start_listeners(
        &config,
        plugins.clone(),
        store.clone(),
        &shutdown,
        &draining,
    )
    .await?;
    if let Some(version) = shared_version {
        listeners.tasks.push(tokio::spawn(follow_shared_directory(
            config.clone(),
            plugins.clone(),
            store.clone(),
            version,
            shutdown.clone(),
        )));
    }
    let (requests, mut requested) = tokio::sync::mpsc::channel(4);
    let live = Arc::new(Live {
        started,
        plugins: plugins.clone(),
        store: store.clone(),
        store_backend: store_backend(&config),
        listeners: listeners.bound.clone(),
        connections: listeners.connections.clone(),
        sessions: listeners.sessions.clone(),
        messages: listeners.messages.clone(),
        ready: AtomicBool::new(false),
        draining: AtomicBool::new(false),
        requests,
    });
    listeners
        .tasks
        .extend(start_operations(&config, &live, &shutdown).await?);
    if let Some(dir) = plugins.dir() {
        tracing::info!(dir = %dir.display(), "watching the plugin directory");
    }
    live.ready.store(true, Ordering::Release);
    systemd::ready("serving");
    listeners
        .tasks
        .push(tokio::spawn(systemd::watchdog(shutdown.clone())));
    tracing::info!(
        startup_ms = started.elapsed().as_millis() as u64,
        "interwork ready"
    );

    let mut reloader = Reloader {
        started: config.clone(),
        applied: config.clone(),
        source,
        plugins: plugins.clone(),
        store: store.clone(),
        watch: &watch,
        knobs: listeners.knobs.clone(),
    };
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration, the directory and the plugins");
                systemd::reloading();
                reloader.reload().await;
                systemd::ready("serving");
            }
            Some(request) = requested.recv() => match request {
                live::Request::Reload(answer) => {
                    tracing::info!("reload asked on the control socket");
                    systemd::reloading();
                    let said = reloader.reload().await;
                    systemd::ready("serving");
                    let _ = answer.send(said);
                }
            },
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
        }
    }
    // Drain (issue 13): nothing new is taken; what is in flight finishes,
    // up to shutdown.drain_secs; a second signal cuts it short.
    drain.trigger();
    live.draining.store(true, Ordering::Release);
    systemd::stopping();
    // As reloaded last: the drain time may change while serving.
    let limit = Duration::from_secs(reloader.applied.shutdown.drain_secs);
    let (sessions, messages) = listeners.in_flight();
    tracing::info!(
        sessions,
        messages,
        drain_secs = limit.as_secs(),
        "interwork draining: new sessions get 421, new SIP requests 503"
    );
    let drained = tokio::time::timeout(limit, async {
        loop {
            if listeners.in_flight() == (0, 0) {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = interrupt.recv() => break,
                _ = terminate.recv() => break,
            }
        }
        tracing::warn!("a second signal: stopping without waiting");
    })
    .await;
    if drained.is_err() {
        let (sessions, messages) = listeners.in_flight();
        tracing::warn!(
            sessions,
            messages,
            "drain_secs over: stopping with these still open"
        );
    }
    tracing::info!("interwork stopping");
    stop.trigger();
    for listener in listeners.tasks {
        let _ = listener.await;
    }
    drop(reloader);
    drop(watch);
    Ok(())
}
