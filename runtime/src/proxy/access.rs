//! JSON access log lines, one per request, emitted through `tracing` (target `mproto::access`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value as Json};

use crate::metadata::Metadata;

/// What the access log records about one request.
#[derive(Debug, Default)]
pub(crate) struct Access {
    pub(crate) route: Option<Arc<str>>,
    pub(crate) upstream: Option<Arc<str>>,
    pub(crate) status: &'static str,
    pub(crate) error: Option<&'static str>,
    pub(crate) bytes_in: usize,
    pub(crate) bytes_out: usize,
}

impl Access {
    /// Emits the line for a request of `protocol` with `meta`, copying `properties`.
    pub(crate) fn emit(
        &self,
        protocol: &str,
        meta: &Metadata,
        properties: &[String],
        took: Duration,
    ) {
        if !tracing::enabled!(target: "mproto::access", tracing::Level::INFO) {
            return;
        }
        let mut line = Map::new();
        line.insert("time".into(), Json::String(rfc3339(SystemTime::now())));
        line.insert("protocol".into(), protocol.into());
        line.insert("route".into(), self.route.as_deref().into());
        line.insert("upstream".into(), self.upstream.as_deref().into());
        line.insert("status".into(), self.status.into());
        if let Some(kind) = self.error {
            line.insert("error".into(), kind.into());
        }
        line.insert("duration_us".into(), (took.as_micros() as u64).into());
        line.insert("bytes_in".into(), self.bytes_in.into());
        line.insert("bytes_out".into(), self.bytes_out.into());
        line.insert("request_id".into(), meta.request_id.into());
        for key in properties {
            if let Some(v) = meta.get(key) {
                line.insert(key.clone(), v.to_string().into());
            }
        }
        tracing::info!(target: "mproto::access", "{}", Json::Object(line));
    }
}

/// `2024-05-01T12:34:56.789Z` for `time`, without a date-time dependency.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_time() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
