//! Go-compatible times, zones and durations. (Interface fixed; the rest is filled in by the time module work.)

/// An instant and the zone it is shown in, like Go's `time.Time`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Time {
    pub instant: chrono::DateTime<chrono::Utc>,
    pub zone: Zone,
}

/// Go's `*time.Location`: UTC, a fixed offset read from a string, or an IANA zone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    Utc,
    Fixed(chrono::FixedOffset),
    Named(chrono_tz::Tz),
}
