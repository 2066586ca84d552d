//! Outgoing email (password reset, password changed): SMTP through lettre when
//! `[email] smtp_url` is set, otherwise one `.eml` file per message in `<storage.path>/outbox/`,
//! written by lettre's file transport, so a self-hoster without a mail server (and the tests)
//! can read every message.
//!
//! Sending never decides an HTTP answer: a request that triggers a message answers the same
//! whether or not the message could be delivered (the failure is logged), so mail trouble
//! cannot be used to learn which addresses have accounts.

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
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
            Transport::Outbox(AsyncFileTransport::new(outbox))
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
            Transport::Outbox(outbox) => outbox
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Where messages go when no SMTP server is configured.
pub fn outbox_dir(config: &Config) -> PathBuf {
    config.storage.path.join("outbox")
}
