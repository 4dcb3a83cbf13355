//! RCS file transfer via HTTP (GSMA RCC.07 §3.2.5) on its way to mail: an
//! IM whose content is an FT-HTTP document (`interwork_proto::ft_http`)
//! names a file on the operator's content server. The gateway fetches it
//! (`crate::file_fetch`: allow-listed hosts, one deadline, a size cap) and
//! the IM becomes a short text with the file attached under its name and
//! type. A file that cannot be attached (too large for a mail, a host not
//! on the list, a server that fails) leaves the link and its validity in
//! the text instead, with the thumbnail as an inline image when there is
//! one; the log says why (target `interwork::file_transfer`).
//!
//! The plugins see the result: a text IM with an attachment, as any other.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use interwork_plugin_host::bindings::types::{ImMessage, MailPart};
use interwork_proto::ft_http::{self, FileInfo, FileTransfer};
use interwork_proto::mime::media_type;

use crate::config::FileTransferConfig;
use crate::file_fetch::{FetchError, FetchPolicy, Fetcher};
use crate::outcome::{About, Kind, Verdict};

/// Room left in a mail for its header fields and text when the file's
/// base64 is counted.
const HEADROOM: u64 = 64 * 1024;

/// Largest thumbnail fetched: RCS clients make them a few kilobytes.
const THUMBNAIL_MAX_BYTES: u64 = 1024 * 1024;

/// Turns FT-HTTP IMs into IMs with their file.
#[derive(Debug, Clone)]
pub struct FileTransfers {
    /// `None` with an empty allow-list: nothing is ever fetched.
    fetcher: Option<Fetcher>,
    /// The largest file attached: what fits a mail of `mail_max_bytes`
    /// once base64-encoded.
    max_file_bytes: u64,
    /// How long one IM's fetches (file, then thumbnail) may take in all:
    /// its sender waits.
    timeout: Duration,
    /// Fetches at once (`file_transfer.max_fetches`): each holds up to
    /// `max_file_bytes` in memory.
    slots: Arc<Semaphore>,
}

/// Why `[file_transfer]` cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("file_transfer: {0}")]
pub struct FileTransferError(#[from] FetchError);

impl FileTransfers {
    /// File transfers under `config`, in mails of at most `mail_max_bytes`.
    pub fn new(
        config: &FileTransferConfig,
        mail_max_bytes: u64,
    ) -> Result<Self, FileTransferError> {
        let max_file_bytes = attachable(mail_max_bytes);
        let fetcher = if config.allowed_hosts.is_empty() {
            None
        } else {
            Some(Fetcher::new(FetchPolicy {
                allowed_hosts: config.allowed_hosts.clone(),
                max_bytes: max_file_bytes,
                timeout: Duration::from_secs(config.timeout_secs),
                ca_file: config.ca_file.clone(),
            })?)
        };
        Ok(Self {
            fetcher,
            max_file_bytes,
            timeout: Duration::from_secs(config.timeout_secs),
            slots: Arc::new(Semaphore::new(config.max_fetches)),
        })
    }

    /// File transfers that fetch nothing: every file is a link.
    pub fn disabled() -> Self {
        Self {
            fetcher: None,
            max_file_bytes: 0,
            timeout: Duration::ZERO,
            slots: Arc::new(Semaphore::new(0)),
        }
    }

    /// One fetch within `deadline`, once a slot is free.
    async fn fetch(
        &self,
        fetcher: &Fetcher,
        url: &str,
        cap: u64,
        deadline: Instant,
    ) -> Result<Vec<u8>, String> {
        let fetch = async {
            let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
            fetcher
                .fetch(url, cap)
                .await
                .map(|fetched| fetched.body)
                .map_err(|e| e.to_string())
        };
        tokio::time::timeout_at(deadline, fetch)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "not fetched within file_transfer.timeout_secs ({} s, waiting for one of \
                 file_transfer.max_fetches included)",
                    self.timeout.as_secs()
                ))
            })
    }

    /// The IM with its file, when its content is an FT-HTTP document; else
    /// the IM as it is. `session` names the IM's request in the log.
    pub async fn resolve(&self, mut im: ImMessage, session: &str) -> Result<ImMessage, Verdict> {
        if media_type(&im.content_type) != ft_http::CONTENT_TYPE {
            return Ok(im);
        }
        let transfer = ft_http::parse(&im.body).map_err(|e| {
            Verdict::new(
                Kind::Invalid,
                About::Content,
                format!("bad FT-HTTP document: {e}"),
            )
        })?;
        let file = &transfer.file;
        let name = file_name(file);
        let deadline = Instant::now() + self.timeout;
        let fetched = self.fetch_file(file, deadline).await;
        im.content_type = "text/plain; charset=utf-8".into();
        match fetched {
            Ok(body) => {
                crate::telemetry::file_transfer("attached");
                im.body = attached_text(file, &name).into_bytes();
                im.attachments.insert(
                    0,
                    MailPart {
                        content_type: file.content_type.clone(),
                        disposition: Some("attachment".into()),
                        filename: Some(name),
                        content_id: None,
                        body,
                    },
                );
            }
            Err(why) => {
                tracing::info!(
                    target: "interwork::file_transfer",
                    session,
                    file = %name,
                    "file transfer not attached: {why}; the mail carries the link"
                );
                crate::telemetry::file_transfer("linked");
                im.body = linked_text(file, &name).into_bytes();
                if let Some(thumbnail) = self.thumbnail(&transfer, session, deadline).await {
                    im.attachments.insert(0, thumbnail);
                }
            }
        }
        Ok(im)
    }

    /// The file's bytes, or why they are not attached.
    async fn fetch_file(&self, file: &FileInfo, deadline: Instant) -> Result<Vec<u8>, String> {
        let Some(fetcher) = &self.fetcher else {
            return Err("file_transfer.allowed_hosts is empty: no file is fetched".into());
        };
        fetcher.allows(&file.url).map_err(|e| e.to_string())?;
        if file.size > self.max_file_bytes {
            return Err(format!(
                "the file is {} bytes; a mail holds at most {} (limits.mail_max_bytes)",
                file.size, self.max_file_bytes
            ));
        }
        self.fetch(fetcher, &file.url, self.max_file_bytes, deadline)
            .await
    }

    /// The thumbnail as an inline image, when there is one and it can be
    /// fetched.
    async fn thumbnail(
        &self,
        transfer: &FileTransfer,
        session: &str,
        deadline: Instant,
    ) -> Option<MailPart> {
        let thumbnail = transfer.thumbnail.as_ref()?;
        let fetcher = self.fetcher.as_ref()?;
        let cap = THUMBNAIL_MAX_BYTES.min(self.max_file_bytes);
        match self.fetch(fetcher, &thumbnail.url, cap, deadline).await {
            Ok(body) => Some(MailPart {
                content_type: thumbnail.content_type.clone(),
                disposition: Some("inline".into()),
                filename: Some(file_name(thumbnail)),
                content_id: None,
                body,
            }),
            Err(why) => {
                tracing::info!(
                    target: "interwork::file_transfer",
                    session,
                    "thumbnail not attached: {why}"
                );
                None
            }
        }
    }
}

/// The largest file whose base64 (76-character lines: 57 bytes in 78)
/// fits a mail of `mail_max_bytes` with [`HEADROOM`] for the rest.
fn attachable(mail_max_bytes: u64) -> u64 {
    mail_max_bytes.saturating_sub(HEADROOM) / 78 * 57
}

/// The file's name: as the sender gave it, else the URL's last segment.
fn file_name(file: &FileInfo) -> String {
    file.name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| {
            let url = url::Url::parse(&file.url).ok()?;
            let last = url.path_segments()?.next_back()?;
            (!last.is_empty()).then(|| last.to_string())
        })
        .unwrap_or_else(|| "file".into())
}

/// `1.5 MB`, `730 KB`, `12 bytes`.
fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

fn describe(file: &FileInfo, name: &str) -> String {
    format!(
        "{name} ({}, {})",
        media_type(&file.content_type),
        human_size(file.size)
    )
}

/// The text of a mail that carries the file.
fn attached_text(file: &FileInfo, name: &str) -> String {
    format!("File: {}, attached.\r\n", describe(file, name))
}

/// The text of a mail that carries the link instead.
fn linked_text(file: &FileInfo, name: &str) -> String {
    let mut text = format!(
        "File: {}\r\nDownload: {}\r\n",
        describe(file, name),
        file.url
    );
    if let Some(Ok(date)) = file
        .until
        .as_ref()
        .map(interwork_proto::dates::format_rfc5322)
    {
        text.push_str(&format!("Available until: {date}\r\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64, name: Option<&str>, url: &str) -> FileInfo {
        FileInfo {
            size,
            name: name.map(str::to_string),
            content_type: "image/jpeg".into(),
            url: url.into(),
            until: interwork_proto::dates::parse_rfc3339("2026-12-14T10:00:00Z").ok(),
            disposition: None,
            playing_length_secs: None,
        }
    }

    fn im(document: String) -> ImMessage {
        ImMessage {
            sender: "sip:alice@im.example.test".into(),
            recipients: vec!["sip:bob@mail.example.test".into()],
            cc: Vec::new(),
            bcc: Vec::new(),
            date: interwork_plugin_host::bindings::types::Timestamp {
                unix_seconds: 0,
                offset_minutes: 0,
            },
            subject: None,
            content_type: ft_http::CONTENT_TYPE.into(),
            body: document.into_bytes(),
            attachments: Vec::new(),
            imdn_message_id: None,
            dispositions: interwork_plugin_host::bindings::types::Dispositions::empty(),
            extra_headers: Vec::new(),
        }
    }

    /// Two IMs at once, one fetch slot, a content server that takes the
    /// connection and never answers: both leave the link once the one
    /// deadline of each has passed, the file's and the thumbnail's
    /// together.
    #[tokio::test]
    async fn one_deadline_covers_waiting_for_a_slot_and_both_fetches() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = silent.accept().await {
                open.push(stream);
            }
        });
        let config = FileTransferConfig {
            allowed_hosts: vec![format!("127.0.0.1:{port}")],
            timeout_secs: 1,
            ca_file: None,
            max_fetches: 1,
        };
        let transfers = FileTransfers::new(&config, 25 * 1024 * 1024).unwrap();
        let document = format!(
            r#"<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp">
<file-info type="thumbnail"><file-size>10</file-size><content-type>image/png</content-type>
<data url="http://127.0.0.1:{port}/t" until="2026-12-14T10:00:00Z"/></file-info>
<file-info type="file"><file-size>10</file-size><content-type>image/png</content-type>
<data url="http://127.0.0.1:{port}/f" until="2026-12-14T10:00:00Z"/></file-info></file>"#
        );
        let started = Instant::now();
        let (a, b) = tokio::join!(
            transfers.resolve(im(document.clone()), "a"),
            transfers.resolve(im(document), "b")
        );
        let took = started.elapsed();
        for im in [a.unwrap(), b.unwrap()] {
            let text = String::from_utf8(im.body).unwrap();
            assert!(text.contains("Download: http://127.0.0.1:"), "{text}");
            assert!(im.attachments.is_empty(), "no thumbnail either");
        }
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(1900),
            "{took:?}"
        );
        held.abort();
    }

    #[test]
    fn what_fits_a_mail_once_encoded() {
        // 25 MiB of mail: about 19 MB of file.
        assert_eq!(attachable(25 * 1024 * 1024), 19_108_737);
        assert_eq!(attachable(1000), 0);
    }

    #[test]
    fn names_and_texts() {
        let f = file(5_242_880, None, "https://ft.example.test/f/IMG_1.jpg?t=abc");
        assert_eq!(file_name(&f), "IMG_1.jpg");
        assert_eq!(file_name(&file(1, Some("a.jpg"), "https://x/")), "a.jpg");
        assert_eq!(file_name(&file(1, None, "https://x/")), "file");
        assert_eq!(
            attached_text(&f, "IMG_1.jpg"),
            "File: IMG_1.jpg (image/jpeg, 5.0 MB), attached.\r\n"
        );
        assert_eq!(
            linked_text(&f, "IMG_1.jpg"),
            "File: IMG_1.jpg (image/jpeg, 5.0 MB)\r\nDownload: https://ft.example.test/f/IMG_1.jpg?t=abc\r\n\
Available until: Mon, 14 Dec 2026 10:00:00 +0000\r\n"
        );
        assert_eq!(human_size(730 * 1024), "730 KB");
        assert_eq!(human_size(12), "12 bytes");
    }
}
