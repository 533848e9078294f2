//! Limits that protect the ERP and the adapter from one caller: a per-principal call rate
//! (a token bucket: `rate_per_minute` steady, `burst` at once) and a per-call timeout. The
//! other bounds live where they act: per-source concurrency is a SQL source's `pool_size`
//! (callers beyond it wait `pool_timeout`, then get "busy"), result size is a tool's `limit`
//! and `max_result_size`, request size is the transport's `max_request_bytes`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The per-call timeout when the settings name none.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub call_timeout: Duration,
    /// Calls per minute per principal, and how many may come at once; `None`: unlimited.
    pub rate: Option<(u32, u32)>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout: DEFAULT_CALL_TIMEOUT,
            rate: None,
        }
    }
}

/// Token buckets, one per principal.
pub struct RateLimiter {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        RateLimiter {
            per_minute: per_minute.max(1),
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one call from `principal`'s bucket, or say how long until one is free.
    pub fn take(&self, principal: &str) -> Result<(), Duration> {
        let per_sec = self.per_minute as f64 / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(principal.to_string()).or_insert(Bucket {
            tokens: self.burst as f64,
            at: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec).min(self.burst as f64);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
        }
    }

    /// What a limited caller is told.
    pub fn message(&self, wait: Duration) -> String {
        format!(
            "rate limit: this caller may make {} calls per minute ({} at once); try again in {} s",
            self.per_minute,
            self.burst,
            wait.as_secs().max(1)
        )
    }
}

/// What a call that ran out of time is told.
pub fn timeout_message(limit: Duration) -> String {
    format!(
        "the call took longer than {} s (limits.call_timeout) and was abandoned; the ERP may be slow or busy: try again later, or narrow the request",
        limit.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills() {
        let r = RateLimiter::new(60, 3);
        for _ in 0..3 {
            assert!(r.take("a").is_ok());
        }
        let wait = r.take("a").unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(r.take("b").is_ok(), "buckets are per principal");
        std::thread::sleep(Duration::from_millis(1100));
        assert!(r.take("a").is_ok());
    }
}
