//! Password hashing and verification (argon2, tens of milliseconds of CPU each) on the
//! blocking pool, at most `auth.hash_concurrency` at a time.
//!
//! The blocking pool alone keeps hashes off the async workers, but not off the CPU: twenty
//! logins at once would be twenty threads competing with the workers for two cores, and every
//! other request would slow to their pace. The semaphore makes logins queue among themselves
//! and leaves the other cores to everything else.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::app::AppError;
use crate::domain::{verify_password, Password};

#[derive(Clone)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
}

impl PasswordHashing {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// The argon2id PHC string of `password`.
    pub async fn hash(&self, password: Password) -> Result<String, AppError> {
        self.run(move || password.hash())
            .await?
            .map_err(AppError::Unexpected)
    }

    /// Whether `plain` matches `hash`.
    pub async fn verify(&self, plain: String, hash: String) -> Result<bool, AppError> {
        self.run(move || verify_password(&plain, &hash)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Unexpected(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::Unexpected(e.to_string()))
    }
}
