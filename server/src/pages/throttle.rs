//! Limits on failed sign-ins, in memory: at most [`ACCOUNT_FAILURES`] failures per
//! account name and [`ADDRESS_FAILURES`] per client address within [`WINDOW`]; past
//! either, sign-ins for that account or from that address are refused (before any
//! password is checked) until the window that counted them ends. A successful sign-in
//! clears its account's count, not its address's.
//!
//! The table holds at most [`MAX_KEYS`] entries: ended windows are dropped first, then
//! the oldest window. Each process keeps its own table, so behind a load balancer of N
//! replicas an attacker gets up to N times the allowance; that is still a few guesses a
//! minute against an argon2id hash. The address is the TCP peer's: behind a reverse
//! proxy every client shares the proxy's address, and the per-address limit applies to
//! them together (the per-account limit is unchanged).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins per account name within [`WINDOW`].
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed sign-ins per client address within [`WINDOW`] (several people may share one).
pub const ADDRESS_FAILURES: u32 = 20;
/// How long failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The most accounts and addresses tracked at once.
pub const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// An account name, in lower case.
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

/// The failed sign-ins of one process (see the module documentation).
#[derive(Debug, Default)]
pub struct SigninThrottle {
    table: Mutex<HashMap<Key, Window>>,
}

fn keys(account: Option<&str>, address: Option<IpAddr>) -> impl Iterator<Item = (Key, u32)> {
    let account = account.map(|a| {
        (
            Key::Account(a.chars().take(64).collect::<String>().to_lowercase()),
            ACCOUNT_FAILURES,
        )
    });
    let address = address.map(|a| (Key::Address(a), ADDRESS_FAILURES));
    account.into_iter().chain(address)
}

impl SigninThrottle {
    /// How long until a sign-in for `account` from `address` may be tried, if one may not now.
    pub fn refused(&self, account: Option<&str>, address: Option<IpAddr>) -> Option<Duration> {
        self.refused_at(account, address, Instant::now())
    }

    /// Count a failed sign-in for `account` (if one was named) from `address`.
    pub fn failed(&self, account: Option<&str>, address: Option<IpAddr>) {
        self.failed_at(account, address, Instant::now());
    }

    /// Forget the failures of `account` after it signed in.
    pub fn succeeded(&self, account: &str) {
        if let Some((key, _)) = keys(Some(account), None).next() {
            self.lock().remove(&key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        // A panic while holding the lock leaves counts that are still counts.
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn refused_at(&self, account: Option<&str>, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let table = self.lock();
        keys(account, address)
            .filter_map(|(key, limit)| {
                let w = table.get(&key)?;
                let ends = w.start + WINDOW;
                (w.failures >= limit && ends > now).then(|| ends - now)
            })
            .max()
    }

    fn failed_at(&self, account: Option<&str>, address: Option<IpAddr>, now: Instant) {
        let mut table = self.lock();
        for (key, _) in keys(account, address) {
            if !table.contains_key(&key) && table.len() >= MAX_KEYS {
                table.retain(|_, w| w.start + WINDOW > now);
                if table.len() >= MAX_KEYS
                    && let Some(oldest) = table.iter().min_by_key(|(_, w)| w.start).map(|(k, _)| k.clone())
                {
                    table.remove(&oldest);
                }
            }
            let w = table.entry(key).or_insert(Window {
                start: now,
                failures: 0,
            });
            if w.start + WINDOW <= now {
                *w = Window {
                    start: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const AWAY: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));

    #[test]
    fn an_account_is_refused_after_its_failures_until_the_window_ends() {
        let t = SigninThrottle::default();
        let start = Instant::now();
        for i in 0..ACCOUNT_FAILURES {
            assert_eq!(t.refused_at(Some("amara"), HOME, start), None, "after {i} failures");
            t.failed_at(Some("amara"), HOME, start);
        }
        // Refused from any address, and whatever the case of the name.
        assert_eq!(t.refused_at(Some("Amara"), AWAY, start), Some(WINDOW));
        let later = start + Duration::from_secs(60);
        assert_eq!(
            t.refused_at(Some("amara"), AWAY, later),
            Some(WINDOW - Duration::from_secs(60))
        );
        // Other accounts from the same address are not.
        assert_eq!(t.refused_at(Some("bola"), HOME, start), None);
        // The window ends.
        assert_eq!(t.refused_at(Some("amara"), HOME, start + WINDOW), None);
        t.failed_at(Some("amara"), HOME, start + WINDOW);
        assert_eq!(t.refused_at(Some("amara"), HOME, start + WINDOW), None);
    }

    #[test]
    fn an_address_is_refused_after_its_failures_whatever_the_account() {
        let t = SigninThrottle::default();
        let now = Instant::now();
        for i in 0..ADDRESS_FAILURES {
            t.failed_at(Some(&format!("user{i}")), HOME, now);
        }
        assert!(t.refused_at(Some("someone-else"), HOME, now).is_some());
        assert!(t.refused_at(None, HOME, now).is_some());
        assert_eq!(t.refused_at(Some("someone-else"), AWAY, now), None);
    }

    #[test]
    fn success_clears_the_account_not_the_address() {
        let t = SigninThrottle::default();
        let now = Instant::now();
        for _ in 0..ACCOUNT_FAILURES {
            t.failed_at(Some("amara"), HOME, now);
        }
        t.succeeded("AMARA");
        assert_eq!(t.refused_at(Some("amara"), AWAY, now), None);
        for _ in ACCOUNT_FAILURES..ADDRESS_FAILURES {
            t.failed_at(None, HOME, now);
        }
        assert!(t.refused_at(None, HOME, now).is_some());
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = SigninThrottle::default();
        let now = Instant::now();
        for i in 0..MAX_KEYS + 50 {
            t.failed_at(Some(&format!("user{i}")), None, now + Duration::from_millis(i as u64));
        }
        assert_eq!(t.len(), MAX_KEYS);
        // The newest are kept.
        let last = format!("user{}", MAX_KEYS + 49);
        for _ in 1..ACCOUNT_FAILURES {
            t.failed_at(Some(&last), None, now + Duration::from_secs(30));
        }
        assert!(t.refused_at(Some(&last), None, now + Duration::from_secs(30)).is_some());
    }
}
