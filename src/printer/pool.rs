//! The configured printers, grouped in pools, with what the spooler knows of each: its health
//! (from polling and from what its jobs ran into), whether staff paused it, and how many jobs
//! it has in hand.
//!
//! Dispatch takes the next healthy, idle printer of a pool ([`Printers::acquire`]); among equals
//! the one that was given a job longest ago (round-robin). A printer has at most `max_jobs`
//! jobs at once (one, for a card printer). A [`Lease`] holds one such slot until dropped.
//!
//! A fault stops a printer until polling sees its reasons clear, or staff resume it. Resuming
//! acknowledges the reasons the printer reports at that moment: many printers (ippeveprinter
//! among them) go on reporting a cleared jam until their next job, so a reason staff resumed
//! over stops the printer again only if it goes away and comes back, or a job aborts.

use crate::i18n::Lang;
use crate::tr;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::{Fault, Printer, PrinterError, PrinterStatus};
use crate::config::{PrinterConfig, PrintingConfig};

/// A configured printer.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    pub pool: String,
    pub max_jobs: u32,
    pub printer: Printer,
}

/// What the spooler makes of a printer's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Not asked yet: takes no job until the first answer.
    Unchecked,
    Ready,
    Faulted {
        faults: Vec<Fault>,
        since: DateTime<Utc>,
    },
}

impl Health {
    pub fn is_ready(&self) -> bool {
        matches!(self, Health::Ready)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub by: String,
    pub since: DateTime<Utc>,
    /// Why, as staff said it (shown to the others).
    pub reason: Option<String>,
}

#[derive(Debug)]
struct Runtime {
    in_flight: u32,
    last_assigned: u64,
    health: Health,
    paused: Option<Pause>,
    acknowledged: Vec<String>,
    last_status: Option<PrinterStatus>,
    checked_at: Option<DateTime<Utc>>,
}

impl Runtime {
    /// Healthy, not paused, a slot free.
    fn can_take_a_job(&self, entry: &Entry) -> bool {
        self.health.is_ready() && self.paused.is_none() && self.in_flight < entry.max_jobs
    }
}

/// A printer as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterView {
    pub name: String,
    pub pool: String,
    pub uri: String,
    pub max_jobs: u32,
    pub in_flight: u32,
    pub health: Health,
    pub paused: Option<Pause>,
    /// The printer's own reasons, as last reported (severity stripped).
    pub reasons: Vec<String>,
    /// Reasons staff resumed the printer over.
    pub acknowledged: Vec<String>,
    pub message: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
}

impl PrinterView {
    /// Whether the printer takes a job now, and if not the first reason why, in words.
    pub fn status_text(&self) -> String {
        match (&self.health, &self.paused) {
            (Health::Faulted { faults, .. }, _) => {
                let faults = faults.iter().map(Fault::label).collect::<Vec<_>>().join(", ");
                tr!(Lang::En, "said-printer-faulted", faults = faults)
            }
            (_, Some(pause)) => match &pause.reason {
                Some(reason) => tr!(Lang::En, "said-printer-paused-by-because", staff = &pause.by, typed = reason),
                None => tr!(Lang::En, "said-printer-paused-by", staff = &pause.by),
            },
            (Health::Unchecked, None) => tr!(Lang::En, "said-printer-not-checked"),
            (Health::Ready, None) if self.in_flight >= self.max_jobs => {
                tr!(Lang::En, "said-printer-busy", count = self.in_flight, max = self.max_jobs)
            }
            (Health::Ready, None) => tr!(Lang::En, "said-printer-ready"),
        }
    }
}

/// How a printer's health changed, for the log and the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthChange {
    Stopped(Vec<Fault>),
    Recovered,
}

#[derive(Debug, Clone)]
pub struct Printers {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: Vec<Entry>,
    runtime: Mutex<(u64, Vec<Runtime>)>,
}

/// One job slot on one printer; given back when dropped, or before when the printer holds
/// nothing more of the job.
#[derive(Debug)]
pub struct Lease {
    printers: Printers,
    index: usize,
    slot_given_back: AtomicBool,
}

impl Lease {
    /// Frees the slot now while the lease still names the printer: for a job the printer
    /// finished as it took it (a hot folder's card), whose outcome is still to be journaled.
    pub fn give_back_slot(&self) {
        if !self.slot_given_back.swap(true, Ordering::Relaxed) {
            let mut runtime = self.printers.lock();
            let slot = &mut runtime.1[self.index];
            slot.in_flight = slot.in_flight.saturating_sub(1);
        }
    }

    pub fn name(&self) -> &str {
        &self.printers.inner.entries[self.index].name
    }

    pub fn printer(&self) -> &Printer {
        &self.printers.inner.entries[self.index].printer
    }

    pub fn pool(&self) -> &str {
        &self.printers.inner.entries[self.index].pool
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.give_back_slot();
    }
}

impl Printers {
    /// The printers of the configuration, none checked yet.
    ///
    /// # Errors
    /// [`PrinterError::BadUri`] naming the first printer whose URI is unusable.
    pub fn from_config(configs: &[PrinterConfig], printing: &PrintingConfig) -> Result<Printers, PrinterError> {
        let mut entries = Vec::with_capacity(configs.len());
        for config in configs {
            entries.push(Entry {
                name: config.name.clone(),
                pool: config.pool.clone(),
                max_jobs: config.max_jobs.max(1),
                printer: Printer::from_config(config, printing)?,
            });
        }
        Ok(Printers::new(entries))
    }

    pub fn new(entries: Vec<Entry>) -> Printers {
        let runtime = entries
            .iter()
            .map(|_| Runtime {
                in_flight: 0,
                last_assigned: 0,
                health: Health::Unchecked,
                paused: None,
                acknowledged: Vec::new(),
                last_status: None,
                checked_at: None,
            })
            .collect();
        Printers { inner: Arc::new(Inner { entries, runtime: Mutex::new((0, runtime)) }) }
    }

    fn lock(&self) -> MutexGuard<'_, (u64, Vec<Runtime>)> {
        // A panic while holding this lock leaves plain counters behind; they stay usable.
        self.inner.runtime.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.inner.entries.iter().position(|entry| entry.name == name)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.inner.entries
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.index(name).map(|i| &self.inner.entries[i])
    }

    pub fn has_pool(&self, pool: &str) -> bool {
        self.inner.entries.iter().any(|entry| entry.pool == pool)
    }

    /// The pools with a printer that could take a job now (healthy, unpaused, a slot free),
    /// each with the slots of its healthy, unpaused printers, busy or free: as many cards as the
    /// pool's printers can hold at once.
    pub fn pools_taking_jobs(&self) -> BTreeMap<String, u32> {
        let guard = self.lock();
        let entries = || self.inner.entries.iter().zip(&guard.1);
        let taking: BTreeSet<&str> = entries()
            .filter(|(entry, runtime)| runtime.can_take_a_job(entry))
            .map(|(entry, _)| entry.pool.as_str())
            .collect();
        let mut slots = BTreeMap::new();
        for (entry, runtime) in entries() {
            if taking.contains(entry.pool.as_str()) && runtime.health.is_ready() && runtime.paused.is_none() {
                *slots.entry(entry.pool.clone()).or_default() += entry.max_jobs;
            }
        }
        slots
    }

    /// The next healthy, unpaused printer of `pool` with a free slot: the one given a job
    /// longest ago. `None` when every printer of the pool is busy, stopped or paused.
    pub fn acquire(&self, pool: &str) -> Option<Lease> {
        self.acquire_where(pool, |_| true)
    }

    /// As [`Printers::acquire`], among the printers of `pool` that `allowed` names (a card that
    /// may not use a printer's reserve of blanks, say).
    pub fn acquire_where(&self, pool: &str, allowed: impl Fn(&str) -> bool) -> Option<Lease> {
        let mut guard = self.lock();
        let (counter, runtime) = &mut *guard;
        let index = self
            .inner
            .entries
            .iter()
            .enumerate()
            .filter(|(i, entry)| entry.pool == pool && runtime[*i].can_take_a_job(entry) && allowed(&entry.name))
            .min_by_key(|(i, _)| (runtime[*i].in_flight, runtime[*i].last_assigned))
            .map(|(i, _)| i)?;
        *counter += 1;
        runtime[index].last_assigned = *counter;
        runtime[index].in_flight += 1;
        drop(guard);
        Some(Lease { printers: self.clone(), index, slot_given_back: AtomicBool::new(false) })
    }

    /// A slot on the named printer if it could take a job now (healthy, not paused, a slot
    /// free): for a card meant for that printer only, such as a test card.
    pub fn acquire_named(&self, name: &str) -> Option<Lease> {
        let index = self.index(name)?;
        let entry = &self.inner.entries[index];
        let mut guard = self.lock();
        let slot = &mut guard.1[index];
        if !slot.can_take_a_job(entry) {
            return None;
        }
        slot.in_flight += 1;
        drop(guard);
        Some(Lease { printers: self.clone(), index, slot_given_back: AtomicBool::new(false) })
    }

    /// A slot on a named printer whatever its state: for a job that is already on it (being
    /// followed or reconciled), which counts against the printer's capacity.
    pub fn occupy(&self, name: &str) -> Option<Lease> {
        let index = self.index(name)?;
        self.lock().1[index].in_flight += 1;
        Some(Lease { printers: self.clone(), index, slot_given_back: AtomicBool::new(false) })
    }

    /// Takes in what a printer answered to a status request.
    pub fn observe(
        &self,
        name: &str,
        answer: &Result<PrinterStatus, PrinterError>,
        now: DateTime<Utc>,
    ) -> Option<HealthChange> {
        let index = self.index(name)?;
        let mut guard = self.lock();
        let slot = &mut guard.1[index];
        slot.checked_at = Some(now);
        let faults = match answer {
            Ok(status) => {
                let current = status.acknowledgeable();
                slot.acknowledged.retain(|reason| current.contains(reason));
                slot.last_status = Some(status.clone());
                status.faults(&slot.acknowledged)
            }
            // A busy printer is answering; its health has not changed.
            Err(PrinterError::Busy) => return None,
            Err(error @ (PrinterError::Unreachable(_) | PrinterError::InDoubt(_) | PrinterError::Io { .. })) => {
                slot.last_status = None;
                vec![Fault::Unreachable(error.to_string())]
            }
            Err(error) => {
                slot.last_status = None;
                vec![Fault::Other(error.to_string())]
            }
        };
        let change = set_health(slot, faults, now);
        drop(guard);
        log_change(name, change.as_ref());
        change
    }

    /// Stops a printer for faults its jobs ran into (an aborted job, a refused connection),
    /// whatever staff acknowledged before.
    pub fn fault(&self, name: &str, faults: Vec<Fault>, now: DateTime<Utc>) -> Option<HealthChange> {
        let index = self.index(name)?;
        let mut guard = self.lock();
        let slot = &mut guard.1[index];
        slot.acknowledged.clear();
        if faults.is_empty() {
            return None;
        }
        let change = set_health(slot, faults, now);
        drop(guard);
        log_change(name, change.as_ref());
        change
    }

    /// Asks every printer for its state, all at once, and takes the answers in.
    pub async fn poll(&self, now: DateTime<Utc>) {
        let answers =
            futures_util::future::join_all(self.inner.entries.iter().map(|entry| entry.printer.status())).await;
        for (entry, answer) in self.inner.entries.iter().zip(&answers) {
            self.observe(&entry.name, answer, now);
        }
    }

    /// Staff stop a printer taking jobs (its job in hand finishes). `false` for an unknown name.
    pub fn pause(&self, name: &str, by: &str, reason: Option<&str>, now: DateTime<Utc>) -> bool {
        let Some(index) = self.index(name) else { return false };
        self.lock().1[index].paused = Some(Pause { by: by.to_owned(), since: now, reason: reason.map(str::to_owned) });
        info!(printer = name, by, "printer paused by staff");
        true
    }

    /// Staff let a printer take jobs again, over the reasons it reports now (see the module
    /// documentation). An unreachable printer stays stopped until it answers. `false` for an
    /// unknown name.
    pub fn resume(&self, name: &str, by: &str, now: DateTime<Utc>) -> bool {
        let Some(index) = self.index(name) else { return false };
        let mut guard = self.lock();
        let slot = &mut guard.1[index];
        slot.paused = None;
        if let Some(status) = &slot.last_status {
            slot.acknowledged = status.acknowledgeable();
            let faults = status.faults(&slot.acknowledged);
            set_health(slot, faults, now);
        }
        drop(guard);
        info!(printer = name, by, "printer resumed by staff");
        true
    }

    /// Every printer as staff see it, in configuration order.
    pub fn snapshot(&self) -> Vec<PrinterView> {
        let guard = self.lock();
        self.inner
            .entries
            .iter()
            .zip(&guard.1)
            .map(|(entry, slot)| PrinterView {
                name: entry.name.clone(),
                pool: entry.pool.clone(),
                uri: entry.printer.display_uri(),
                max_jobs: entry.max_jobs,
                in_flight: slot.in_flight,
                health: slot.health.clone(),
                paused: slot.paused.clone(),
                reasons: slot.last_status.as_ref().map(|s| s.reasons.clone()).unwrap_or_default(),
                acknowledged: slot.acknowledged.clone(),
                message: slot.last_status.as_ref().and_then(|s| s.message.clone()),
                checked_at: slot.checked_at,
            })
            .collect()
    }

    /// One printer as staff see it.
    pub fn view(&self, name: &str) -> Option<PrinterView> {
        self.snapshot().into_iter().find(|view| view.name == name)
    }
}

fn set_health(slot: &mut Runtime, faults: Vec<Fault>, now: DateTime<Utc>) -> Option<HealthChange> {
    let was_ready = slot.health.is_ready();
    if faults.is_empty() {
        slot.health = Health::Ready;
        return (!was_ready).then_some(HealthChange::Recovered);
    }
    let since = match &slot.health {
        Health::Faulted { since, .. } => *since,
        _ => now,
    };
    let changed = !matches!(&slot.health, Health::Faulted { faults: old, .. } if *old == faults);
    slot.health = Health::Faulted { faults: faults.clone(), since };
    changed.then_some(HealthChange::Stopped(faults))
}

fn log_change(name: &str, change: Option<&HealthChange>) {
    match change {
        Some(HealthChange::Stopped(faults)) => {
            let faults: Vec<String> = faults.iter().map(Fault::label).collect();
            warn!(printer = name, faults = %faults.join(", "), "printer stopped");
        }
        Some(HealthChange::Recovered) => info!(printer = name, "printer ready"),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::folder::FolderPrinter;

    fn printers(specs: &[(&str, &str, u32)]) -> Printers {
        Printers::new(
            specs
                .iter()
                .map(|(name, pool, max_jobs)| Entry {
                    name: (*name).into(),
                    pool: (*pool).into(),
                    max_jobs: *max_jobs,
                    printer: Printer::Folder(FolderPrinter::new("/nonexistent")),
                })
                .collect(),
        )
    }

    fn ready(printers: &Printers, names: &[&str]) {
        for name in names {
            printers.observe(name, &Ok(PrinterStatus::idle()), Utc::now());
        }
    }

    fn jammed() -> PrinterStatus {
        let mut status = PrinterStatus::idle();
        status.reasons.push("media-jam".into());
        status
    }

    #[test]
    fn a_slot_given_back_early_is_freed_once() {
        let printers = printers(&[("a", "ektp", 1)]);
        ready(&printers, &["a"]);
        let lease = printers.acquire("ektp").unwrap();
        assert!(printers.acquire("ektp").is_none());
        lease.give_back_slot();
        assert_eq!(lease.name(), "a", "the lease still names its printer");
        let next = printers.acquire("ektp").expect("the slot is free for the next card");
        lease.give_back_slot();
        drop(lease);
        assert!(printers.acquire("ektp").is_none(), "given back once: the next card still holds the slot");
        drop(next);
        assert!(printers.acquire("ektp").is_some());
    }

    #[test]
    fn round_robin_among_idle_healthy_printers_of_the_pool() {
        let printers = printers(&[("a", "ektp", 1), ("b", "ektp", 1), ("c", "other", 1)]);
        assert!(printers.acquire("ektp").is_none(), "unchecked printers take no job");
        ready(&printers, &["a", "b", "c"]);
        let mut order = Vec::new();
        for _ in 0..4 {
            let lease = printers.acquire("ektp").unwrap();
            order.push(lease.name().to_owned());
        }
        assert_eq!(order, ["a", "b", "a", "b"]);
        let first = printers.acquire("ektp").unwrap();
        let second = printers.acquire("ektp").unwrap();
        assert_ne!(first.name(), second.name());
        assert!(printers.acquire("ektp").is_none(), "one job at a time per printer");
        drop(first);
        assert!(printers.acquire("ektp").is_some());
        assert!(printers.acquire("nope").is_none());
    }

    #[test]
    fn max_jobs_lets_a_printer_take_several() {
        let printers = printers(&[("a", "ektp", 2)]);
        ready(&printers, &["a"]);
        let _one = printers.acquire("ektp").unwrap();
        let _two = printers.acquire("ektp").unwrap();
        assert!(printers.acquire("ektp").is_none());
        assert_eq!(printers.view("a").unwrap().in_flight, 2);
    }

    #[test]
    fn a_fault_stops_a_printer_until_it_clears() {
        let printers = printers(&[("a", "ektp", 1), ("b", "ektp", 1)]);
        ready(&printers, &["a", "b"]);
        let change = printers.observe("a", &Ok(jammed()), Utc::now());
        assert_eq!(change, Some(HealthChange::Stopped(vec![Fault::MediaJam])));
        for _ in 0..3 {
            assert_eq!(printers.acquire("ektp").unwrap().name(), "b");
        }
        assert_eq!(printers.observe("a", &Ok(jammed()), Utc::now()), None, "no news is not a change");
        assert_eq!(printers.observe("a", &Ok(PrinterStatus::idle()), Utc::now()), Some(HealthChange::Recovered));
        let refused = Err(PrinterError::Unreachable("connection refused".into()));
        assert!(
            matches!(printers.observe("b", &refused, Utc::now()), Some(HealthChange::Stopped(f)) if matches!(f[..], [Fault::Unreachable(_)]))
        );
        assert_eq!(printers.acquire("ektp").unwrap().name(), "a");
    }

    #[test]
    fn staff_resume_over_a_reason_the_printer_still_reports() {
        let printers = printers(&[("a", "ektp", 1)]);
        printers.observe("a", &Ok(jammed()), Utc::now());
        assert!(printers.acquire("ektp").is_none());
        assert!(printers.resume("a", "rina", Utc::now()));
        assert!(printers.acquire("ektp").is_some());
        assert_eq!(printers.observe("a", &Ok(jammed()), Utc::now()), None, "acknowledged");
        // The next job jams again: the printer stops again although the reason never cleared.
        printers.fault("a", vec![Fault::MediaJam], Utc::now());
        assert!(printers.acquire("ektp").is_none());
        assert!(!printers.resume("zz", "rina", Utc::now()));
    }

    #[test]
    fn the_pools_taking_jobs_are_those_with_a_ready_unpaused_printer_with_a_slot_free() {
        let printers = printers(&[("a", "ektp", 2), ("b", "ektp", 3), ("k", "kia", 1), ("r", "rusak", 1)]);
        let pools = |printers: &Printers| printers.pools_taking_jobs().into_iter().collect::<Vec<_>>();
        assert!(pools(&printers).is_empty(), "unchecked printers take no job");
        ready(&printers, &["a", "b", "k"]);
        printers.observe("r", &Ok(jammed()), Utc::now());
        assert_eq!(pools(&printers), [("ektp".to_owned(), 5), ("kia".to_owned(), 1)]);
        let _on_k = printers.acquire("kia").unwrap();
        assert_eq!(pools(&printers), [("ektp".to_owned(), 5)], "`k` has no slot free");
        printers.pause("b", "rina", None, Utc::now());
        assert_eq!(pools(&printers), [("ektp".to_owned(), 2)], "a paused printer's slots are not the pool's now");
        let _on_a = printers.acquire("ektp").unwrap();
        assert_eq!(pools(&printers), [("ektp".to_owned(), 2)], "`a` has a slot free; its busy one counts too");
        let _also_on_a = printers.acquire("ektp").unwrap();
        assert_eq!(pools(&printers), [], "`a` is full and `b` paused");
    }

    #[test]
    fn paused_printers_take_no_jobs() {
        let printers = printers(&[("a", "ektp", 1)]);
        ready(&printers, &["a"]);
        assert!(printers.pause("a", "rina", None, Utc::now()));
        assert!(printers.acquire("ektp").is_none());
        assert_eq!(printers.view("a").unwrap().paused.unwrap().by, "rina");
        printers.resume("a", "rina", Utc::now());
        assert!(printers.acquire("ektp").is_some());
    }

    #[test]
    fn occupy_counts_a_job_already_on_the_printer() {
        let printers = printers(&[("a", "ektp", 1)]);
        ready(&printers, &["a"]);
        let held = printers.occupy("a").unwrap();
        assert!(printers.acquire("ektp").is_none());
        drop(held);
        assert!(printers.acquire("ektp").is_some());
        assert!(printers.occupy("zz").is_none());
    }
}
