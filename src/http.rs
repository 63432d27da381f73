//! The daemon's HTTP server (`[http] listen`, off by default): `GET
//! /metrics` in the Prometheus text format and `GET /healthz` (200 `ok`, or
//! 503 with the reasons, one a line: the judgement of `buzon status`). axum
//! without default features (HTTP/1, tokio), so that a later web page can
//! share the router. Reads only; bound to loopback in the shipped config.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::app::AppCell;
use crate::clock::Clock;
use crate::mailbox::{Health, SharedHealth};
use crate::metrics::Snapshot;
use crate::store::Store;

/// What the handlers read.
#[derive(Clone)]
pub struct Served {
    pub store: Store,
    pub app: AppCell,
    pub health: SharedHealth,
    pub clock: Clock,
    pub metrics: PrometheusHandle,
}

/// Is the source working (`buzon_source_up`)? Stopped for good: no. IMAP:
/// while connected. A Maildir: always, unless stopped.
pub fn source_up(h: &Health, imap: bool) -> bool {
    !h.fatal && (!imap || h.connected)
}

impl Served {
    fn live(&self) -> Health {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// The reasons the desk is unwell (empty: well).
    fn problems(&self) -> Vec<String> {
        let app = self.app.current();
        match crate::query::health(&self.store, &app.config, &self.live(), self.clock.now()) {
            Ok(p) => p,
            Err(e) => vec![format!("the store cannot be read: {e}")],
        }
    }

    /// The gauges of this moment.
    fn snapshot(&self) -> Snapshot {
        let app = self.app.current();
        let imap = matches!(app.config.mailbox, crate::config::Mailbox::Imap(_));
        let now = self.clock.now();
        let (mut open, mut overdue) = (0, 0);
        for r in self.store.reclamos().unwrap_or_default().iter().filter(|r| r.is_open()) {
            open += 1;
            if r.due_at < now {
                overdue += 1;
            }
        }
        Snapshot {
            outbox_pending: self.store.outbox_pending_count(),
            source_up: source_up(&self.live(), imap),
            reclamos_open: open,
            reclamos_overdue: overdue,
            healthy: self.problems().is_empty(),
        }
    }
}

async fn metrics(State(s): State<Served>) -> Response {
    let rendered = tokio::task::spawn_blocking(move || {
        s.snapshot().set();
        s.metrics.render()
    })
    .await;
    match rendered {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("metrics: {e}\n")).into_response(),
    }
}

async fn healthz(State(s): State<Served>) -> Response {
    let problems = tokio::task::spawn_blocking(move || s.problems()).await.unwrap_or_else(|e| vec![e.to_string()]);
    let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if problems.is_empty() {
        (StatusCode::OK, plain, "ok\n".to_string()).into_response()
    } else {
        let mut text = problems.join("\n");
        text.push('\n');
        (StatusCode::SERVICE_UNAVAILABLE, plain, text).into_response()
    }
}

/// The routes (a later web page adds its own beside these).
pub fn router(s: Served) -> axum::Router {
    axum::Router::new().route("/metrics", get(metrics)).route("/healthz", get(healthz)).with_state(s)
}

/// Bind now (a taken port fails start-up, with the address), serve until
/// `token` is cancelled.
pub async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("[http] listen = \"{listen}\": cannot listen there: {e}"))
}

pub async fn serve(listener: tokio::net::TcpListener, s: Served, token: CancellationToken) {
    let app = router(s);
    let stop = token.clone();
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await {
        tracing::error!("HTTP server stopped: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_up_unless_stopped_or_disconnected() {
        let h = |connected, fatal| Health { connected, fatal, ..Health::default() };
        let table = [
            (h(false, false), false, true), // a Maildir is always read
            (h(false, true), false, false),
            (h(true, false), true, true),
            (h(false, false), true, false), // IMAP reconnecting
            (h(true, true), true, false),
        ];
        for (health, imap, want) in table {
            assert_eq!(source_up(&health, imap), want, "{health:?} imap={imap}");
        }
    }
}
