//! Rate-based throttling, as GameLift applies it: each operation may have a
//! token bucket (a sustained rate and a burst); a call that finds the bucket
//! empty gets `ThrottlingException` ("Rate exceeded"), whatever the fault
//! plan says. Unlike an injected [`crate::Fault::Throttle`], it depends on
//! how fast the client calls, so a client's backoff is tested for real.

use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug)]
struct Bucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    buckets: HashMap<String, Bucket>,
    throttled: HashMap<String, usize>,
}

impl RateLimits {
    /// Limits `operation` to `per_second` calls a second on average, with up
    /// to `burst` at once. A rate of 0 removes the limit.
    pub(crate) fn set(&mut self, operation: &str, per_second: f64, burst: u32) {
        if per_second <= 0.0 {
            self.buckets.remove(operation);
            return;
        }
        let burst = f64::from(burst.max(1));
        self.buckets.insert(
            operation.to_owned(),
            Bucket {
                per_second,
                burst,
                tokens: burst,
                last: Instant::now(),
            },
        );
    }

    /// Takes a token for one call of `operation`; false: throttle it.
    pub(crate) fn admit(&mut self, operation: &str) -> bool {
        let Some(bucket) = self.buckets.get_mut(operation) else {
            return true;
        };
        let now = Instant::now();
        let refill = now.duration_since(bucket.last).as_secs_f64() * bucket.per_second;
        bucket.tokens = (bucket.tokens + refill).min(bucket.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            *self.throttled.entry(operation.to_owned()).or_default() += 1;
            false
        }
    }

    /// How many calls of `operation` were throttled so far.
    pub(crate) fn throttled(&self, operation: &str) -> usize {
        self.throttled.get(operation).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let mut limits = RateLimits::default();
        limits.set("Op", 1.0, 3);
        assert!((0..3).all(|_| limits.admit("Op")));
        assert!(!limits.admit("Op"), "the burst is spent");
        assert_eq!(limits.throttled("Op"), 1);
        assert!(limits.admit("Other"), "other operations are not limited");
        limits.set("Op", 0.0, 0);
        assert!(limits.admit("Op"), "a rate of 0 lifts the limit");
    }
}
