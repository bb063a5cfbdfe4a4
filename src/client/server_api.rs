//! The [`Client`] methods of server mode (see [`crate::server`]).

use std::time::Duration;

use super::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::server::Server;

impl Client {
    /// The server side, or `LLMRING_CONFIG` when no server is configured (`LLMRING_FORKED` in a
    /// forked child).
    fn server(&self) -> Result<&Server> {
        self.check_process()?;
        self.inner.server.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "no llmring server is configured (server.url or LLMRING_SERVER_URL)",
            )
        })
    }

    /// Whether server mode is on.
    pub fn has_server(&self) -> bool {
        self.inner.server.is_some()
    }

    /// Sends the pending reports, waiting up to `timeout`; see [`Server::sync`]. Must not be
    /// called from inside an async runtime.
    pub fn sync(&self, timeout: Duration) -> Result<String> {
        let server = self.server()?;
        self.runtime()
            .block_on(server.sync(&self.inner.http, timeout))
    }

    /// The outbox's state without sending anything; see [`Server::status`].
    pub fn server_status(&self) -> Result<String> {
        self.server()?.status()
    }

    /// The server's statistics (`GET /api/v1/stats`); see [`Server::stats`].
    pub fn server_stats(&self, query_json: Option<&str>) -> Result<String> {
        let server = self.server()?;
        self.runtime()
            .block_on(server.stats(&self.inner.http, query_json))
    }

    /// The server's receipts (`GET /api/v1/receipts`); see [`Server::server_receipts`].
    pub fn server_receipts(&self, filter_json: Option<&str>) -> Result<String> {
        let server = self.server()?;
        self.runtime()
            .block_on(server.server_receipts(&self.inner.http, filter_json))
    }

    /// Verifies the stored server receipts against the server's public keys (fetched, else
    /// cached); see [`crate::server::keys::verify_all`] for the report.
    pub fn verify_server_receipts(&self) -> Result<String> {
        let server = self.server()?;
        self.runtime()
            .block_on(server.verify_receipts(&self.inner.http))
    }
}
