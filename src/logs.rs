//! Logging set-up: what buzon writes to stderr, for a terminal, a file or
//! journald.
//!
//! - Colours (ANSI escapes) only when stderr is a terminal: a pipe, a file
//!   or journald gets plain text.
//! - `[log] format = "json"` (or `BUZON_LOG_FORMAT=json`): JSON Lines, one
//!   object per event with the stable fields `timestamp`, `level`, `target`,
//!   `message` and the event's own fields (`message_id`, `from`, `subject`,
//!   `action`…); with it, even a fatal error is a JSON line ([`fatal`]).
//! - Under journald (`JOURNAL_STREAM` names stderr), each line starts with
//!   the sd-daemon priority prefix (`<3>` error … `<7>` debug), so that
//!   `journalctl -p err` finds the errors, and carries no timestamp
//!   (journald stamps it).
//! - `BUZON_LOG=debug` (a bare level) means buzon's own debug lines, other
//!   crates (sled, lettre…) at `warn`; a full filter (`BUZON_LOG=buzon=debug,sled=info`)
//!   is taken as it is.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::config::LogFormat;

/// Set once [`init`] chose JSON: [`fatal`] then writes JSON too.
static JSON: AtomicBool = AtomicBool::new(false);

/// Where stderr goes, as far as formatting cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// stderr is a terminal: colours are welcome.
    pub terminal: bool,
    /// stderr is journald's stream: priority prefixes, no timestamps.
    pub journald: bool,
}

impl Target {
    /// Look at this process's stderr and environment.
    pub fn detect() -> Target {
        let stderr = std::io::stderr();
        Target { terminal: stderr.is_terminal(), journald: journald_stream(std::env::var("JOURNAL_STREAM").ok()) }
    }
}

/// `JOURNAL_STREAM=<dev>:<inode>` is set by systemd when stdout or stderr
/// is connected to journald; it is ours only when it names our stderr
/// (a child whose stderr was redirected inherits the variable).
fn journald_stream(var: Option<String>) -> bool {
    let Some(var) = var else { return false };
    let Some((dev, ino)) = var.split_once(':') else { return false };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else { return false };
    match rustix::fs::fstat(std::io::stderr()) {
        Ok(st) => st.st_dev == dev && st.st_ino == ino,
        Err(_) => false,
    }
}

/// The sd-daemon priority of a level (`<N>` prefix, syslog numbers).
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// The filter for `BUZON_LOG`: a bare level is buzon's own level (other
/// crates at `warn`); anything else is a full `EnvFilter` directive list.
pub fn filter_directives(var: Option<&str>) -> String {
    let var = var.map(str::trim).filter(|v| !v.is_empty()).unwrap_or("info");
    let bare = ["error", "warn", "info", "debug", "trace", "off"];
    if bare.contains(&var.to_ascii_lowercase().as_str()) {
        let level = var.to_ascii_lowercase();
        if level == "error" || level == "off" { level } else { format!("warn,buzon={level}") }
    } else {
        var.to_string()
    }
}

/// The format chosen: the config's, unless `BUZON_LOG_FORMAT` says otherwise.
pub fn format_from(config: LogFormat, env: Option<&str>) -> LogFormat {
    match env.map(str::trim) {
        Some("json") => LogFormat::Json,
        Some("text") => LogFormat::Text,
        _ => config,
    }
}

/// Prefix each event with its sd-daemon priority, then format it as `F` does.
struct Prioritised<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prioritised<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> std::fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// Text lines carry the message only: the events' fields repeat what the
/// message says, for JSON readers.
fn message_only() -> impl for<'w> FormatFields<'w> + 'static {
    tracing_subscriber::fmt::format::debug_fn(
        |w, field, value| {
            if field.name() == "message" { write!(w, "{value:?}") } else { Ok(()) }
        },
    )
}

/// Install the subscriber for this process (once; later calls do nothing).
pub fn init(format: LogFormat) {
    init_for(format_from(format, std::env::var("BUZON_LOG_FORMAT").ok().as_deref()), Target::detect());
}

/// Install the subscriber for a given target (what [`init`] detected).
pub fn init_for(format: LogFormat, target: Target) {
    use tracing_subscriber::fmt;
    let filter = tracing_subscriber::EnvFilter::try_new(filter_directives(std::env::var("BUZON_LOG").ok().as_deref()))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,buzon=info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let done = match (format, target.journald) {
        (LogFormat::Json, false) => {
            builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init()
        }
        (LogFormat::Json, true) => {
            let f = fmt::format().json().flatten_event(true).with_current_span(false).with_span_list(false);
            builder.json().event_format(Prioritised(f)).try_init()
        }
        (LogFormat::Text, false) => builder.fmt_fields(message_only()).with_ansi(target.terminal).try_init(),
        (LogFormat::Text, true) => {
            let f = fmt::format().without_time().with_ansi(false);
            builder.fmt_fields(message_only()).with_ansi(false).event_format(Prioritised(f)).try_init()
        }
    };
    if done.is_ok() && format == LogFormat::Json {
        JSON.store(true, Ordering::SeqCst);
    }
}

/// Is the process logging JSON?
pub fn json() -> bool {
    JSON.load(Ordering::SeqCst)
}

/// The last word of a failed command, on stderr: `buzon: why`, or under
/// JSON logging one JSON line (level `ERROR`, field `message`).
pub fn fatal(e: &anyhow::Error) {
    let text = format!("{e:#}");
    if json() {
        let line = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "ERROR",
            "target": "buzon",
            "message": text,
        });
        eprintln!("{line}");
    } else {
        eprintln!("buzon: {text}");
    }
}

/// The process's version as `--version` prints it: the package version and
/// the store layout it reads and writes.
pub fn version() -> &'static str {
    static V: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("{} (store layout {})", env!("CARGO_PKG_VERSION"), crate::store::LAYOUT_VERSION)
    });
    V.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buzon_log_levels_mean_buzon_not_its_crates() {
        let table: &[(Option<&str>, &str)] = &[
            (None, "warn,buzon=info"),
            (Some(""), "warn,buzon=info"),
            (Some("info"), "warn,buzon=info"),
            (Some("debug"), "warn,buzon=debug"),
            (Some("DEBUG"), "warn,buzon=debug"),
            (Some(" trace "), "warn,buzon=trace"),
            (Some("warn"), "warn,buzon=warn"),
            (Some("error"), "error"),
            (Some("off"), "off"),
            (Some("buzon=debug,sled=info"), "buzon=debug,sled=info"),
            (Some("sled=debug"), "sled=debug"),
        ];
        for (var, want) in table {
            assert_eq!(filter_directives(*var), *want, "BUZON_LOG={var:?}");
        }
    }

    #[test]
    fn priorities_follow_syslog_numbers() {
        let table = [(Level::ERROR, 3), (Level::WARN, 4), (Level::INFO, 6), (Level::DEBUG, 7), (Level::TRACE, 7)];
        for (level, want) in table {
            assert_eq!(priority(&level), want, "{level}");
        }
    }

    #[test]
    fn the_environment_overrides_the_configured_format() {
        let table = [
            (LogFormat::Text, None, LogFormat::Text),
            (LogFormat::Json, None, LogFormat::Json),
            (LogFormat::Text, Some("json"), LogFormat::Json),
            (LogFormat::Json, Some("text"), LogFormat::Text),
            (LogFormat::Json, Some("yaml"), LogFormat::Json),
        ];
        for (config, env, want) in table {
            assert_eq!(format_from(config, env), want, "{config:?} {env:?}");
        }
    }

    #[test]
    fn journal_stream_must_name_our_stderr() {
        assert!(!journald_stream(None));
        assert!(!journald_stream(Some("garbage".into())));
        assert!(!journald_stream(Some("1:x".into())));
        // Some other stream (dev 0, inode 1 is no file of ours).
        assert!(!journald_stream(Some("0:1".into())));
        let st = rustix::fs::fstat(std::io::stderr()).unwrap_or_else(|e| panic!("fstat: {e}"));
        assert!(journald_stream(Some(format!("{}:{}", st.st_dev, st.st_ino))));
    }

    #[test]
    fn the_version_names_the_store_layout() {
        assert!(version().starts_with(env!("CARGO_PKG_VERSION")));
        assert!(version().contains(&format!("store layout {}", crate::store::LAYOUT_VERSION)));
    }
}
