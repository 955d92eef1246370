//! Sign-in rate limits (the password grant and the login page, one code path): per client IP
//! every attempt counts (IPv6 per /64, and per /48 at ten times the limit); per username, failed
//! attempts count from each client network (an IPv4 address, an IPv6 /64) and, with a higher
//! ceiling, from everywhere; a success clears its own network's count and is not counted
//! globally. Counting per network means a stranger elsewhere cannot lock a user out of their own
//! network with five wrong passwords. A browser holding a device cookie that the username earned
//! there (`auth::device`) is counted on its own counter instead of the username's, so neither
//! a full network nor a full global count locks the user out of it. A slot is taken before the password is checked, so
//! parallel attempts cannot exceed a limit; an attempt refused by a limit is not counted.

use crate::ephemeral::{Counter, Ephemeral};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;

/// The sign-in limits (`login_limit_*`; 0 turns one off).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_ip: u32,
    /// Failures per username from one client network.
    pub per_user: u32,
    /// Failures per username from everywhere.
    pub per_user_global: u32,
    pub window: Duration,
}

/// Counts sign-in attempts in the ephemeral store (in process, or Redis shared by every node).
#[derive(Clone)]
pub struct Limiter {
    ephemeral: Ephemeral,
    limits: LoginLimits,
}

/// A sign-in attempt that passed the limits; report its success to clear the username's count
/// from this network and take the attempt back from the global one.
pub struct LoginAttempt {
    network_key: Option<String>,
    global_key: Option<String>,
    device_key: Option<String>,
}

impl Limiter {
    pub fn new(ephemeral: Ephemeral, limits: LoginLimits) -> Self {
        Self { ephemeral, limits }
    }

    /// Counts the attempt against the IP and username limits (those not set to 0), or says
    /// how long to wait when one is reached. `device` is the id of a device cookie this username
    /// earned in this browser (already verified): its own counter then stands in for the
    /// username's.
    pub async fn begin(
        &self,
        ip: IpAddr,
        username: &str,
        device: Option<&str>,
    ) -> Result<LoginAttempt, Duration> {
        let l = &self.limits;
        let mut counters = self.ip_counters(ip);
        let user = user_key(username);
        let (network_key, global_key, device_key) = match device {
            // The device's counter holds `per_user` failures; with that limit off, the global
            // ceiling's: a device cookie never means fewer limits than none.
            Some(id) => (
                None,
                None,
                (l.per_user > 0 || l.per_user_global > 0).then(|| format!("login-device:{id}")),
            ),
            None => (
                (l.per_user > 0).then(|| format!("{user}@{}", network(ip))),
                (l.per_user_global > 0).then_some(user),
                None,
            ),
        };
        let device_limit = if l.per_user > 0 {
            l.per_user
        } else {
            l.per_user_global
        };
        for (key, limit) in [
            (&network_key, l.per_user),
            (&device_key, device_limit),
            (&global_key, l.per_user_global),
        ] {
            if let Some(key) = key {
                counters.push(Counter {
                    key: key.clone(),
                    limit,
                });
            }
        }
        self.count(ip, &counters).await?;
        Ok(LoginAttempt {
            network_key,
            global_key,
            device_key,
        })
    }

    /// Counts a sign-in that has no username (the callback of a sign-in at the upstream
    /// provider) against the IP limits only.
    pub async fn begin_without_username(&self, ip: IpAddr) -> Result<(), Duration> {
        self.count(ip, &self.ip_counters(ip)).await
    }

    fn ip_counters(&self, ip: IpAddr) -> Vec<Counter> {
        let l = &self.limits;
        let mut counters = Vec::with_capacity(4);
        if l.per_ip > 0 {
            counters.push(Counter {
                key: ip_key(ip),
                limit: l.per_ip,
            });
            if let Some(key) = ipv6_48_key(ip) {
                counters.push(Counter {
                    key,
                    limit: l.per_ip.saturating_mul(10),
                });
            }
        }
        counters
    }

    async fn count(&self, ip: IpAddr, counters: &[Counter]) -> Result<(), Duration> {
        if !counters.is_empty() {
            self.ephemeral
                .hit(counters, self.limits.window)
                .await
                .map_err(|limited| {
                    // One line per interval, however many are refused (a burst must not flood
                    // the log).
                    static REFUSED: crate::telemetry::Throttle =
                        crate::telemetry::Throttle::new(Duration::from_secs(10));
                    if let Some(suppressed) = REFUSED.admit() {
                        tracing::warn!(%ip, suppressed, "sign-in rate limit reached");
                    }
                    limited.retry_after
                })?;
        }
        Ok(())
    }

    /// After a successful sign-in: the username's failures from this network are cleared, and
    /// the attempt is taken back from the global count — which keeps the failures of others, so
    /// that a distributed guesser gets no fresh allowance each time the real user signs in.
    pub async fn succeeded(&self, attempt: LoginAttempt) {
        for key in [attempt.network_key, attempt.device_key]
            .into_iter()
            .flatten()
        {
            self.ephemeral.reset(&key).await;
        }
        if let Some(key) = attempt.global_key {
            self.ephemeral.release(&key).await;
        }
    }
}

/// IPv4 addresses count one by one; IPv6 ones by /64, the block one subscriber usually holds.
fn ip_key(ip: IpAddr) -> String {
    format!("login-ip:{}", network(ip))
}

/// The client network an address belongs to: the IPv4 address itself, or its IPv6 /64.
fn network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The /48 of an IPv6 client (one site's allocation: 65,536 /64s), counted at ten times the
/// per-IP limit so that one site cannot spread a burst over its /64s.
fn ipv6_48_key(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            Some(format!("login-ip48:{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
        _ => None,
    }
}

/// Usernames are compared as emails are (case-insensitively) and hashed, so keys stay short
/// and Redis holds no addresses.
fn user_key(username: &str) -> String {
    let normalized = normalize_username(username);
    format!(
        "login-user:{}",
        URL_SAFE_NO_PAD.encode(&Sha256::digest(normalized.as_bytes())[..18])
    )
}

/// A username as the limits compare it: trimmed, lowercase.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

/// The client's address: the socket peer, unless the peer is a trusted proxy; then the
/// rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its left
/// are whatever the client claimed, and are ignored).
pub fn client_ip(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => continue,
            Ok(ip) => return ip,
            // A malformed entry ends what can be believed.
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(peer, &["1.2.3.4"], &[]), peer);
        assert_eq!(client_ip(peer, &["1.2.3.4"], &nets(&["10.0.0.0/8"])), peer);
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(proxy, &["6.6.6.6, 1.2.3.4"], &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(proxy, &["6.6.6.6", "1.2.3.4, 10.0.0.7"], &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &["garbage"], &trusted), proxy);
        assert_eq!(client_ip(proxy, &[], &trusted), proxy);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a = ip_key("2001:db8:1:2::1".parse().unwrap());
        let b = ip_key("2001:db8:1:2:ffff::9".parse().unwrap());
        let c = ip_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            ip_key("::ffff:192.0.2.1".parse().unwrap()),
            ip_key("192.0.2.1".parse().unwrap())
        );
    }

    #[test]
    fn usernames_are_case_insensitive_and_hashed() {
        assert_eq!(
            user_key("Alice@Example.com "),
            user_key("alice@example.com")
        );
        assert!(!user_key("alice@example.com").contains("alice"));
    }
}
