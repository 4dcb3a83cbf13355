//! The control socket (issue 13): a Unix socket, mode 0600, at
//! `[control] socket`, through which the CLI asks the *running* gateway
//! (`interwork status`, `interwork plugins list`, `interwork reload`,
//! `interwork plugins use FILE`). One request per connection: a JSON object
//! on one line; one answer: a JSON object on one line, then the socket
//! closes. Who may open the socket may steer the gateway: its mode keeps
//! that to the gateway's own user (and root).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::live::{self, Live, ServingPlugin};
use crate::shutdown::Shutdown;

/// What a client asks.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// Everything `status` shows.
    Status,
    /// The plugins in service.
    Plugins,
    /// Reload the configuration, directory and plugins (as SIGHUP).
    Reload,
    /// Pin a plugin file of the plugin directory.
    Use {
        /// Its file name (or a path whose file name it is).
        file: String,
    },
}

/// What the gateway answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Answer {
    /// To `status`.
    Status(Box<live::Status>),
    /// To `plugins`.
    Plugins {
        /// In service.
        serving: Vec<ServingPlugin>,
        /// Files refused, with why.
        refused: Vec<(String, String)>,
    },
    /// To `reload` and `use`: what happened, a line each.
    Done(Vec<String>),
    /// The request could not be done.
    Error(String),
}

/// The longest request line taken.
const MAX_REQUEST: usize = 64 * 1024;

/// How long a client has to send its request.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// Binds the control socket at `path`, mode 0600. A socket file left by a
/// gateway that is gone is replaced; one a running gateway answers on is
/// not (two gateways on one socket would be one too many).
pub async fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            anyhow::bail!(
                "control.socket {}: another gateway answers on it",
                path.display()
            );
        }
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Made under a umask that leaves only the owner, so there is no moment
    // when another user could connect; then set explicitly.
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let bound = UnixListener::bind(path);
    rustix::process::umask(old);
    let listener =
        bound.with_context(|| format!("cannot bind control.socket {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    Ok(listener)
}

/// Serves the control socket until `shutdown`; removes it then.
pub async fn serve(listener: UnixListener, path: PathBuf, live: Arc<Live>, mut shutdown: Shutdown) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("control socket: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.signalled() => break,
        };
        let live = live.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &live).await {
                tracing::debug!("control connection: {e:#}");
            }
        });
    }
    let _ = std::fs::remove_file(&path);
}

async fn answer(stream: UnixStream, live: &Live) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_REQUEST as u64));
    tokio::time::timeout(REQUEST_DEADLINE, reader.read_line(&mut line))
        .await
        .context("no request in time")??;
    let answer = match serde_json::from_str::<Command>(line.trim()) {
        Ok(command) => {
            tracing::info!(?command, "control socket");
            run(command, live).await
        }
        Err(e) => Answer::Error(format!("not a request: {e}")),
    };
    let mut bytes = serde_json::to_vec(&answer)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    write.shutdown().await?;
    Ok(())
}

async fn run(command: Command, live: &Live) -> Answer {
    match command {
        Command::Status => Answer::Status(Box::new(live.status().await)),
        Command::Plugins => Answer::Plugins {
            serving: live.serving(),
            refused: live
                .plugins
                .refused()
                .into_iter()
                .map(|(path, why)| (path.display().to_string(), why))
                .collect(),
        },
        Command::Reload => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if live.requests.send(live::Request::Reload(tx)).await.is_err() {
                return Answer::Error("the gateway is stopping".into());
            }
            match rx.await {
                Ok(said) => Answer::Done(said),
                Err(_) => Answer::Error("the reload did not answer".into()),
            }
        }
        Command::Use { file } => {
            let name = Path::new(&file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(file);
            let plugins = live.plugins.clone();
            let pinned = tokio::task::spawn_blocking(move || {
                let roles = plugins.pin(&name)?;
                Ok::<_, String>((name, roles))
            })
            .await;
            match pinned {
                Ok(Ok((name, roles))) => {
                    let said = roles
                        .iter()
                        .map(|role| format!("{} now served by {name} (pinned)", role.name()))
                        .collect();
                    Answer::Done(said)
                }
                Ok(Err(why)) => Answer::Error(why),
                Err(e) => Answer::Error(format!("the pin failed: {e}")),
            }
        }
    }
}

/// Asks the gateway on `socket` (the CLI's side).
pub async fn ask(socket: &Path, command: &Command) -> anyhow::Result<Answer> {
    let stream = UnixStream::connect(socket).await.with_context(|| {
        format!(
            "cannot reach the running gateway at {} (is it running, with this control.socket?)",
            socket.display()
        )
    })?;
    let (read, mut write) = stream.into_split();
    let mut request = serde_json::to_vec(command)?;
    request.push(b'\n');
    write.write_all(&request).await?;
    let mut line = String::new();
    // A reload may compile plugins: give it time.
    tokio::time::timeout(
        Duration::from_secs(120),
        BufReader::new(read).read_line(&mut line),
    )
    .await
    .context("the gateway did not answer in 120 s")??;
    serde_json::from_str(line.trim()).context("the gateway's answer is not understood")
}
