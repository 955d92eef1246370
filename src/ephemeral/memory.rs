//! The in-process implementation: one node, bounded in memory.

use super::{Counter, Limited};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries per map before the oldest information is dropped (about 10 MB at most).
pub const DEFAULT_CAPACITY: usize = 100_000;

pub struct Memory {
    /// Revoked ids held before the list says it does not know.
    capacity: usize,
    /// Rate-limit counters held before a full table forgets some (`login_limit_table_size`).
    counter_capacity: usize,
    revoked: Mutex<Blocklist>,
    counters: Mutex<HashMap<String, Window>>,
}

#[derive(Default)]
struct Blocklist {
    entries: HashMap<String, i64>,
    /// When the list was full, ids were left to the database alone; until the last of them
    /// expires this list cannot answer "not revoked" by itself.
    incomplete_until: i64,
}

struct Window {
    count: u32,
    limit: u32,
    resets_at: Instant,
}

impl Window {
    fn is_full(&self) -> bool {
        self.count >= self.limit
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Memory {
    pub fn new(capacity: usize) -> Self {
        Self::with_counter_capacity(capacity, capacity)
    }

    /// A blocklist of `capacity` ids and a table of `counters` rate-limit counters.
    pub fn with_counter_capacity(capacity: usize, counters: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            counter_capacity: counters.max(1),
            revoked: Mutex::default(),
            counters: Mutex::default(),
        }
    }

    fn blocklist(&self) -> std::sync::MutexGuard<'_, Blocklist> {
        self.revoked.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn revoke_jti(&self, jti: &str, exp: i64) {
        let now = unix_now();
        if exp <= now {
            return;
        }
        let mut list = self.blocklist();
        if list.entries.len() >= self.capacity && !list.entries.contains_key(jti) {
            list.entries.retain(|_, e| *e > now);
        }
        if list.entries.len() >= self.capacity && !list.entries.contains_key(jti) {
            list.incomplete_until = list.incomplete_until.max(exp);
            return;
        }
        list.entries.insert(jti.to_owned(), exp);
    }

    pub fn is_revoked(&self, jti: &str) -> Option<bool> {
        let now = unix_now();
        let list = self.blocklist();
        match list.entries.get(jti) {
            Some(exp) if *exp > now => Some(true),
            _ if list.incomplete_until > now => None,
            _ => Some(false),
        }
    }

    pub fn load_revoked(&self, entries: &[(String, i64)]) {
        for (jti, exp) in entries {
            self.revoke_jti(jti, *exp);
        }
    }

    pub fn hit(&self, counters: &[Counter], window: Duration) -> Result<(), Limited> {
        let now = Instant::now();
        let mut windows = self.windows();
        let mut wait = Duration::ZERO;
        for c in counters {
            if let Some(w) = windows.get(&c.key)
                && w.resets_at > now
                && w.count >= c.limit
            {
                wait = wait.max(w.resets_at - now);
            }
        }
        if !wait.is_zero() {
            return Err(Limited { retry_after: wait });
        }
        let new_keys = counters
            .iter()
            .filter(|c| !windows.contains_key(&c.key))
            .count();
        if windows.len() + new_keys > self.counter_capacity {
            evict(
                &mut windows,
                now,
                self.counter_capacity.saturating_sub(new_keys),
            );
        }
        for c in counters {
            let w = windows.entry(c.key.clone()).or_insert(Window {
                count: 0,
                limit: c.limit,
                resets_at: now + window,
            });
            if w.resets_at <= now {
                *w = Window {
                    count: 0,
                    limit: c.limit,
                    resets_at: now + window,
                };
            }
            w.limit = c.limit;
            w.count += 1;
        }
        Ok(())
    }

    pub fn reset(&self, key: &str) {
        self.windows().remove(key);
    }

    /// Takes one attempt back from a counter (a success that must not count as a failure).
    pub fn release(&self, key: &str) {
        if let Some(w) = self.windows().get_mut(key) {
            w.count = w.count.saturating_sub(1);
        }
    }
}

/// Makes room for new keys (leaves at most `room_for` entries): expired windows first, then
/// those holding a single attempt, then the older half of the rest that are under their limit,
/// and only then the oldest counters at their limit. A full table never refuses a key it has not
/// seen — refusing would let a burst of made-up keys lock every user out (issue 10, finding 1);
/// forgetting the oldest full counters lifts limits only for keys that have waited longest.
fn evict(windows: &mut HashMap<String, Window>, now: Instant, room_for: usize) {
    windows.retain(|_, w| w.resets_at > now);
    if windows.len() <= room_for {
        return;
    }
    windows.retain(|_, w| w.count > 1 || w.is_full());
    if windows.len() <= room_for {
        return;
    }
    drop_older_half(windows, |w| !w.is_full());
    if windows.len() <= room_for {
        return;
    }
    static OVERFLOW: crate::telemetry::Throttle =
        crate::telemetry::Throttle::new(Duration::from_secs(10));
    if let Some(suppressed) = OVERFLOW.admit() {
        tracing::warn!(
            suppressed,
            "the sign-in limit table is full of counters at their limit; forgetting the oldest"
        );
    }
    while windows.len() > room_for {
        let before = windows.len();
        drop_older_half(windows, |_| true);
        if windows.len() == before {
            windows.clear();
        }
    }
}

/// Drops the half of the windows matching `which` whose windows started first.
fn drop_older_half(windows: &mut HashMap<String, Window>, which: impl Fn(&Window) -> bool) {
    let mut resets: Vec<Instant> = windows
        .values()
        .filter(|w| which(w))
        .map(|w| w.resets_at)
        .collect();
    // Fewer than two: there is no older half (a lone counter is the newest as much as the
    // oldest, and the next step decides by age among all).
    if resets.len() < 2 {
        return;
    }
    resets.sort_unstable();
    let cut = resets[resets.len() / 2 - 1];
    windows.retain(|_, w| !which(w) || w.resets_at > cut);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(key: &str, limit: u32) -> Counter {
        Counter {
            key: key.into(),
            limit,
        }
    }

    #[test]
    fn a_refused_attempt_is_not_counted_and_all_or_nothing() {
        let m = Memory::new(100);
        let w = Duration::from_secs(60);
        assert!(m.hit(&[counter("ip", 3), counter("user", 1)], w).is_ok());
        // "user" is full: nothing is counted, "ip" stays at 1.
        let limited = m
            .hit(&[counter("ip", 3), counter("user", 1)], w)
            .unwrap_err();
        assert!(limited.retry_after <= w && !limited.retry_after.is_zero());
        assert!(m.hit(&[counter("ip", 3)], w).is_ok());
        assert!(m.hit(&[counter("ip", 3)], w).is_ok());
        assert!(m.hit(&[counter("ip", 3)], w).is_err());
        m.reset("user");
        assert!(m.hit(&[counter("user", 1)], w).is_ok());
    }

    #[test]
    fn a_released_attempt_no_longer_counts() {
        let m = Memory::new(100);
        let w = Duration::from_secs(60);
        assert!(m.hit(&[counter("user", 2)], w).is_ok());
        assert!(m.hit(&[counter("user", 2)], w).is_ok());
        m.release("user");
        assert!(
            m.hit(&[counter("user", 2)], w).is_ok(),
            "one slot was given back"
        );
        assert!(m.hit(&[counter("user", 2)], w).is_err());
        m.release("unknown");
    }

    #[test]
    fn windows_reset_after_their_length() {
        let m = Memory::new(100);
        let w = Duration::from_millis(30);
        assert!(m.hit(&[counter("k", 1)], w).is_ok());
        assert!(m.hit(&[counter("k", 1)], w).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(m.hit(&[counter("k", 1)], w).is_ok());
    }

    #[test]
    fn counters_stay_bounded_and_keep_the_busy_keys() {
        let m = Memory::new(10);
        let w = Duration::from_secs(60);
        for _ in 0..3 {
            let _ = m.hit(&[counter("busy", 3)], w);
        }
        for i in 0..100 {
            let _ = m.hit(&[counter(&format!("k{i}"), 3)], w);
        }
        assert!(m.windows().len() <= 10);
        assert!(m.hit(&[counter("busy", 3)], w).is_err());
    }

    /// Issue 10, finding 1: a table full of counters at their limit (a burst of made-up keys)
    /// never refuses a key it has not seen; it forgets the oldest full counters, and the newest
    /// ones still hold.
    #[test]
    fn a_full_table_admits_new_keys_and_forgets_the_oldest() {
        let m = Memory::new(4);
        let w = Duration::from_secs(60);
        for i in 0..4 {
            let key = format!("full{i}");
            assert!(m.hit(&[counter(&key, 1)], w).is_ok());
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(
            m.hit(&[counter("new", 5)], w).is_ok(),
            "a new key is admitted"
        );
        assert!(m.windows().len() <= 4);
        assert!(
            m.hit(&[counter("full3", 1)], w).is_err(),
            "the newest full counter holds"
        );
        for _ in 0..1000 {
            let key = format!("burst{}", uuid::Uuid::new_v4());
            assert!(m.hit(&[counter(&key, 1)], w).is_ok());
        }
        assert!(m.windows().len() <= 4);
    }

    /// A lone counter under its limit is not "the older half": the newest address of a full
    /// table keeps its count (found flaky by the end-to-end burst test).
    #[test]
    fn the_newest_counter_survives_an_eviction() {
        let m = Memory::new(4);
        let w = Duration::from_secs(60);
        for i in 0..4 {
            assert!(m.hit(&[counter(&format!("full{i}"), 1)], w).is_ok());
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(m.hit(&[counter("fresh", 2)], w).is_ok());
        std::thread::sleep(Duration::from_millis(2));
        assert!(m.hit(&[counter("other", 5)], w).is_ok());
        assert!(m.hit(&[counter("fresh", 2)], w).is_ok());
        assert!(m.hit(&[counter("fresh", 2)], w).is_err(), "its count held");
    }

    #[test]
    fn a_full_blocklist_says_it_does_not_know() {
        let m = Memory::new(2);
        let exp = unix_now() + 60;
        m.revoke_jti("a", exp);
        m.revoke_jti("b", exp);
        assert_eq!(m.is_revoked("a"), Some(true));
        assert_eq!(m.is_revoked("zzz"), Some(false));
        m.revoke_jti("c", exp);
        assert_eq!(m.is_revoked("c"), None);
        assert_eq!(m.is_revoked("a"), Some(true));
        // Expired ids are neither kept nor reported.
        m.revoke_jti("old", unix_now() - 1);
        assert_eq!(m.blocklist().entries.len(), 2);
    }
}
