//! Lists in pages: `?limit=` (default 50, at most 200) and `?after=CURSOR`, answered as
//! `{"items": [...], "next": CURSOR_OR_NULL}`. A cursor is the sort key of the last item, in
//! base64url: opaque to callers, stable while items are added or removed.

use super::AdminError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// Which page a caller asks for.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: usize,
    /// The sort key to start after ("" for the first page).
    pub after: String,
}

impl PageRequest {
    /// From the query parameters, each checked.
    pub fn parse(limit: Option<&str>, after: Option<&str>) -> Result<Self, AdminError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    AdminError::invalid("limit", format!("limit must be 1 to {MAX_LIMIT}"))
                })?,
        };
        let after = match after {
            None => String::new(),
            Some(raw) => URL_SAFE_NO_PAD
                .decode(raw)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|k| !k.is_empty() && k.len() <= 256 && !k.chars().any(char::is_control))
                .ok_or_else(|| {
                    AdminError::invalid("after", "after must be a cursor from a previous page")
                })?,
        };
        Ok(Self { limit, after })
    }

    /// One more than the page holds: whether there is a next page shows in the extra item.
    pub fn fetch(&self) -> i64 {
        (self.limit + 1) as i64
    }

    /// The page of `rows` (fetched with [`fetch`](Self::fetch), in key order), keyed by `key`.
    pub fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> &str) -> Listing<T> {
        let next = if rows.len() > self.limit {
            rows.truncate(self.limit);
            rows.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)))
        } else {
            None
        };
        Listing { items: rows, next }
    }

    /// The page of an ordered list held whole (roles, organizations).
    pub fn page_of<T>(&self, all: Vec<T>, key: impl Fn(&T) -> &str) -> Listing<T> {
        let rest: Vec<T> = all
            .into_iter()
            .filter(|item| key(item) > self.after.as_str())
            .take(self.limit + 1)
            .collect();
        self.page(rest, key)
    }
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_cursor() {
        let all: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
        let first = PageRequest::parse(Some("2"), None).unwrap();
        let page = first.page_of(all.clone(), |s| s);
        assert_eq!(page.items, ["k0", "k1"]);
        let next = page.next.unwrap();
        let second = PageRequest::parse(Some("2"), Some(&next)).unwrap();
        assert_eq!(second.page_of(all.clone(), |s| s).items, ["k2", "k3"]);
        let last = PageRequest::parse(Some("3"), Some(&next)).unwrap();
        let page = last.page_of(all, |s| s);
        assert_eq!((page.items.len(), page.next), (3, None));
        for bad in ["0", "201", "x", "-1"] {
            assert!(PageRequest::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert!(PageRequest::parse(None, Some("!!")).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
    }
}
