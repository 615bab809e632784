//! Process-wide state shared by all VMs (Envoy worker threads) of a plugin:
//! the shared key-value store, shared queues and stats.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

/// The state Envoy keeps process-wide rather than per VM: the shared
/// key-value store (`proxy_{get,set}_shared_data`), shared queues and
/// metrics (`proxy_define_metric` & co.; same-named metrics of different
/// VMs are one stat, as in Envoy).
///
/// Cloning gives another handle to the same store; pass clones to
/// [`Host::with_shared`](crate::Host::with_shared) to simulate several
/// workers of one Envoy process.
#[derive(Clone, Default)]
pub struct SharedData {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) data: HashMap<String, (Vec<u8>, u32)>,
    pub(crate) next_cas: u32,
    pub(crate) queues: Vec<Queue>,
    pub(crate) metrics: BTreeMap<String, Metric>,
}

pub(crate) struct Queue {
    pub(crate) vm_id: String,
    pub(crate) name: String,
    pub(crate) items: VecDeque<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl MetricKind {
    pub(crate) fn from_abi(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Counter),
            1 => Some(Self::Gauge),
            2 => Some(Self::Histogram),
            _ => None,
        }
    }
}

pub(crate) struct Metric {
    pub(crate) kind: MetricKind,
    /// Counter or gauge value.
    pub(crate) value: u64,
    /// Histogram samples.
    pub(crate) samples: Vec<u64>,
}

impl Inner {
    /// The next compare-and-swap token; never 0 (0 means "no CAS" in the ABI).
    pub(crate) fn bump_cas(&mut self) -> u32 {
        self.next_cas = self.next_cas.wrapping_add(1).max(1);
        self.next_cas
    }
}

impl SharedData {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` in a broken
        // state (all updates are single assignments), so ignore poisoning.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value stored under `key` by a filter (or by [`set`](Self::set)).
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().data.get(key).map(|(v, _)| v.clone())
    }

    /// Stores `value` under `key`, as a filter's `proxy_set_shared_data`
    /// without CAS would.
    pub fn set(&self, key: &str, value: impl AsRef<[u8]>) {
        let mut inner = self.lock();
        let cas = inner.bump_cas();
        inner
            .data
            .insert(key.to_string(), (value.as_ref().to_vec(), cas));
    }

    /// Current value of the counter or gauge `name`; `None` if no VM
    /// defined it or it is a histogram.
    pub fn metric(&self, name: &str) -> Option<u64> {
        match self.lock().metrics.get(name) {
            Some(m) if m.kind != MetricKind::Histogram => Some(m.value),
            _ => None,
        }
    }

    /// Values recorded so far in the histogram `name`.
    pub fn histogram(&self, name: &str) -> Option<Vec<u64>> {
        match self.lock().metrics.get(name) {
            Some(m) if m.kind == MetricKind::Histogram => Some(m.samples.clone()),
            _ => None,
        }
    }

    /// Names of all metrics defined so far, sorted.
    pub fn metric_names(&self) -> Vec<String> {
        self.lock().metrics.keys().cloned().collect()
    }
}

impl std::fmt::Debug for SharedData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("SharedData")
            .field("keys", &inner.data.len())
            .field("queues", &inner.queues.len())
            .field("metrics", &inner.metrics.len())
            .finish()
    }
}
