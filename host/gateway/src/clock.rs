//! The gateway's clock, as the plugin contract's timestamp: it dates an IM
//! without a CPIM `DateTime` and a mail without a usable `Date`.

use interwork_plugin_host::bindings::types::Timestamp;

/// Now, in UTC.
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp {
        unix_seconds: i64::try_from(secs).unwrap_or(i64::MAX),
        offset_minutes: 0,
    }
}

/// A store time (Unix milliseconds) as a timestamp in UTC.
pub fn at(millis: i64) -> Timestamp {
    Timestamp {
        unix_seconds: millis.div_euclid(1000),
        offset_minutes: 0,
    }
}

/// Now, as the store's clock (Unix milliseconds).
pub fn millis_now() -> interwork_store::Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
