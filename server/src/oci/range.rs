//! `Range` (blob GET) and `Content-Range` (chunked upload PATCH) header parsing.

/// An inclusive byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Parse a `Range: bytes=...` header against a blob of `len` bytes. Only a single
/// range is served; `None` means the range cannot be satisfied (answer 416).
pub fn parse_range(header: &str, len: u64) -> Option<ByteRange> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        // suffix: the last b bytes
        let n: u64 = b.parse().ok()?;
        if n == 0 || len == 0 {
            return None;
        }
        ByteRange {
            start: len.saturating_sub(n),
            end: len - 1,
        }
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>().ok()?.min(len.saturating_sub(1))
        };
        ByteRange { start, end }
    };
    if range.start >= len || range.start > range.end {
        return None;
    }
    Some(range)
}

/// Parse an upload `Content-Range: <start>-<end>` (a `bytes ` prefix is tolerated).
pub fn parse_content_range(header: &str) -> Option<ByteRange> {
    let s = header.trim();
    let s = s.strip_prefix("bytes ").unwrap_or(s);
    let s = s.split('/').next()?;
    let (a, b) = s.split_once('-')?;
    let r = ByteRange {
        start: a.trim().parse().ok()?,
        end: b.trim().parse().ok()?,
    };
    (r.start <= r.end).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(ByteRange { start: 0, end: 9 }));
        assert_eq!(parse_range("bytes=90-", 100), Some(ByteRange { start: 90, end: 99 }));
        assert_eq!(parse_range("bytes=-10", 100), Some(ByteRange { start: 90, end: 99 }));
        assert_eq!(parse_range("bytes=50-500", 100), Some(ByteRange { start: 50, end: 99 }));
        for bad in [
            "bytes=100-",
            "bytes=5-2",
            "bytes=a-b",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=-0",
        ] {
            assert_eq!(parse_range(bad, 100), None, "{bad}");
        }
        assert_eq!(parse_content_range("0-99"), Some(ByteRange { start: 0, end: 99 }));
        assert_eq!(
            parse_content_range("bytes 100-199/*"),
            Some(ByteRange { start: 100, end: 199 })
        );
        assert_eq!(parse_content_range("9-1"), None);
        assert_eq!(parse_content_range("x"), None);
    }
}
