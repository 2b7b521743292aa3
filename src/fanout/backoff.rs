//! GameLift throttling, absorbed: "Rate exceeded" is a reason to wait, not
//! a failed instance. The SDK already retries a few times; when it gives up,
//! we wait with capped exponential backoff and full jitter (so many tasks
//! throttled together do not come back together) and try again.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::Duration;

use crate::obtain::ObtainError;

const BASE: Duration = Duration::from_millis(100);
const CAP: Duration = Duration::from_secs(5);

/// Calls `call` until it returns anything but throttling; also returns how
/// many times it was throttled.
pub async fn retry_throttled<T, F, Fut>(mut call: F) -> (Result<T, ObtainError>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ObtainError>>,
{
    let mut throttled = 0u32;
    loop {
        match call().await {
            Err(e) if super::is_throttled(&e) => {
                let wait = delay(throttled);
                throttled += 1;
                tracing::debug!(
                    throttled,
                    wait_ms = wait.as_millis() as u64,
                    "throttled by GameLift; waiting"
                );
                tokio::time::sleep(wait).await;
            }
            other => return (other, throttled),
        }
    }
}

/// Full jitter: uniformly random in [0, min(CAP, BASE·2^attempt)].
fn delay(attempt: u32) -> Duration {
    let ceiling = BASE.saturating_mul(1u32 << attempt.min(16)).min(CAP);
    let unit = random() as f64 / u64::MAX as f64;
    ceiling.mul_f64(unit)
}

/// A random u64 from the standard library's per-process random hash keys.
fn random() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(crate::output::now_nanos());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_vary() {
        for attempt in 0..20 {
            let ceiling = BASE.saturating_mul(1u32 << attempt.min(16)).min(CAP);
            assert!(delay(attempt) <= ceiling);
        }
        let samples: std::collections::HashSet<Duration> = (0..20).map(|_| delay(10)).collect();
        assert!(samples.len() > 10, "jitter should spread retries: {samples:?}");
    }
}
