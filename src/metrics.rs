//! The metric names and the few helpers that record them (`metrics` facade;
//! rendered by `metrics-exporter-prometheus` in [`crate::http`]). Counters
//! and the histogram are recorded where things happen (the committer, the
//! outbox worker); the gauges that describe the store (outbox pending,
//! reclamos open and overdue) and the source are read when `/metrics` is
//! scraped ([`Snapshot`]). Without a recorder installed (no `[http]`), every
//! call is a no-op.

use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Mails processed, one increment per label of the mail (`label`).
pub const MAILS_PROCESSED: &str = "buzon_mails_processed_total";
/// Mails put aside (quarantined) because they could not be processed.
pub const MAILS_QUARANTINED: &str = "buzon_mails_quarantined_total";
/// Seconds from reading a mail to its commit (prepare + decide + commit).
pub const PROCESSING_SECONDS: &str = "buzon_mail_processing_seconds";
/// Unix time of the last mail processed.
pub const LAST_MAIL: &str = "buzon_last_mail_timestamp_seconds";
/// Outgoing mails delivered (per recipient).
pub const OUTBOX_SENT: &str = "buzon_outbox_sent_total";
/// Outgoing mails refused for good by the server (per recipient).
pub const OUTBOX_FAILED: &str = "buzon_outbox_failed_total";
/// Send attempts that will be retried.
pub const OUTBOX_RETRIED: &str = "buzon_outbox_retried_total";
/// Outgoing mails waiting to be sent.
pub const OUTBOX_PENDING: &str = "buzon_outbox_pending";
/// 1 while the source reads mail, 0 when it is stopped or disconnected.
pub const SOURCE_UP: &str = "buzon_source_up";
pub const RECLAMOS_OPEN: &str = "buzon_reclamos_open";
/// Open reclamos past their due instant.
pub const RECLAMOS_OVERDUE: &str = "buzon_reclamos_overdue";
/// Scheduled jobs run (digests, warnings, overdue escalations, summaries).
pub const JOBS: &str = "buzon_scheduled_jobs_total";
/// 1 when `/healthz` would answer 200.
pub const HEALTHY: &str = "buzon_healthy";
/// Build information (`version`, `layout` labels; value 1).
pub const BUILD_INFO: &str = "buzon_build_info";

/// Histogram buckets for the processing time (seconds): a plain mail takes
/// about a millisecond, one with PDFs tens, a ZIP bomb hits its 30 s limit.
pub const PROCESSING_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Install the Prometheus recorder for this process; its handle renders
/// `/metrics`. Only the daemon with `[http] listen` calls this.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(PROCESSING_SECONDS.into()),
            PROCESSING_BUCKETS,
        )
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
    describe();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION"), "layout" => crate::store::LAYOUT_VERSION.to_string())
        .set(1.0);
    // Counters exist from the start (a rate over a series that appears late
    // misses its first increments).
    metrics::counter!(OUTBOX_FAILED).absolute(0);
    metrics::counter!(OUTBOX_SENT).absolute(0);
    Ok(handle)
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(MAILS_PROCESSED, "Mails processed, by label (a mail with two labels counts under each)");
    describe_counter!(MAILS_QUARANTINED, "Mails that could not be processed and were put aside");
    describe_histogram!(PROCESSING_SECONDS, Unit::Seconds, "Time from reading a mail to its commit");
    describe_gauge!(LAST_MAIL, Unit::Seconds, "Unix time of the last mail processed");
    describe_counter!(OUTBOX_SENT, "Outgoing mails delivered, per recipient");
    describe_counter!(OUTBOX_FAILED, "Outgoing mails refused for good, per recipient");
    describe_counter!(OUTBOX_RETRIED, "Send attempts that failed for now and will be retried");
    describe_gauge!(OUTBOX_PENDING, "Outgoing mails waiting to be sent");
    describe_gauge!(SOURCE_UP, "1 while the mailbox source works, 0 when it is stopped or disconnected");
    describe_gauge!(RECLAMOS_OPEN, "Reclamos not resolved");
    describe_gauge!(RECLAMOS_OVERDUE, "Reclamos not resolved and past their due time");
    describe_counter!(JOBS, "Scheduled jobs that did something, by kind");
    describe_gauge!(HEALTHY, "1 when /healthz answers 200");
    describe_gauge!(BUILD_INFO, "The running version and store layout");
}

/// One mail processed: its labels, how long it took, when.
pub fn mail_processed(labels: &[String], seconds: f64, at: DateTime<Utc>) {
    for l in labels {
        metrics::counter!(MAILS_PROCESSED, "label" => l.clone()).increment(1);
    }
    metrics::histogram!(PROCESSING_SECONDS).record(seconds);
    metrics::gauge!(LAST_MAIL).set(at.timestamp_millis() as f64 / 1000.0);
}

pub fn mail_quarantined() {
    metrics::counter!(MAILS_QUARANTINED).increment(1);
}

/// What one outbox flush did (per recipient).
pub fn outbox_flushed(delivered: u64, retried: u64, rejected: u64) {
    metrics::counter!(OUTBOX_SENT).increment(delivered);
    metrics::counter!(OUTBOX_RETRIED).increment(retried);
    metrics::counter!(OUTBOX_FAILED).increment(rejected);
}

/// A scheduled job that did something; `kind` is the job's name.
pub fn job_done(kind: &str) {
    metrics::counter!(JOBS, "job" => kind.to_string()).increment(1);
}

/// The gauges read at scrape time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub outbox_pending: u64,
    pub source_up: bool,
    pub reclamos_open: u64,
    pub reclamos_overdue: u64,
    pub healthy: bool,
}

impl Snapshot {
    pub fn set(&self) {
        metrics::gauge!(OUTBOX_PENDING).set(self.outbox_pending as f64);
        metrics::gauge!(SOURCE_UP).set(if self.source_up { 1.0 } else { 0.0 });
        metrics::gauge!(RECLAMOS_OPEN).set(self.reclamos_open as f64);
        metrics::gauge!(RECLAMOS_OVERDUE).set(self.reclamos_overdue as f64);
        metrics::gauge!(HEALTHY).set(if self.healthy { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Render what `f` records, with a recorder local to this thread.
    fn rendered(f: impl FnOnce()) -> String {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(PROCESSING_SECONDS.into()),
                PROCESSING_BUCKETS,
            )
            .unwrap_or_else(|e| panic!("{e}"))
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, f);
        handle.render()
    }

    #[test]
    fn a_mail_counts_under_each_of_its_labels_and_in_the_histogram() {
        let at = DateTime::from_timestamp(1_800_000_000, 500_000_000).unwrap_or_default();
        let text = rendered(|| {
            mail_processed(&["documentos".into(), "reclamo".into()], 0.004, at);
            mail_processed(&["documentos".into()], 0.2, at);
        });
        assert!(text.contains(r#"buzon_mails_processed_total{label="documentos"} 2"#), "{text}");
        assert!(text.contains(r#"buzon_mails_processed_total{label="reclamo"} 1"#), "{text}");
        assert!(text.contains(r#"buzon_mail_processing_seconds_bucket{le="0.005"} 1"#), "{text}");
        assert!(text.contains(r#"buzon_mail_processing_seconds_bucket{le="0.25"} 2"#), "{text}");
        assert!(text.contains("buzon_mail_processing_seconds_count 2"), "{text}");
        assert!(text.contains("buzon_last_mail_timestamp_seconds 1800000000.5"), "{text}");
    }

    #[test]
    fn the_snapshot_sets_every_gauge() {
        let s = Snapshot { outbox_pending: 3, source_up: false, reclamos_open: 5, reclamos_overdue: 2, healthy: false };
        let text = rendered(|| s.set());
        for want in [
            "buzon_outbox_pending 3",
            "buzon_source_up 0",
            "buzon_reclamos_open 5",
            "buzon_reclamos_overdue 2",
            "buzon_healthy 0",
        ] {
            assert!(text.lines().any(|l| l == want), "{want} in\n{text}");
        }
    }

    #[test]
    fn outbox_counts_add_up() {
        let text = rendered(|| {
            outbox_flushed(4, 1, 0);
            outbox_flushed(2, 0, 1);
        });
        assert!(text.contains("buzon_outbox_sent_total 6"), "{text}");
        assert!(text.contains("buzon_outbox_failed_total 1"), "{text}");
        assert!(text.contains("buzon_outbox_retried_total 1"), "{text}");
    }
}
