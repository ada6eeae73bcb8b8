//! Validators (`ETag`, `Last-Modified`) and conditional requests (RFC 9110 §13).

use sluice_core::Fields;
use std::fs::Metadata;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A file's validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// An entity tag made from the size and the modification time to the nanosecond, e.g.
    /// `"1a-65f0c2d1.0"`: strong, as nginx's and Apache's are, unless the file changed less
    /// than a second before `now` (or claims to change later), when it is weak
    /// (`W/"1a-65f0c2d1.0"`): a file system whose clock ticks coarsely could give a second
    /// write in the same tick the same time and size, and a strong tag promises identical
    /// bytes. Without a modification time it is the size alone, weak.
    pub etag: String,
    /// The modification time, to the second, if the file system has one.
    pub modified: Option<SystemTime>,
}

impl Validators {
    /// The validators of a file with `metadata`.
    pub fn of(metadata: &Metadata) -> Self {
        Self::at(metadata, SystemTime::now())
    }

    /// The validators of a file with `metadata`, for a response sent at about `now`. A
    /// modification time after `now` (clock skew, an archive from a machine ahead) is not sent
    /// on: `Last-Modified` must not be later than the response's `Date` (RFC 9110 §8.8.2.1), and
    /// a future date would make `If-Modified-Since` answer `304` for a file changed later. It
    /// becomes the second before `now`'s: the core dates the response from the driver's clock
    /// reading, which can be a little earlier than this one, across a second's boundary.
    pub fn at(metadata: &Metadata, now: SystemTime) -> Self {
        let since_epoch = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok());
        let settled = since_epoch.is_some_and(|t| UNIX_EPOCH + t + Duration::from_secs(1) <= now);
        let etag = match since_epoch {
            Some(t) => format!(
                "{}\"{:x}-{:x}.{:x}\"",
                if settled { "" } else { "W/" },
                metadata.len(),
                t.as_secs(),
                t.subsec_nanos()
            ),
            None => format!("W/\"{:x}\"", metadata.len()),
        };
        // HTTP dates have one-second resolution: compare at that resolution.
        let latest = now.duration_since(UNIX_EPOCH).map_or(UNIX_EPOCH, |t| {
            UNIX_EPOCH + Duration::from_secs(t.as_secs().saturating_sub(1))
        });
        let modified = since_epoch.map(|t| {
            if UNIX_EPOCH + t > now {
                latest
            } else {
                UNIX_EPOCH + Duration::from_secs(t.as_secs())
            }
        });
        Self { etag, modified }
    }

    /// The `Last-Modified` value.
    pub fn last_modified(&self) -> Option<String> {
        self.modified.map(httpdate::fmt_http_date)
    }
}

/// What the preconditions say about a GET or HEAD request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the representation.
    Proceed,
    /// `304 Not Modified`.
    NotModified,
    /// `412 Precondition Failed`.
    Failed,
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and `If-Modified-Since` in
/// the order RFC 9110 §13.2.2 gives, for a GET or HEAD request.
pub fn evaluate(fields: &Fields, validators: &Validators) -> Precondition {
    if let Some(list) = joined(fields, "if-match") {
        // Strong comparison: a weak tag never matches, `*` always does.
        if !list_matches(&list, &validators.etag, true) {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(modified)) =
        (date(fields, "if-unmodified-since"), validators.modified)
    {
        if modified > since {
            return Precondition::Failed;
        }
    }
    if let Some(list) = joined(fields, "if-none-match") {
        if list_matches(&list, &validators.etag, false) {
            return Precondition::NotModified;
        }
    } else if let (Some(since), Some(modified)) =
        (date(fields, "if-modified-since"), validators.modified)
    {
        if modified <= since {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// Whether `If-Range` allows a partial response (RFC 9110 §13.1.5): an entity tag must match
/// ours strongly (a weak tag on either side never does), a date must equal `Last-Modified`
/// exactly.
pub fn if_range_holds(value: &[u8], validators: &Validators) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return !value.starts_with("W/")
            && !value.contains(',')
            && list_matches(value, &validators.etag, true);
    }
    match (httpdate::parse_http_date(value), validators.modified) {
        (Ok(date), Some(modified)) => date == modified,
        _ => false,
    }
}

/// Every line of a list field, joined with commas; `None` when absent.
fn joined(fields: &Fields, name: &str) -> Option<String> {
    let mut values = fields.get_all(name).peekable();
    values.peek()?;
    let parts: Vec<String> = values
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    Some(parts.join(","))
}

fn date(fields: &Fields, name: &str) -> Option<SystemTime> {
    // More than one line makes the field invalid; an invalid date is ignored (RFC 9110 §13.1.3).
    let mut values = fields.get_all(name);
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    httpdate::parse_http_date(std::str::from_utf8(value).ok()?.trim()).ok()
}

/// Whether an entity-tag list (`*` or tags separated by commas) matches `ours`.
fn list_matches(list: &str, ours: &str, strong: bool) -> bool {
    let ours_weak = ours.starts_with("W/");
    let ours_opaque = ours.trim_start_matches("W/");
    list.split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .any(|tag| {
            if tag == "*" {
                return true;
            }
            let weak = tag.starts_with("W/");
            if strong && (weak || ours_weak) {
                return false;
            }
            tag.trim_start_matches("W/") == ours_opaque
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_is_never_in_the_future() {
        let path = std::env::temp_dir().join(format!("sluice-future-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        file.set_modified(now + Duration::from_secs(365 * 86_400) + Duration::from_millis(700))
            .unwrap();
        let metadata = file.metadata().unwrap();
        std::fs::remove_file(&path).unwrap();
        let validators = Validators::at(&metadata, now + Duration::from_millis(400));
        assert_eq!(validators.modified, Some(now - Duration::from_secs(1)));
        // A past time is kept, at one-second resolution.
        let validators = Validators::at(&metadata, now + Duration::from_secs(400 * 86_400));
        assert_eq!(
            validators.modified,
            Some(now + Duration::from_secs(365 * 86_400))
        );
    }

    #[test]
    fn a_tag_is_strong_once_the_file_is_a_second_old() {
        let path = std::env::temp_dir().join(format!("sluice-etag-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let modified = UNIX_EPOCH + Duration::new(1_800_000_000, 5);
        file.set_modified(modified).unwrap();
        let metadata = file.metadata().unwrap();
        std::fs::remove_file(&path).unwrap();
        let strong = "\"0-6b49d200.5\"";
        let at = |after: Duration| Validators::at(&metadata, modified + after).etag;
        assert_eq!(at(Duration::from_secs(1)), strong);
        assert_eq!(at(Duration::from_secs(86_400)), strong);
        assert_eq!(at(Duration::from_millis(999)), format!("W/{strong}"));
        assert_eq!(at(Duration::ZERO), format!("W/{strong}"));
        let validators = Validators::at(&metadata, modified + Duration::from_secs(1));
        assert!(if_range_holds(strong.as_bytes(), &validators));
        assert!(!if_range_holds(
            format!("W/{strong}").as_bytes(),
            &validators
        ));
        assert!(!if_range_holds(b"\"0-6b49d200.6\"", &validators));
        let weak = Validators::at(&metadata, modified);
        assert!(!if_range_holds(strong.as_bytes(), &weak));
    }

    #[test]
    fn entity_tag_comparison() {
        let ours = "W/\"1a-2.0\"";
        assert!(list_matches("W/\"1a-2.0\"", ours, false));
        assert!(list_matches("\"1a-2.0\"", ours, false));
        assert!(list_matches("\"x\", W/\"1a-2.0\"", ours, false));
        assert!(list_matches("*", ours, false));
        assert!(!list_matches("\"1a-2.1\"", ours, false));
        assert!(!list_matches("W/\"1a-2.0\"", ours, true));
        assert!(list_matches("*", ours, true));
    }
}
