//! The one retry policy: exponential from `first`, doubling to `max`, each
//! delay jittered by ±25 % so that many retries do not come back at once.
//! Every loop that retries uses it (the IMAP reconnect, the outbox's send
//! schedule, the wait for a store held by a read command).

use std::time::Duration;

/// A backoff policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

/// Reconnecting to the IMAP server: 0.25 s doubling to 60 s.
pub const IMAP_RECONNECT: Backoff = Backoff { first: Duration::from_millis(250), max: Duration::from_secs(60) };
/// Sending an outgoing mail again: 5 s doubling to 10 min, never given up.
pub const OUTBOX_RETRY: Backoff = Backoff { first: Duration::from_secs(5), max: Duration::from_secs(600) };
/// Waiting for the store while a read command holds it for a moment.
pub const STORE_LOCKED: Backoff = Backoff { first: Duration::from_millis(20), max: Duration::from_millis(500) };

impl Backoff {
    /// The delay before attempt `attempt` (1 = the first retry), without jitter.
    pub fn base(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(20);
        self.first.saturating_mul(factor).min(self.max)
    }

    /// The jittered delay before attempt `attempt`.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.base(attempt).mul_f64(0.75 + fastrand::f64() * 0.5)
    }
}

/// A retry loop's state: attempts since the last success.
#[derive(Debug, Clone)]
pub struct Retry {
    policy: Backoff,
    attempts: u32,
}

impl Retry {
    pub fn new(policy: Backoff) -> Retry {
        Retry { policy, attempts: 0 }
    }

    /// The next delay (and count the attempt).
    pub fn next_delay(&mut self) -> Duration {
        self.attempts = self.attempts.saturating_add(1);
        self.policy.delay(self.attempts)
    }

    /// It worked: start from `first` again.
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stay_within_the_jitter() {
        let b = OUTBOX_RETRY;
        let secs: Vec<u64> = (1..=9).map(|a| b.base(a).as_secs()).collect();
        assert_eq!(secs, vec![5, 10, 20, 40, 80, 160, 320, 600, 600]);
        for a in 1..30 {
            let d = b.delay(a).as_secs_f64();
            let base = b.base(a).as_secs_f64();
            assert!(d >= base * 0.75 && d <= base * 1.25, "{a}: {d} vs {base}");
        }
        let mut r = Retry::new(IMAP_RECONNECT);
        let first = r.next_delay();
        assert!(first <= Duration::from_millis(313));
        r.next_delay();
        r.reset();
        assert!(r.next_delay() <= Duration::from_millis(313), "reset starts over");
    }
}
