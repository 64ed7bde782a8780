//! What the running daemon knows about itself: each component's state (Matrix synced, IMAP
//! connected, …) for readiness, and each worker's restarts for liveness.
//!
//! Liveness is about convene itself: a worker that panicked or failed [`CRASH_LOOP`] times
//! within [`CRASH_WINDOW`] is "crash-looping"; then `/healthz` answers 503 and the systemd
//! watchdog pings stop, so systemd restarts the whole process. A server that is down (Synapse,
//! Dovecot) is not a liveness problem — restarting convene would not bring it back — it shows
//! in the components, for `/readyz`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// This many failures of one worker …
pub const CRASH_LOOP: usize = 5;
/// … within this long make it crash-looping.
pub const CRASH_WINDOW: Duration = Duration::from_secs(600);

#[derive(Default)]
pub struct Health {
    components: Mutex<BTreeMap<&'static str, Component>>,
    workers: Mutex<BTreeMap<&'static str, Worker>>,
    leader: std::sync::atomic::AtomicBool,
}

/// What readiness needs of one component.
#[derive(Clone, Copy, Debug)]
pub struct Need {
    pub component: &'static str,
    /// Still counted as up this long after it went down (a reconnect in progress).
    pub grace: Duration,
    /// Only the leader runs it (IMAP): a standby process is ready without it.
    pub leader_only: bool,
}

/// The answer of `/readyz`.
#[derive(Clone, Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    /// The components that are down (or never came up), by name.
    pub failing: Vec<&'static str>,
    pub leader: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Component {
    pub ok: bool,
    /// Seconds since it last changed.
    #[serde(skip)]
    pub since: Option<Instant>,
}

#[derive(Default, Clone, Debug)]
struct Worker {
    restarts: u64,
    recent: VecDeque<Instant>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkerReport {
    pub restarts: u64,
    pub crash_looping: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub live: bool,
    pub components: BTreeMap<&'static str, bool>,
    pub workers: BTreeMap<&'static str, WorkerReport>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Health {
    /// Sets a component's state (`matrix`, `imap`, `database`, …).
    pub fn set(&self, component: &'static str, ok: bool) {
        let mut map = lock(&self.components);
        let entry = map.entry(component).or_insert(Component {
            ok: !ok,
            since: None,
        });
        if entry.ok != ok || entry.since.is_none() {
            entry.ok = ok;
            entry.since = Some(Instant::now());
        }
    }

    /// Whether this process leads (runs ingestion, the outboxes and the scheduler).
    pub fn set_leader(&self, leads: bool) {
        self.leader
            .store(leads, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn leader(&self) -> bool {
        self.leader.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ready when every needed component is up, or went down less than its grace ago; a
    /// component never set is not ready (still starting).
    pub fn readiness(&self, needs: &[Need]) -> Readiness {
        self.readiness_at(needs, Instant::now())
    }

    fn readiness_at(&self, needs: &[Need], now: Instant) -> Readiness {
        let map = lock(&self.components);
        let leader = self.leader();
        let failing: Vec<&'static str> = needs
            .iter()
            .filter(|n| leader || !n.leader_only)
            .filter(|n| match map.get(n.component) {
                Some(c) if c.ok => false,
                Some(Component { since: Some(t), .. }) => {
                    now.saturating_duration_since(*t) >= n.grace
                }
                _ => true,
            })
            .map(|n| n.component)
            .collect();
        Readiness {
            ready: failing.is_empty(),
            failing,
            leader,
        }
    }

    /// A component's state and since when, if it was ever set.
    pub fn component(&self, name: &str) -> Option<Component> {
        lock(&self.components).get(name).cloned()
    }

    /// Records that `worker` failed (returned an error or panicked) and is being restarted.
    pub fn worker_failed(&self, worker: &'static str) {
        self.worker_failed_at(worker, Instant::now());
    }

    fn worker_failed_at(&self, worker: &'static str, at: Instant) {
        let mut map = lock(&self.workers);
        let w = map.entry(worker).or_default();
        w.restarts += 1;
        w.recent.push_back(at);
        while w.recent.len() > CRASH_LOOP {
            w.recent.pop_front();
        }
    }

    /// How often each worker was restarted.
    pub fn restarts(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.workers)
            .iter()
            .map(|(k, w)| (*k, w.restarts))
            .collect()
    }

    fn crash_looping(w: &Worker, now: Instant) -> bool {
        w.recent.len() >= CRASH_LOOP
            && w.recent
                .front()
                .is_some_and(|first| now.duration_since(*first) <= CRASH_WINDOW)
    }

    /// False when a worker keeps dying.
    pub fn live(&self) -> bool {
        let now = Instant::now();
        !lock(&self.workers)
            .values()
            .any(|w| Self::crash_looping(w, now))
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = Instant::now();
        let workers: BTreeMap<_, _> = lock(&self.workers)
            .iter()
            .map(|(k, w)| {
                (
                    *k,
                    WorkerReport {
                        restarts: w.restarts,
                        crash_looping: Self::crash_looping(w, now),
                    },
                )
            })
            .collect();
        Snapshot {
            live: !workers.values().any(|w| w.crash_looping),
            components: lock(&self.components)
                .iter()
                .map(|(k, c)| (*k, c.ok))
                .collect(),
            workers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_keeps_dying_makes_the_daemon_unhealthy() {
        let h = Health::default();
        let t0 = Instant::now();
        for i in 0..CRASH_LOOP - 1 {
            h.worker_failed_at("imap", t0 + Duration::from_secs(i as u64));
        }
        assert!(h.live(), "four failures are not yet a crash loop");
        h.worker_failed_at("imap", t0 + Duration::from_secs(10));
        assert!(!h.live());
        let s = h.snapshot();
        assert!(!s.live && s.workers["imap"].crash_looping);
        assert_eq!(h.restarts()["imap"], CRASH_LOOP as u64);
    }

    #[test]
    fn failures_spread_over_time_are_not_a_crash_loop() {
        let h = Health::default();
        let t0 = Instant::now() - CRASH_WINDOW * 10;
        for i in 0..CRASH_LOOP as u32 {
            h.worker_failed_at("sync", t0 + CRASH_WINDOW * i);
        }
        assert!(h.live());
    }

    #[test]
    fn readiness_waits_for_every_component_and_allows_a_grace() {
        let h = Health::default();
        let needs = [
            Need {
                component: "matrix",
                grace: Duration::ZERO,
                leader_only: false,
            },
            Need {
                component: "imap",
                grace: Duration::from_secs(30),
                leader_only: true,
            },
        ];
        let r = h.readiness(&needs);
        assert!(
            !r.ready && r.failing == ["matrix"],
            "a standby needs no IMAP: {r:?}"
        );
        h.set_leader(true);
        let r = h.readiness(&needs);
        assert!(!r.ready && r.failing == ["matrix", "imap"], "{r:?}");
        h.set("matrix", true);
        h.set("imap", true);
        assert!(h.readiness(&needs).ready);
        h.set("imap", false);
        let now = Instant::now();
        assert!(h.readiness_at(&needs, now).ready, "within the grace");
        let later = now + Duration::from_secs(31);
        assert_eq!(h.readiness_at(&needs, later).failing, ["imap"]);
        h.set("matrix", false);
        assert_eq!(h.readiness_at(&needs, now).failing, ["matrix"]);
    }

    #[test]
    fn components_report_their_state() {
        let h = Health::default();
        h.set("imap", false);
        h.set("matrix", true);
        let s = h.snapshot();
        assert!(!s.components["imap"]);
        assert!(h.component("matrix").unwrap().ok);
        assert!(h.component("nope").is_none());
    }
}
