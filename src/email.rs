//! Outgoing email (password reset, password changed): SMTP through lettre when
//! `[email] smtp_url` is set, otherwise one `.eml` file per message in `<storage.path>/outbox/`,
//! so a self-hoster without a mail server (and the tests) can read every message. Each file is
//! written under a temporary name and renamed into place, so a reader never sees half a
//! message.
//!
//! Sending never decides an HTTP answer: a request that triggers a message answers the same
//! whether or not the message could be delivered (the failure is logged), so mail trouble
//! cannot be used to learn which addresses have accounts.

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("invalid email.from {0:?}: {1}")]
    From(String, String),
    #[error("invalid email.smtp_url: {0}")]
    SmtpUrl(String),
    #[error("cannot create the outbox {0}: {1}")]
    Outbox(PathBuf, std::io::Error),
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self, MailerError> {
        let from: Mailbox =
            config
                .email
                .from
                .parse()
                .map_err(|e: lettre::address::AddressError| {
                    MailerError::From(config.email.from.clone(), e.to_string())
                })?;
        let transport = if config.email.smtp_url.is_empty() {
            let outbox = outbox_dir(config);
            std::fs::create_dir_all(&outbox).map_err(|e| MailerError::Outbox(outbox.clone(), e))?;
            Transport::Outbox(outbox)
        } else {
            let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.email.smtp_url)
                .map_err(|e| MailerError::SmtpUrl(e.to_string()))?
                .build();
            Transport::Smtp(smtp)
        };
        Ok(Self {
            from,
            transport: Arc::new(transport),
        })
    }

    /// Sends in the background; delivery problems are logged, never returned.
    pub fn send_later(&self, to: &str, subject: &str, body: String) {
        let mailer = self.clone();
        let (to, subject) = (to.to_owned(), subject.to_owned());
        tokio::spawn(async move {
            if let Err(error) = mailer.send(&to, &subject, body).await {
                tracing::warn!(%error, subject, "email not sent");
            }
        });
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("bad recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        match self.transport.as_ref() {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Transport::Outbox(dir) => write_to_outbox(dir, &message.formatted()).await,
        }
    }
}

/// `<unix ms>-<random>.eml`, so names sort by time; written whole, then renamed into place.
async fn write_to_outbox(dir: &std::path::Path, message: &[u8]) -> Result<(), String> {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let name = format!("{millis:013}-{:016x}", rand::random::<u64>());
    let partial = dir.join(format!(".{name}.partial"));
    tokio::fs::write(&partial, message)
        .await
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    tokio::fs::rename(&partial, dir.join(format!("{name}.eml")))
        .await
        .map_err(|e| format!("cannot move {} into the outbox: {e}", partial.display()))
}

/// Where messages go when no SMTP server is configured.
pub fn outbox_dir(config: &Config) -> PathBuf {
    config.storage.path.join("outbox")
}
