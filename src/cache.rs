//! A cache of verified tokens, for gateways that see the same token on many requests.
//!
//! Verifying an RS256 signature is the expensive part of a request (several times more so
//! in WebAssembly); a workload sends the same managed-identity token for up to 24 hours.
//! [`TokenCache`] remembers what verification established about a token so that later
//! requests skip the signature, while everything that can change between requests is still
//! decided per request:
//!
//! - **Pure**: no clock, no randomness, no global state. Time is passed in (Unix seconds).
//! - **Keyed by SHA-256 of the token**: the cache never holds the token itself. (A
//!   [`crate::Gate`] keeps the last 16 tokens it saw in a [`RecentKeys`], to skip hashing
//!   a token presented again.)
//! - **`exp` re-checked on every hit**, with the clock skew given at construction: an entry
//!   past `exp + skew` is dropped and reported as [`Lookup::Expired`].
//! - **Bounded**: at most `capacity` entries; inserting into a full cache evicts the least
//!   recently used entry (a hit counts as a use). Eviction is deterministic: it depends only
//!   on the order of calls.
//! - **Role evaluation is not cached**: the value is the verified claims; the caller decides
//!   the role binding on every request (see [`crate::gateway::authorize`]).
//!
//! # Memory
//!
//! Per entry: the 32-byte key twice (entry map and recency index), two `u64` stamps and the
//! `i64` expiry, B-tree node overhead (about 50% on top of the slots), plus the value `V`.
//! For `V` = [`crate::gateway::GatewayClaims`] of a typical managed-identity token (oid,
//! appid, issuer, `xms_mirid`/`xms_az_rid` and their parsed parts, no groups) that is about
//! 0.9–1.3 KiB per entry ([`crate::gateway::GatewayClaims::approx_bytes`] estimates the
//! value; the `memory_estimate` test below pins it). The default capacity of 100 entries
//! therefore costs about 130 KiB per worker.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// SHA-256 of a token: what the cache is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CacheKey(pub [u8; 32]);

impl CacheKey {
    /// The key of `token` (its SHA-256).
    pub fn of(token: &str) -> CacheKey {
        let digest = Sha256::digest(token.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(&digest);
        CacheKey(key)
    }
}

/// The [`CacheKey`]s of the last [`RECENT_KEYS`] tokens, kept with the tokens themselves,
/// so that a token presented again gets its key by a byte comparison instead of a SHA-256.
///
/// Why: a workload sends the same managed-identity token for hours, and hashing it is most
/// of what a cached request costs where there is no SHA instruction. In the filter
/// (WebAssembly in wasmtime) the SHA-256 of a 1.4 KB token took 3.5 of a cached request's
/// 9.6 µs. A recent token is found by its length and last eight bytes (signature bytes,
/// which differ between tokens), then compared whole: the key is exactly `CacheKey::of`,
/// for any input (a property test holds that).
///
/// Unlike [`TokenCache`], this holds tokens: at most [`RECENT_KEYS`] of at most
/// [`RECENT_MAX_TOKEN_BYTES`] each (longer ones are hashed every time), 64 KiB at worst, and
/// its `Debug` output shows how many, never the tokens. Replacement is first in, first out,
/// so the answer never depends on anything but the calls made.
#[derive(Clone, Default)]
pub struct RecentKeys {
    slots: Vec<(Box<str>, CacheKey)>,
    next: usize,
}

/// How many recent tokens [`RecentKeys`] remembers.
pub const RECENT_KEYS: usize = 16;
/// Tokens longer than this are not remembered by [`RecentKeys`] (managed-identity tokens
/// are 1–3 KiB).
pub const RECENT_MAX_TOKEN_BYTES: usize = 4096;

impl RecentKeys {
    /// `CacheKey::of(token)`, from memory when `token` is one of the recent ones.
    pub fn key_of(&mut self, token: &str) -> CacheKey {
        let b = token.as_bytes();
        let same = |t: &str| {
            let t = t.as_bytes();
            t.len() == b.len()
                && t.get(t.len().saturating_sub(8)..) == b.get(b.len().saturating_sub(8)..)
                && same_bytes(t, b)
        };
        if let Some((_, key)) = self.slots.iter().find(|(t, _)| same(t)) {
            return *key;
        }
        let key = CacheKey::of(token);
        if b.len() <= RECENT_MAX_TOKEN_BYTES {
            let entry = (Box::from(token), key);
            match self.slots.get_mut(self.next) {
                Some(slot) => *slot = entry,
                None => self.slots.push(entry),
            }
            self.next = (self.next + 1) % RECENT_KEYS;
        }
        key
    }

    /// Tokens remembered.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Whether `a` and `b` are equal, compared eight bytes at a time.
///
/// Why not `a == b`: on wasm32 that is a call to compiler-builtins' `memcmp`, which
/// compares byte by byte; recalling a 1.4 KB token that way took 0.9 of a cached filter
/// request's 7.6 µs in wasmtime. Words of eight bytes are whole `i64` loads there (and
/// natively), and the differences are OR-ed together per block of 64 bytes, so the loop
/// has one branch per block.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |w: &[u8]| {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        u64::from_ne_bytes(x)
    };
    let (blocks_a, blocks_b) = (a.chunks_exact(64), b.chunks_exact(64));
    let (tail_a, tail_b) = (blocks_a.remainder(), blocks_b.remainder());
    for (x, y) in blocks_a.zip(blocks_b) {
        let diff = x
            .chunks_exact(8)
            .zip(y.chunks_exact(8))
            .fold(0u64, |d, (p, q)| d | (word(p) ^ word(q)));
        if diff != 0 {
            return false;
        }
    }
    let (words_a, words_b) = (tail_a.chunks_exact(8), tail_b.chunks_exact(8));
    let (rest_a, rest_b) = (words_a.remainder(), words_b.remainder());
    words_a.zip(words_b).all(|(p, q)| word(p) == word(q)) && rest_a == rest_b
}

impl std::fmt::Debug for RecentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentKeys")
            .field("tokens", &self.slots.len())
            .finish_non_exhaustive()
    }
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'a, V> {
    /// A verified token whose `exp` (plus skew) has not passed.
    Hit(&'a V),
    /// The token was verified once, but its `exp` (plus skew) has passed; the entry is gone.
    Expired { exp: i64 },
    /// Never verified (or evicted): verify it.
    Miss,
}

#[derive(Debug, Clone)]
struct Slot<V> {
    value: V,
    exp: i64,
    /// Recency stamp: the key of this entry in `recency`.
    stamp: u64,
}

/// A bounded, LRU cache of verified tokens; see the module docs.
#[derive(Debug, Clone)]
pub struct TokenCache<V> {
    capacity: usize,
    clock_skew: i64,
    entries: BTreeMap<CacheKey, Slot<V>>,
    /// Recency stamp → key; the first entry is the least recently used.
    recency: BTreeMap<u64, CacheKey>,
    next_stamp: u64,
}

impl<V> TokenCache<V> {
    /// A cache of at most `capacity` entries (0 disables caching); entries are valid until
    /// `exp + clock_skew_seconds`.
    pub fn new(capacity: usize, clock_skew_seconds: i64) -> Self {
        TokenCache {
            capacity,
            clock_skew: clock_skew_seconds.max(0),
            entries: BTreeMap::new(),
            recency: BTreeMap::new(),
            next_stamp: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn clock_skew(&self) -> i64 {
        self.clock_skew
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn stamp(&mut self) -> u64 {
        let s = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        s
    }

    fn valid(&self, exp: i64, now: i64) -> bool {
        // Expired when exp + skew is strictly before now (Vault: exp strictly before now).
        exp.saturating_add(self.clock_skew) >= now
    }

    /// Looks `key` up at time `now` (Unix seconds). A hit becomes the most recently used
    /// entry; an expired entry is removed.
    pub fn get(&mut self, key: &CacheKey, now: i64) -> Lookup<'_, V> {
        let Some(slot) = self.entries.get(key) else {
            return Lookup::Miss;
        };
        let (exp, old) = (slot.exp, slot.stamp);
        if !self.valid(exp, now) {
            self.entries.remove(key);
            self.recency.remove(&old);
            return Lookup::Expired { exp };
        }
        let stamp = self.stamp();
        self.recency.remove(&old);
        self.recency.insert(stamp, *key);
        match self.entries.get_mut(key) {
            Some(slot) => {
                slot.stamp = stamp;
                Lookup::Hit(&slot.value)
            }
            None => Lookup::Miss,
        }
    }

    /// Remembers a verified token. Nothing is stored when the cache is disabled or the
    /// token is already expired at `now`. Returns whether it was stored.
    pub fn insert(&mut self, key: CacheKey, value: V, exp: i64, now: i64) -> bool {
        if self.capacity == 0 || !self.valid(exp, now) {
            return false;
        }
        if let Some(old) = self.entries.remove(&key) {
            self.recency.remove(&old.stamp);
        }
        while self.entries.len() >= self.capacity {
            if !self.evict_one() {
                break;
            }
        }
        let stamp = self.stamp();
        self.recency.insert(stamp, key);
        self.entries.insert(key, Slot { value, exp, stamp });
        true
    }

    /// Evicts the least recently used entry.
    fn evict_one(&mut self) -> bool {
        let Some((&stamp, &key)) = self.recency.iter().next() else {
            return false;
        };
        self.recency.remove(&stamp);
        self.entries.remove(&key);
        true
    }

    /// Forgets one token.
    pub fn remove(&mut self, key: &CacheKey) -> bool {
        match self.entries.remove(key) {
            Some(slot) => {
                self.recency.remove(&slot.stamp);
                true
            }
            None => false,
        }
    }

    /// Forgets every token (e.g. when the key set or the configuration changes).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.recency.clear();
    }

    /// Keeps only the entries for which `keep` returns true (e.g. tokens signed by a key
    /// that is still in the key set).
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        let recency = &mut self.recency;
        self.entries.retain(|_, slot| {
            let k = keep(&slot.value);
            if !k {
                recency.remove(&slot.stamp);
            }
            k
        });
    }

    /// Drops every entry expired at `now`.
    pub fn purge_expired(&mut self, now: i64) {
        let skew = self.clock_skew;
        let recency = &mut self.recency;
        self.entries.retain(|_, slot| {
            let keep = slot.exp.saturating_add(skew) >= now;
            if !keep {
                recency.remove(&slot.stamp);
            }
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(t: &str) -> CacheKey {
        CacheKey::of(t)
    }

    /// The recent-keys memo answers `CacheKey::of` whatever the sequence: repeats, more
    /// distinct tokens than it holds, tokens equal in length and in their last eight bytes,
    /// a token over the length limit, the empty token; and its Debug shows no token.
    #[test]
    fn recent_keys_are_the_sha256_of_the_token() {
        let same_tail = |c: char| format!("{}{c}{}", "a".repeat(40), "-SAMETAIL");
        let mut pool: Vec<String> = (0..20)
            .map(|i| format!("eyJ.token-{i:02}.sig{i}"))
            .collect();
        pool.extend(['x', 'y', 'z'].map(same_tail));
        pool.push("t".repeat(RECENT_MAX_TOKEN_BYTES + 1));
        pool.push(String::new());
        let mut recent = RecentKeys::default();
        // A fixed pseudo-random walk over the pool, then every token twice in a row.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut order: Vec<usize> = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % pool.len() as u64) as usize
            })
            .collect();
        order.extend((0..pool.len()).flat_map(|i| [i, i]));
        for i in order {
            let t = &pool[i];
            assert_eq!(recent.key_of(t), key(t), "{t}");
            assert!(recent.len() <= RECENT_KEYS);
        }
        let shown = format!("{recent:?}");
        assert!(
            !shown.contains("token-") && !shown.contains("SAMETAIL"),
            "{shown}"
        );
        // The long token was never kept.
        assert!(recent
            .slots
            .iter()
            .all(|(t, _)| t.len() <= RECENT_MAX_TOKEN_BYTES));
    }

    /// `same_bytes` is `==` on byte slices: every length around the 8- and 64-byte
    /// boundaries, equal and differing at each position, and different lengths.
    #[test]
    fn same_bytes_is_slice_equality() {
        for len in (0..=140).chain([1400, 1401, 1407, 1408]) {
            let a: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "{len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x40;
                assert!(!same_bytes(&a, &b), "{len} differing at {at}");
            }
            let mut longer = a.clone();
            longer.push(0);
            assert!(
                !same_bytes(&a, &longer) && !same_bytes(&longer, &a),
                "{len}"
            );
        }
    }

    #[test]
    fn keys_are_sha256() {
        // SHA-256("abc")
        assert_eq!(
            key("abc").0[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "the key is the SHA-256 of the token"
        );
        assert_ne!(key("a"), key("b"));
    }

    #[test]
    fn hit_miss_and_expiry_with_skew() {
        let mut c = TokenCache::new(10, 60);
        assert_eq!(c.get(&key("t"), 100), Lookup::Miss);
        assert!(c.insert(key("t"), "claims", 1000, 100));
        assert_eq!(c.get(&key("t"), 1000), Lookup::Hit(&"claims"));
        // exp + skew is still valid; one second later it is not.
        assert_eq!(c.get(&key("t"), 1060), Lookup::Hit(&"claims"));
        assert_eq!(c.get(&key("t"), 1061), Lookup::Expired { exp: 1000 });
        // The expired entry is gone.
        assert_eq!(c.get(&key("t"), 1061), Lookup::Miss);
        assert!(c.is_empty());
    }

    #[test]
    fn zero_skew_and_already_expired_tokens() {
        let mut c = TokenCache::new(10, 0);
        assert!(
            !c.insert(key("old"), 1, 99, 100),
            "expired tokens are not stored"
        );
        assert!(c.insert(key("t"), 1, 100, 100));
        assert_eq!(c.get(&key("t"), 100), Lookup::Hit(&1));
        assert_eq!(c.get(&key("t"), 101), Lookup::Expired { exp: 100 });
        let mut off = TokenCache::new(0, 60);
        assert!(
            !off.insert(key("t"), 1, 1000, 0),
            "capacity 0 disables the cache"
        );
        assert_eq!(off.get(&key("t"), 0), Lookup::Miss);
    }

    #[test]
    fn bounded_with_lru_eviction() {
        let mut c = TokenCache::new(3, 0);
        for t in ["a", "b", "c"] {
            c.insert(key(t), t, 1000, 0);
        }
        // Use "a": "b" becomes the least recently used.
        assert_eq!(c.get(&key("a"), 0), Lookup::Hit(&"a"));
        c.insert(key("d"), "d", 1000, 0);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&key("b"), 0), Lookup::Miss);
        for t in ["a", "c", "d"] {
            assert_eq!(c.get(&key(t), 0), Lookup::Hit(&t));
        }
        // Re-inserting an existing key replaces it without evicting another.
        c.insert(key("c"), "c2", 1000, 0);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&key("c"), 0), Lookup::Hit(&"c2"));
        assert_eq!(c.get(&key("a"), 0), Lookup::Hit(&"a"));
    }

    #[test]
    fn eviction_is_deterministic() {
        let run = || {
            let mut c = TokenCache::new(8, 0);
            let mut seen = Vec::new();
            for i in 0..100u32 {
                let t = format!("token-{}", (i * 7) % 13);
                if let Lookup::Miss = c.get(&key(&t), 0) {
                    c.insert(key(&t), i, 1000, 0);
                    seen.push(i);
                }
            }
            seen
        };
        assert_eq!(run(), run());
        let mut c = TokenCache::new(2, 0);
        c.insert(key("x"), 1, 10, 0);
        c.insert(key("y"), 2, 10, 0);
        c.insert(key("z"), 3, 10, 0);
        assert_eq!(
            c.get(&key("x"), 0),
            Lookup::Miss,
            "oldest unused goes first"
        );
    }

    #[test]
    fn remove_retain_clear_purge() {
        let mut c = TokenCache::new(10, 0);
        for (t, exp) in [("a", 10), ("b", 20), ("c", 30), ("d", 40)] {
            c.insert(key(t), exp, exp, 0);
        }
        assert!(c.remove(&key("a")));
        assert!(!c.remove(&key("a")));
        c.retain(|v| *v != 20);
        assert_eq!(c.len(), 2);
        c.purge_expired(35);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(&key("d"), 35), Lookup::Hit(&40));
        c.clear();
        assert!(c.is_empty());
        // The recency index stays consistent: filling up evicts nothing unexpected.
        for i in 0..10 {
            c.insert(key(&i.to_string()), i, 100, 0);
        }
        assert_eq!(c.len(), 10);
        assert_eq!(c.recency.len(), 10);
    }

    #[test]
    fn memory_estimate() {
        use crate::gateway::{GatewayClaims, TokenResource};
        let c = GatewayClaims {
            oid: "5b7e0c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d".into(),
            appid: "c0ffee00-1111-4222-8333-444455556666".into(),
            iss: "https://sts.windows.net/3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/".into(),
            tid: "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b".into(),
            groups: Vec::new(),
            xms_az_rid: String::new(),
            xms_mirid: "/subscriptions/8d2f4a1c-3b5e-4c6d-9e7f-a1b2c3d4e5f6/resourcegroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-01".into(),
            exp: 0,
            nbf: None,
            kid: Some("demo-key-1".into()),
            resource: Some(TokenResource {
                subscription_id: "8d2f4a1c-3b5e-4c6d-9e7f-a1b2c3d4e5f6".into(),
                resource_group: "rg-web".into(),
                provider: "Microsoft.Compute".into(),
                resource_type: "virtualMachines".into(),
                name: "web-01".into(),
                scale_set: None,
                source: "xms_mirid",
            }),
            selected: Vec::new(),
        };
        let bytes = c.approx_bytes() + 2 * 32 + 3 * 8;
        assert!(
            (600..1400).contains(&bytes),
            "documented as about 0.9–1.3 KiB with B-tree overhead; value estimate {bytes}"
        );
    }
}
