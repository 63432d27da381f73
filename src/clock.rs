//! The single source of time. `--now` fixes it for replays and tests.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// From the `--now` flag (RFC 3339).
    pub fn from_flag(now: Option<&str>) -> anyhow::Result<Clock> {
        match now {
            None => Ok(Clock::System),
            Some(s) => {
                let t = DateTime::parse_from_rfc3339(s).map_err(|e| {
                    anyhow::anyhow!("--now `{s}` is not RFC 3339 (e.g. 2026-12-01T09:30:00-05:00): {e}")
                })?;
                Ok(Clock::Fixed(t.with_timezone(&Utc)))
            }
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
        }
    }
}
