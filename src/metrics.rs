//! What `/metrics` shows, in the Prometheus text format (OpenMetrics, by `prometheus-client`).
//!
//! At the bottom of the graph: this module imports nothing of the domain. The workers that
//! see events count them through a [`Metrics`] handle they are given (the outbox runner: sends
//! by outcome and their latency; the pipeline: mails by kind; the IMAP worker: reconnects).
//! What the database or the daemon already knows (EoIs by status, the outbox's depth,
//! reminders fired, worker restarts, who leads) is read when scraped and handed to
//! [`Metrics::encode`] as a [`Scrape`], so the numbers are the database's, whichever process
//! answers.

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// The counters the workers move (cheap to clone: every clone counts into the same values).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    mails: Family<Labels, Counter>,
    sends: Family<Labels, Counter>,
    send_seconds: Family<Labels, Histogram>,
    imap_reconnects: Counter,
}

fn latency_histogram() -> Histogram {
    // 5 ms … ~20 s: a loopback Synapse answers in milliseconds, a throttled one in seconds.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            inner: Arc::new(Inner {
                mails: Family::default(),
                sends: Family::default(),
                send_seconds: Family::new_with_constructor(latency_histogram),
                imap_reconnects: Counter::default(),
            }),
        }
    }
}

/// Kinds of ingested mail.
pub const MAIL_KINDS: &[&str] = &["eoi", "correspondence", "automatic", "own", "quarantined"];

/// What a send came to, as the outbox runner counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retried,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Retried => "retried",
            Outcome::Failed => "failed",
        }
    }
}

/// Outbox depth of one transport.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Depth {
    pub transport: String,
    pub pending: i64,
    pub failed: i64,
    /// Seconds the oldest pending item has waited (0 when none).
    pub oldest_pending_secs: f64,
}

/// What is read at scrape time.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    pub eois_by_status: Vec<(String, i64)>,
    pub outbox: Vec<Depth>,
    /// Reminders fired: ("on_time" | "late" | "skipped", count).
    pub reminders: Vec<(&'static str, i64)>,
    pub worker_restarts: Vec<(String, u64)>,
    /// Whether this process leads (runs ingestion, the outboxes and the scheduler).
    pub leader: bool,
    /// Components of readiness: (name, up).
    pub components: Vec<(String, bool)>,
}

impl Metrics {
    /// One mail handled by the pipeline, of `kind` (one of [`MAIL_KINDS`]).
    pub fn mail_ingested(&self, kind: &str) {
        self.inner
            .mails
            .get_or_create(&vec![("kind", kind.to_owned())])
            .inc();
    }

    /// `n` items of `transport` came to `outcome`.
    pub fn sends(&self, transport: &str, outcome: Outcome, n: u64) {
        if n == 0 {
            return;
        }
        self.inner
            .sends
            .get_or_create(&vec![
                ("transport", transport.to_owned()),
                ("outcome", outcome.as_str().to_owned()),
            ])
            .inc_by(n);
    }

    /// How long one send to `transport`'s server took, whatever its outcome.
    pub fn send_latency(&self, transport: &str, seconds: f64) {
        self.inner
            .send_seconds
            .get_or_create(&vec![("transport", transport.to_owned())])
            .observe(seconds);
    }

    /// The IMAP connection was lost and is being re-established.
    pub fn imap_reconnect(&self) {
        self.inner.imap_reconnects.inc();
    }

    /// The whole exposition: the counters of this process and the scraped values.
    pub fn encode(&self, s: &Scrape) -> String {
        let mut r = Registry::with_prefix("convene");
        let i = &self.inner;
        r.register(
            "mails_ingested",
            "Mails handled by the pipeline, by kind",
            i.mails.clone(),
        );
        for kind in MAIL_KINDS {
            // Every kind shows, at 0 until seen.
            let _ = i.mails.get_or_create(&vec![("kind", (*kind).to_owned())]);
        }
        r.register(
            "outbox_sends",
            "Outbox sends by transport and outcome",
            i.sends.clone(),
        );
        r.register(
            "send_duration_seconds",
            "Time one send to the server took, by transport (matrix: the Matrix send latency)",
            i.send_seconds.clone(),
        );
        r.register(
            "imap_reconnects",
            "Times the IMAP connection was lost and re-established",
            i.imap_reconnects.clone(),
        );

        let eois = Family::<Labels, Gauge>::default();
        for (status, n) in &s.eois_by_status {
            eois.get_or_create(&vec![("status", status.clone())])
                .set(*n);
        }
        r.register("eois", "Expressions of interest by status", eois);

        let pending = Family::<Labels, Gauge>::default();
        let failed = Family::<Labels, Gauge>::default();
        let oldest = Family::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        for d in &s.outbox {
            let l = vec![("transport", d.transport.clone())];
            pending.get_or_create(&l).set(d.pending);
            failed.get_or_create(&l).set(d.failed);
            oldest.get_or_create(&l).set(d.oldest_pending_secs);
        }
        r.register("outbox_pending", "Outbox items waiting to be sent", pending);
        r.register("outbox_failed", "Outbox items failed for good", failed);
        r.register(
            "outbox_oldest_pending_age_seconds",
            "How long the oldest pending item has waited",
            oldest,
        );

        let reminders = Family::<Labels, Counter>::default();
        for (timing, n) in &s.reminders {
            reminders
                .get_or_create(&vec![("timing", (*timing).to_owned())])
                .inc_by(u64::try_from(*n).unwrap_or(0));
        }
        r.register(
            "reminders_fired",
            "Reminders fired: on time, late (within the grace period), skipped (too old)",
            reminders,
        );

        let restarts = Family::<Labels, Counter>::default();
        for (worker, n) in &s.worker_restarts {
            restarts
                .get_or_create(&vec![("worker", worker.clone())])
                .inc_by(*n);
        }
        r.register(
            "worker_restarts",
            "Times a worker failed and was restarted",
            restarts,
        );

        let up = Family::<Labels, Gauge>::default();
        for (name, ok) in &s.components {
            up.get_or_create(&vec![("component", name.clone())])
                .set(i64::from(*ok));
        }
        r.register("component_up", "Readiness of each component (1 up)", up);

        let leader = Gauge::<i64>::default();
        leader.set(i64::from(s.leader));
        r.register(
            "leader",
            "1 when this process leads (ingestion, outboxes, scheduler)",
            leader,
        );
        r.register(
            "build",
            "The running build",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION").to_owned())]),
        );

        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &r);
        out
    }
}

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counters_move_and_scraped_values_show() {
        let m = Metrics::default();
        m.mail_ingested("eoi");
        m.mail_ingested("eoi");
        m.sends("matrix", Outcome::Sent, 3);
        m.sends("mail", Outcome::Retried, 0);
        m.send_latency("matrix", 0.02);
        m.imap_reconnect();
        let s = Scrape {
            eois_by_status: vec![("received".into(), 4)],
            outbox: vec![Depth {
                transport: "mail".into(),
                pending: 2,
                failed: 1,
                oldest_pending_secs: 12.5,
            }],
            reminders: vec![("late", 1)],
            worker_restarts: vec![("imap".into(), 2)],
            leader: true,
            components: vec![("imap".into(), false)],
        };
        let text = m.encode(&s);
        assert_eq!(
            value(&text, r#"convene_mails_ingested_total{kind="eoi"}"#),
            Some(2.0)
        );
        assert_eq!(
            value(&text, r#"convene_mails_ingested_total{kind="quarantined"}"#),
            Some(0.0)
        );
        assert_eq!(
            value(
                &text,
                r#"convene_outbox_sends_total{transport="matrix",outcome="sent"}"#
            ),
            Some(3.0)
        );
        assert!(!text.contains(r#"outcome="retried""#), "{text}");
        assert_eq!(
            value(
                &text,
                r#"convene_send_duration_seconds_count{transport="matrix"}"#
            ),
            Some(1.0)
        );
        assert_eq!(value(&text, "convene_imap_reconnects_total"), Some(1.0));
        assert_eq!(
            value(&text, r#"convene_eois{status="received"}"#),
            Some(4.0)
        );
        assert_eq!(
            value(
                &text,
                r#"convene_outbox_oldest_pending_age_seconds{transport="mail"}"#
            ),
            Some(12.5)
        );
        assert_eq!(
            value(&text, r#"convene_reminders_fired_total{timing="late"}"#),
            Some(1.0)
        );
        assert_eq!(
            value(&text, r#"convene_worker_restarts_total{worker="imap"}"#),
            Some(2.0)
        );
        assert_eq!(value(&text, "convene_leader"), Some(1.0));
        assert_eq!(
            value(&text, r#"convene_component_up{component="imap"}"#),
            Some(0.0)
        );
        assert!(text.contains("convene_build_info{version=\""), "{text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
    }
}
