//! Retries with exponential backoff, as the Azure SDK for Go (which Vault uses) does with
//! the auth method's `max_retries`, `retry_delay` and `max_retry_delay`.
//!
//! azcore's rules: `max_retries` 0 means the default 3 and a negative value means no retry;
//! `retry_delay` 0 means the default 4 s and a negative value means no delay;
//! `max_retry_delay` 0 means the default 60 s and a negative value means no cap. The n-th
//! retry waits `retry_delay × (2ⁿ − 1)`, jittered by 0.8–1.3 and capped. A `Retry-After`
//! (or `retry-after-ms` / `x-ms-retry-after-ms`) header replaces the computed delay; it is
//! capped at `max_retry_delay` too, so that a server cannot park a login for hours.

use std::time::Duration;

use aadauth::Config;

use crate::http::{Response, TransportError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub retry_delay: Duration,
    /// `None`: no cap.
    pub max_retry_delay: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            retry_delay: Duration::from_secs(4),
            max_retry_delay: Some(Duration::from_secs(60)),
        }
    }
}

impl RetryPolicy {
    /// The auth method's settings, read as azcore reads them.
    pub fn from_config(c: &Config) -> RetryPolicy {
        let d = RetryPolicy::default();
        RetryPolicy {
            max_retries: match c.max_retries {
                0 => d.max_retries,
                n if n < 0 => 0,
                n => u32::try_from(n.min(100)).unwrap_or(100),
            },
            retry_delay: match c.retry_delay {
                0 => d.retry_delay,
                n if n < 0 => Duration::ZERO,
                n => Duration::from_secs(n as u64),
            },
            max_retry_delay: match c.max_retry_delay {
                0 => d.max_retry_delay,
                n if n < 0 => None,
                n => Some(Duration::from_secs(n as u64)),
            },
        }
    }

    /// One attempt only.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    fn cap(&self, d: Duration) -> Duration {
        match self.max_retry_delay {
            Some(max) => d.min(max),
            None => d,
        }
    }

    /// The wait before retry number `retry` (1-based).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return self.cap(ra);
        }
        let factor = (1u64 << retry.min(20)) - 1;
        let base = self.retry_delay.saturating_mul(factor as u32);
        self.cap(jitter(base))
    }
}

/// 0.8–1.3 of `d`, from the clock's low bits (no random source needed for this).
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    let permille = 800 + (nanos % 501) as u64;
    Duration::from_nanos((d.as_nanos() as u64).saturating_mul(permille) / 1000)
}

/// Statuses worth another try: 408, 429 and server errors (not 501 / 505, which will not
/// change).
pub fn retryable_status(status: u16) -> bool {
    status == 408
        || status == 429
        || ((500..=599).contains(&status) && status != 501 && status != 505)
}

/// `Retry-After` as seconds or an HTTP date, or the millisecond headers Azure sends.
pub fn retry_after(resp: &Response) -> Option<Duration> {
    for h in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = resp.header(h).and_then(|v| v.trim().parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let v = resp.header("retry-after")?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    let now = crate::unix_now();
    Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
}

/// What one call with retries came to.
#[derive(Debug)]
pub struct Attempts {
    pub result: Result<Response, TransportError>,
    /// Requests sent.
    pub attempts: u32,
}

/// Sends with `send` until it gets an answer that is not retryable, or the retries run out.
/// `retry_on` decides which statuses are retried (ARM: [`retryable_status`]);
/// `retry_transport` whether a failure to get any answer is.
pub fn send(
    policy: &RetryPolicy,
    retry_on: fn(u16) -> bool,
    retry_transport: bool,
    mut send: impl FnMut() -> Result<Response, TransportError>,
) -> Attempts {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = send();
        let retry_after_hint = match &result {
            Ok(r) if retry_on(r.status) => retry_after(r),
            Ok(_) => return Attempts { result, attempts },
            Err(_) if retry_transport => None,
            Err(_) => return Attempts { result, attempts },
        };
        if attempts > policy.max_retries {
            return Attempts { result, attempts };
        }
        std::thread::sleep(policy.delay(attempts, retry_after_hint));
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x == mon)? as i64 + 1;
    let d: i64 = day.parse().ok()?;
    let y: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, se] = hms.as_slice() else {
        return None;
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azcore_settings() {
        let c = Config {
            max_retries: -1,
            retry_delay: 0,
            max_retry_delay: -5,
            ..Config::default()
        };
        let p = RetryPolicy::from_config(&c);
        assert_eq!(p.max_retries, 0);
        assert_eq!(p.retry_delay, Duration::from_secs(4));
        assert_eq!(p.max_retry_delay, None);
        let p = RetryPolicy {
            max_retries: 5,
            retry_delay: Duration::from_secs(4),
            max_retry_delay: Some(Duration::from_secs(10)),
        };
        let d1 = p.delay(1, None);
        assert!(d1 >= Duration::from_millis(3200) && d1 <= Duration::from_millis(5200));
        assert_eq!(p.delay(3, None), Duration::from_secs(10));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(99))),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("yesterday"), None);
        let r = Response {
            status: 429,
            headers: vec![("retry-after".into(), "7".into())],
            body: String::new(),
        };
        assert_eq!(retry_after(&r), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retries_until_an_answer() {
        let p = RetryPolicy {
            max_retries: 3,
            retry_delay: Duration::from_millis(1),
            max_retry_delay: Some(Duration::from_millis(5)),
        };
        let mut seq = vec![429u16, 503, 200].into_iter();
        let a = send(&p, retryable_status, true, || {
            Ok(Response {
                status: seq.next().unwrap_or(200),
                headers: vec![],
                body: String::new(),
            })
        });
        assert_eq!(a.attempts, 3);
        assert_eq!(a.result.unwrap().status, 200);
        let a = send(
            &RetryPolicy {
                max_retries: 1,
                ..p
            },
            retryable_status,
            true,
            || {
                Err(TransportError {
                    method: "GET",
                    url: "u".into(),
                    detail: "refused".into(),
                })
            },
        );
        assert_eq!(a.attempts, 2);
        assert!(a.result.is_err());
    }
}
