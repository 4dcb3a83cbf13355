//! The command line (`interwork --help`). These commands are a contract:
//! tests and operators' scripts rely on their names, output and exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

mod ask;
mod docs;
mod plugin_new;
mod plugin_test;
mod queue;

use interwork_plugin_host::bindings::{Contract, mapping};
use interwork_plugin_host::{CallError, Plugins, Role};
use interwork_proto::sip;

use crate::config::{Config, ConfigSource, LogFormat};
use crate::flows::{email_to_im, im_to_email};
use crate::im::outgoing::ImComposer;
use crate::plugins;
use crate::smtp::server::{RecipientCheck, Transaction};

#[derive(Parser)]
#[command(
    name = "interwork",
    version,
    about = "IM ↔ e-mail interworking gateway"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Run {
        /// Configuration file; without it the embedded default is used.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate a configuration and print the effective one.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Map an address through the loaded mapping plugin: an IM URI prints its
    /// e-mail address, an e-mail address prints its IM URI.
    Map {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Plugin directory to load instead of the configured one.
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// Map the address as a sender or a recipient. Default: an IM URI
        /// as a sender (the user's own e-mail address), an e-mail address
        /// as a recipient (whom mail to it reaches).
        #[arg(long = "as", value_enum)]
        role: Option<MapRole>,
        /// `sip:`, `sips:`, `tel:` or `mailto:` URI, or an e-mail address.
        address: String,
    },
    /// Show what the gateway would make of a message, without any network.
    Convert {
        #[command(subcommand)]
        command: ConvertCommand,
    },
    /// Plugin tools.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// The directory of provisioned addresses shared in the store
    /// (`[directory] shared = true`).
    Directory {
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Ask the running gateway (over its control socket) how it is:
    /// uptime, listeners, connections, plugins in service, store, queue.
    Status {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Tell the running gateway to reload, as SIGHUP does: the
    /// configuration file (what can change live is applied, the rest is
    /// named as needing a restart), the directory and the plugins.
    Reload {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Write the man pages (interwork.1, interwork-COMMAND.1) into DIR, or
    /// print the main page.
    Man {
        /// Where to write them.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the completion script of a shell
    /// (`interwork completions bash > /etc/bash_completion.d/interwork`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The queue of accepted messages not delivered yet (as postqueue).
    Queue {
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: queue::QueueCommand,
    },
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Load and check a plugin file as live reload would.
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
        file: PathBuf,
    },
    /// What the running gateway serves (asked over its control socket);
    /// with --files, what the plugin directory would give a gateway
    /// started now.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Load the plugin directory here instead of asking the gateway.
        #[arg(long)]
        files: bool,
    },
    /// Pin a plugin file of the plugin directory to the interfaces it
    /// exports, in the running gateway, until it restarts or reloads its
    /// configuration (for good: set plugins.mapping / plugins.conversion).
    Use {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The file (its name in the plugin directory, or a path to it).
        file: PathBuf,
    },
    /// Write a new plugin crate from a template: it builds, its unit tests
    /// pass, and its README says the three commands from there.
    New {
        /// What the plugin does.
        #[arg(value_enum)]
        kind: PluginKind,
        /// The crate's name, e.g. `company-numbering-plan`.
        name: String,
        /// Where to write the crate (a directory NAME is made in it).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The SDK crate to depend on by path (default: this build's
        /// `plugins/sdk` when it exists, else a copy written beside the
        /// plugin).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Run a plugin's check calls and the cases of CASES.toml through the
    /// real runtime; exit 1 on a mismatch.
    Test {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The component, e.g. target/wasm32-wasip2/release/my_plugin.wasm.
        file: PathBuf,
        /// Cases: `[[case]]` tables (see `interwork plugins new`'s cases.toml).
        cases: Option<PathBuf>,
    },
}

/// A plugin template.
#[derive(Clone, Copy, ValueEnum)]
enum PluginKind {
    /// Address mapping (`interwork:plugin/mapping`).
    Mapping,
    /// Message conversion (`interwork:plugin/conversion`).
    Conversion,
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Replaces the shared directory with the `[[address]]` entries of a
    /// directory file (checked first: one to one, well-formed).
    Import {
        /// A directory file, as `[directory] file` takes.
        file: PathBuf,
    },
    /// Prints the shared directory: IM URI and e-mail address per line.
    List,
}

#[derive(Subcommand)]
enum ConvertCommand {
    /// Print the SIP request(s) (and MSRP chunks) that the mail in FILE,
    /// received for RCPT TO, would become.
    EmailToIm {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The SMTP reverse-path (MAIL FROM).
        #[arg(long)]
        mail_from: String,
        /// The SMTP forward-path (RCPT TO).
        #[arg(long)]
        rcpt_to: String,
        /// Plugin directory to load instead of the configured one.
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// The mail as received (RFC 5322).
        file: PathBuf,
    },
    /// Print the SMTP envelope and the exact mail that the raw SIP MESSAGE
    /// request in FILE would become.
    ImToEmail {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Plugin directory to load instead of the configured one.
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// A SIP MESSAGE request as sent on the wire (CRLF or LF line ends).
        file: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum MapRole {
    Sender,
    Recipient,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // `run` logs as its configuration says; the others only what went
    // wrong, as text.
    match cli.command {
        Command::Run { .. } => {}
        // What it finds is its answer, said once by itself, not again in
        // the registry's log lines.
        Command::CheckConfig { .. } => init_tracing("off", LogFormat::Text),
        _ => init_tracing("warn", LogFormat::Text),
    }
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("interwork: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs to stderr at `default` (unless `INTERWORK_LOG` says otherwise):
/// the gateway at info, one-shot commands only what went wrong.
fn init_tracing(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("INTERWORK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // One object per line; the event's fields at the top level, as
        // log shippers index them.
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// The configuration of a dry run (`map`, `convert`), with `--plugins`
/// in place of its plugin directory when given.
fn config_with_plugins(path: Option<&Path>, plugins: Option<PathBuf>) -> anyhow::Result<Config> {
    let (mut config, _) = load_config(path)?;
    if let Some(dir) = plugins {
        config.plugins.dir = Some(dir);
    }
    Ok(config)
}

fn load_config(path: Option<&Path>) -> anyhow::Result<(Config, ConfigSource)> {
    Config::load(path).map_err(|e| match path {
        Some(p) => anyhow::anyhow!("{}: {e}", p.display()),
        None => anyhow::anyhow!("embedded configuration: {e}"),
    })
}

fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { config } => {
            let (config, source) = load_config(config.as_deref())?;
            init_tracing("info", config.log.format);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(crate::run::run(config, source))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config } => {
            let (config, source) = load_config(config.as_deref())?;
            // The plugins as `run` would load them: a pin must name a
            // checked file that exports its interface.
            let loaded = plugins::open(&config)?;
            let problems = plugins::pin_problems(&config, &loaded);
            // Files refused that no pin names: not an error of the
            // configuration, but what `run` would refuse too.
            let pinned = [&config.plugins.mapping, &config.plugins.conversion];
            for (path, why) in loaded.refused() {
                let named = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| pinned.iter().any(|p| p.as_deref() == Some(n)));
                if !named {
                    eprintln!("interwork: warning: {}: refused: {why}", path.display());
                }
            }
            if !problems.is_empty() {
                anyhow::bail!("{}", problems.join("\n"));
            }
            // The store is opened (and migrated) as `run` would.
            runtime()?.block_on(crate::spool::open_store(&config))?;
            println!("# effective configuration from {source}");
            print!("{}", config.to_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Map {
            config,
            plugins,
            role,
            address,
        } => {
            let config = config_with_plugins(config.as_deref(), plugins)?;
            map(&config, role, &address)
        }
        Command::Convert {
            command:
                ConvertCommand::ImToEmail {
                    config,
                    plugins,
                    file,
                },
        } => {
            let config = config_with_plugins(config.as_deref(), plugins)?;
            convert_im_to_email(&config, &file)
        }
        Command::Convert {
            command:
                ConvertCommand::EmailToIm {
                    config,
                    mail_from,
                    rcpt_to,
                    plugins,
                    file,
                },
        } => {
            let config = config_with_plugins(config.as_deref(), plugins)?;
            convert_email_to_im(&config, &mail_from, &rcpt_to, &file)
        }
        Command::Plugins { command } => match command {
            PluginsCommand::Check { config, file } => {
                let (config, _) = load_config(config.as_deref())?;
                check_plugin(&config, &file)
            }
            PluginsCommand::New {
                kind,
                name,
                dir,
                sdk,
            } => plugin_new::run(
                match kind {
                    PluginKind::Mapping => plugin_new::Kind::Mapping,
                    PluginKind::Conversion => plugin_new::Kind::Conversion,
                },
                &name,
                &dir,
                sdk.as_deref(),
            ),
            PluginsCommand::Test {
                config,
                file,
                cases,
            } => {
                let (config, _) = load_config(config.as_deref())?;
                plugin_test::run(&config, &file, cases.as_deref())
            }
            PluginsCommand::List { config, files } => {
                let (config, _) = load_config(config.as_deref())?;
                if files {
                    list_plugins(&config)
                } else {
                    ask::plugins(&config)
                }
            }
            PluginsCommand::Use { config, file } => {
                let (config, _) = load_config(config.as_deref())?;
                ask::done(
                    &config,
                    crate::control::Command::Use {
                        file: file.to_string_lossy().into_owned(),
                    },
                )
            }
        },
        Command::Directory { config, command } => {
            let (config, _) = load_config(config.as_deref())?;
            shared_directory(&config, command)
        }
        Command::Status { config, json } => {
            let (config, _) = load_config(config.as_deref())?;
            ask::status(&config, json)
        }
        Command::Reload { config } => {
            let (config, _) = load_config(config.as_deref())?;
            ask::done(&config, crate::control::Command::Reload)
        }
        Command::Man { dir } => docs::man(dir.as_deref()),
        Command::Completions { shell } => docs::completions(shell),
        Command::Queue { config, command } => {
            let (config, _) = load_config(config.as_deref())?;
            queue::run(&config, command)
        }
    }
}

/// The plugins as `run` serves them, with the shared directory when the
/// configuration has one.
fn open_plugins(config: &Config) -> anyhow::Result<Arc<Plugins>> {
    let plugins = plugins::open(config)?;
    if config.directory.shared {
        let (_, directory) = runtime()?.block_on(async {
            let store = crate::spool::open_store(config).await?;
            crate::spool::shared_directory(store.as_ref()).await
        })?;
        plugins
            .engine()
            .set_context(plugins::host_context(config, Arc::new(directory)));
    }
    Ok(plugins)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn shared_directory(config: &Config, command: DirectoryCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = crate::spool::open_store(config).await?;
        match command {
            DirectoryCommand::Import { file } => {
                let directory = crate::directory::Directory::load(&file)?;
                let count = directory.len();
                let version = store.replace_directory(directory.pairs()).await?;
                println!("{count} address(es) in the shared directory, version {version}");
                if !config.directory.shared {
                    eprintln!(
                        "interwork: note: [directory] shared is false in this configuration; \
                         gateways that use it do not read the shared directory"
                    );
                }
            }
            DirectoryCommand::List => {
                let (version, pairs) = store.directory().await?;
                for (im, email) in &pairs {
                    println!("{im} {email}");
                }
                println!("-- {} address(es), version {version}", pairs.len());
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn is_im_uri(address: &str) -> bool {
    let lower = address.trim_start_matches('<').to_ascii_lowercase();
    ["sip:", "sips:", "tel:", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

fn map(config: &Config, role: Option<MapRole>, address: &str) -> anyhow::Result<ExitCode> {
    let plugins = open_plugins(config)?;
    let set = plugins.current();
    let engine = plugins.engine();
    let im_side = is_im_uri(address);
    let role = match (role, im_side) {
        (Some(MapRole::Sender), _) | (None, true) => mapping::Role::Sender,
        (Some(MapRole::Recipient), _) | (None, false) => mapping::Role::Recipient,
    };
    let result = if im_side {
        set.mapping.email_of_im(engine, address, role)
    } else {
        set.mapping.im_of_email(engine, address, role)
    };
    match result {
        Ok(mapped) => {
            println!("{}", mapped.value);
            Ok(ExitCode::SUCCESS)
        }
        Err(CallError::Refused(e)) => {
            eprintln!("interwork: cannot map {address}: {} ({})", e.reason, e.kind);
            Ok(ExitCode::from(1))
        }
        Err(CallError::Fault(e)) => Err(e.into()),
    }
}

fn convert_im_to_email(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let raw = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // People write example requests with LF line ends; SIP wants CRLF.
    let raw = if raw.windows(2).any(|w| w == b"\r\n") {
        raw
    } else {
        let text = String::from_utf8_lossy(&raw).replace('\n', "\r\n");
        text.into_bytes()
    };
    let limits = sip::Limits {
        max_message_bytes: config.limits.sip_message_max_bytes,
        ..sip::Limits::default()
    };
    let request = match sip::parse_datagram(&raw, &limits) {
        Ok(sip::Message::Request(r)) if r.method == sip::Method::Message => r,
        Ok(_) => anyhow::bail!("{} is not a SIP MESSAGE request", file.display()),
        Err(e) => anyhow::bail!("{}: {e}", file.display()),
    };
    request.validate()?;
    // The gateway's own §8.2 checks, as a running gateway makes them (a
    // dry run knows no dialog).
    if let Err(answer) = crate::sip::inspection::inspect(&request, |_| false) {
        return Ok(say_answer(&answer));
    }
    if crate::im::typing::is_typing_indication(request.headers.get("Content-Type"), &request.body) {
        eprintln!(
            "interwork: a typing indication (RFC 3994): the gateway would answer 200 OK and make no mail"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let plugins = open_plugins(config)?;
    // An RCS file transfer's file is fetched as the running gateway would.
    let file_transfers = crate::im::file_transfer::FileTransfers::new(
        &config.file_transfer,
        config.limits.mail_max_bytes as u64,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mail = crate::im::incoming::im_of_message(&request, crate::clock::now())
        .and_then(|im| runtime.block_on(file_transfers.resolve(im, "convert")))
        .and_then(|im| {
            // A dry run knows no conversation: no store is opened.
            let thread = crate::threads::MailThread::default();
            im_to_email::mail_of_im(&plugins, &im, &thread, &config.gateway.hostname)
        });
    match mail {
        Ok(mail) => {
            println!("MAIL FROM:<{}>", mail.envelope_from);
            for to in &mail.envelope_to {
                println!("RCPT TO:<{to}>");
            }
            println!();
            use std::io::Write as _;
            std::io::stdout().write_all(&mail.bytes)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(verdict) => Ok(say_answer(&verdict.sip_answer(&config.gateway.hostname))),
    }
}

/// A refusal as `convert im-to-email` prints it: the status line and the
/// header fields the IM side would get.
fn say_answer(answer: &crate::sip::Answer) -> ExitCode {
    eprintln!(
        "interwork: the gateway would answer {} {}",
        answer.code, answer.reason
    );
    for (name, value) in &answer.headers {
        eprintln!("  {name}: {value}");
    }
    ExitCode::from(1)
}

fn convert_email_to_im(
    config: &Config,
    mail_from: &str,
    rcpt_to: &str,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let data = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let plugins = open_plugins(config)?;
    let tx = Transaction {
        helo: "localhost".into(),
        mail_from: mail_from.trim_matches(['<', '>']).to_string(),
        rcpt_to: vec![rcpt_to.trim_matches(['<', '>']).to_string()],
        data,
        smtputf8: false,
        dsn: Default::default(),
    };
    let policy = email_to_im::RecipientPolicy::new(
        plugins.clone(),
        crate::admission::Admission::unlimited(),
    );
    if let Err(reply) = policy.check(&tx.mail_from, &tx.rcpt_to[0]) {
        eprintln!("interwork: RCPT TO would be answered {reply}");
        return Ok(ExitCode::from(1));
    }
    let composer = ImComposer::new(config);
    let plan = match email_to_im::plan(&plugins, &composer, &tx, config.limits.mail_hop_limit) {
        // One recipient was given: one IM.
        Ok(mut planned) => match planned.pop() {
            Some((plan, _correlation)) => plan,
            None => anyhow::bail!("no IM was planned"),
        },
        Err(verdict) => {
            eprintln!("interwork: DATA would be answered {}", verdict.smtp_reply());
            return Ok(ExitCode::from(1));
        }
    };
    use std::io::Write as _;
    let mut out = std::io::stdout();
    for (what, bytes) in composer.wire_preview(&plan) {
        if what.starts_with("SIP") {
            writeln!(
                out,
                "# {what}, to {} over {:?}",
                plan.next_hop, plan.transport
            )?;
        } else {
            writeln!(
                out,
                "# {what}, over TCP to the first URI of the answer's a=path"
            )?;
        }
        out.write_all(&bytes)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn check_plugin(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let directory = plugins::load_directory(config)?;
    let engine = plugins::engine_for(config, directory)?;
    match interwork_plugin_host::load_file(&engine, file) {
        Ok(loaded) => {
            println!("{}: ok", file.display());
            match &loaded.info {
                Some(info) => println!(
                    "  plugin {} {}: {}",
                    info.name, info.version, info.description
                ),
                None => {
                    println!("  plugin says nothing of itself (contract 0.1.0 has no plugin-info)")
                }
            }
            let contract = loaded.contract();
            if contract == Contract::NEWEST {
                println!("  contract {contract}");
            } else {
                println!(
                    "  contract {contract}, served through its adapter (newest: {}; README \"Contract versions\")",
                    Contract::NEWEST
                );
            }
            for export in loaded.exports() {
                println!("  exports {export}");
            }
            println!("  sha256 {}", loaded.sha256);
            if !loaded.trapped_imports.is_empty() {
                println!(
                    "  WASI imports linked to traps (must not be called): {}",
                    loaded.trapped_imports.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("interwork: plugin refused: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn list_plugins(config: &Config) -> anyhow::Result<ExitCode> {
    let plugins = open_plugins(config)?;
    let set = plugins.current();
    // Not the running gateway's answer (`plugins list` without --files).
    println!("what a gateway started now would serve (the plugin directory, loaded afresh)");
    match plugins.dir() {
        Some(dir) => println!("plugin directory: {}", dir.display()),
        None => println!("plugin directory: none"),
    }
    for role in Role::ALL {
        let p = set.get(role);
        println!(
            "{:<10} {}  {}  contract {}  sha256 {}",
            role.name(),
            p.describe(),
            p.id,
            p.contract(),
            &p.sha256[..16]
        );
    }
    for (path, reason) in plugins.refused() {
        println!("refused    {}: {reason}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
