//! Exponential backoff with full jitter, bounded by attempts and a deadline.
//!
//! The wait before retry `n` (1-based) is a uniformly random time between
//! zero and `min(cap, base × 2ⁿ⁻¹)` ("full jitter", from the AWS Architecture
//! Blog's *Exponential Backoff And Jitter*): concurrent writers that were
//! throttled together spread out instead of retrying in lock-step. A wait that
//! would end past the deadline is not taken: the caller stops retrying and
//! reports what is left as not accepted.
//!
//! ```
//! use std::time::Duration;
//! use firehose_transform::aws::backoff::Backoff;
//!
//! let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2), 5);
//! let mut waits = Vec::new();
//! while let Some(wait) = backoff.next_wait(None) {
//!     waits.push(wait);
//! }
//! assert_eq!(waits.len(), 4); // 5 attempts: 4 waits between them
//! assert!(waits[0] <= Duration::from_millis(50) && waits[3] <= Duration::from_millis(400));
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The retry schedule of one operation.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    max_attempts: u32,
    attempts: u32,
}

impl Backoff {
    /// A schedule allowing `max_attempts` attempts in all (at least 1).
    pub fn new(base: Duration, cap: Duration, max_attempts: u32) -> Self {
        Backoff {
            base,
            cap,
            max_attempts: max_attempts.max(1),
            attempts: 1,
        }
    }

    /// How many attempts were made (the first counts).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The wait before the next attempt, or `None` when no attempt is left
    /// or the wait would end past `deadline`. Counts the attempt.
    pub fn next_wait(&mut self, deadline: Option<Instant>) -> Option<Duration> {
        if self.attempts >= self.max_attempts {
            return None;
        }
        let exponent = (self.attempts - 1).min(20);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.cap);
        let wait = ceiling.mul_f64(random_unit());
        if let Some(deadline) = deadline {
            if Instant::now() + wait >= deadline {
                return None;
            }
        }
        self.attempts += 1;
        Some(wait)
    }
}

/// A uniform number in [0, 1): xorshift over a process-wide state seeded
/// from the clock. Jitter needs spread, not unpredictability, so no crate.
fn random_unit() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_cap_and_stay_under_it() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(80), 50);
        let mut waits = Vec::new();
        while let Some(wait) = backoff.next_wait(None) {
            waits.push(wait);
        }
        assert_eq!(waits.len(), 49);
        assert_eq!(backoff.attempts(), 50);
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(80)));
        // Full jitter: not all the same, and some near zero.
        assert!(waits.iter().any(|w| *w < Duration::from_millis(40)));
        assert!(waits[10..].iter().any(|w| *w > Duration::from_millis(40)));
    }

    #[test]
    fn no_wait_that_ends_past_the_deadline() {
        let mut backoff = Backoff::new(Duration::from_secs(10), Duration::from_secs(10), 100);
        let deadline = Instant::now() + Duration::from_millis(1);
        // The first wait is random in [0, 10 s): almost surely past the deadline.
        let mut taken = 0;
        while backoff.next_wait(Some(deadline)).is_some() {
            taken += 1;
            assert!(taken < 100);
        }
        assert!(taken <= 2, "{taken}");
        assert_eq!(
            Backoff::new(Duration::ZERO, Duration::ZERO, 3).next_wait(Some(Instant::now())),
            None
        );
    }
}
