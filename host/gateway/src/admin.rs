//! The admin listener (issue 13, `[admin] listen`, loopback by default):
//! HTTP/1.1 with three paths.
//!
//! * `GET /metrics` — the Prometheus text format (`telemetry`), with the
//!   gauges of state set from [`Live`] as it is scraped;
//! * `GET /healthz` — `200` while the process serves requests at all;
//! * `GET /readyz` — `200` once the listeners are bound, the plugins
//!   loaded and the store open, `503` before that and while draining.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use interwork_store::{Direction, State};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::live::Live;
use crate::message_log::direction_name;
use crate::shutdown::Shutdown;

/// Scrapers at once; more wait for a slot (the port is for operators'
/// tools, not for the public).
const MAX_CONNECTIONS: usize = 16;

/// How long one admin connection may take, whatever it does.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);

/// How often histograms are drained into their buckets between scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// Serves the admin paths on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    live: Arc<Live>,
    metrics: PrometheusHandle,
    mut shutdown: Shutdown,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut upkeep = tokio::time::interval(UPKEEP);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = upkeep.tick() => {
                metrics.run_upkeep();
                continue;
            }
            () = shutdown.signalled() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("admin listener: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let live = live.clone();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let live = live.clone();
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(respond(&request, &live, &metrics).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service);
            match tokio::time::timeout(CONNECTION_DEADLINE, connection).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!("admin connection: {e}"),
                Err(_) => tracing::debug!("admin connection over its deadline: closed"),
            }
            drop(slot);
        });
    }
}

fn text(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

async fn respond(
    request: &Request<Incoming>,
    live: &Live,
    metrics: &PrometheusHandle,
) -> Response<Full<Bytes>> {
    const PLAIN: &str = "text/plain; charset=utf-8";
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, PLAIN, "GET only\n");
    }
    match request.uri().path() {
        "/metrics" => {
            let body = render(live, metrics).await;
            // The Prometheus text exposition format, version 0.0.4.
            text(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                body,
            )
        }
        "/healthz" => text(StatusCode::OK, PLAIN, "ok\n"),
        "/readyz" => {
            if live.draining.load(Ordering::Acquire) {
                text(StatusCode::SERVICE_UNAVAILABLE, PLAIN, "draining\n")
            } else if live.ready.load(Ordering::Acquire) {
                text(StatusCode::OK, PLAIN, "ready\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, PLAIN, "starting\n")
            }
        }
        _ => text(
            StatusCode::NOT_FOUND,
            PLAIN,
            "not found: /metrics, /healthz, /readyz\n",
        ),
    }
}

/// Sets the gauges of state, then renders everything.
async fn render(live: &Live, metrics: &PrometheusHandle) -> String {
    for (protocol, open) in live.connections_open() {
        metrics::gauge!("interwork_connections_open", "protocol" => protocol).set(open as f64);
    }
    metrics::gauge!("interwork_msrp_sessions").set(live.sessions.len() as f64);
    metrics::gauge!("interwork_messages_in_flight").set(live.messages.in_flight() as f64);
    metrics::gauge!("interwork_uptime_seconds").set(live.started.elapsed().as_secs_f64());
    if let Some(summary) = live.queue().await {
        let now = crate::spool::millis_now();
        for direction in [Direction::ImToMail, Direction::MailToIm] {
            let name = direction_name(direction);
            // Every state, so that one emptied reads 0 rather than its
            // last count.
            for state in [State::Queued, State::Held, State::Failed, State::Expired] {
                let count = summary
                    .iter()
                    .find(|s| s.direction == direction && s.state == state)
                    .map_or(0, |s| s.count);
                metrics::gauge!(
                    "interwork_queue_messages",
                    "direction" => name,
                    "state" => state.as_str()
                )
                .set(count as f64);
            }
            let oldest = summary
                .iter()
                .filter(|s| s.direction == direction && s.state == State::Queued)
                .map(|s| s.oldest_created_at)
                .min()
                .map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
            metrics::gauge!("interwork_queue_oldest_seconds", "direction" => name).set(oldest);
        }
    }
    let mut body = metrics.render();
    // Which plugin serves is rendered here, not kept as gauges: a swapped
    // out plugin's series would otherwise stay at 1.
    body.push_str(
        "# HELP interwork_plugin_serving The plugin serving each interface\n\
         # TYPE interwork_plugin_serving gauge\n",
    );
    for p in live.serving() {
        body.push_str(&format!(
            "interwork_plugin_serving{{interface=\"{}\",plugin=\"{}\",version=\"{}\",sha256=\"{}\"}} 1\n",
            p.interface,
            label_value(&p.name),
            label_value(&p.version),
            &p.sha256[..16.min(p.sha256.len())]
        ));
    }
    body
}

/// A Prometheus label value: `\`, `"` and line feeds escaped.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped() {
        assert_eq!(super::label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
