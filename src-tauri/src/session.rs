//! The unlocked store and everything that decides when it locks. The database key lives only in
//! the `Store` held here: locking drops it, and the UI is told to clear every screen.

use crate::error::{AppError, Result};
use crate::settings::{Settings, SettingsFile};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tauri::{AppHandle, Emitter, Runtime};
use wardside_domain::rules::Rules;
use wardside_store::{Passphrase, Store, Tuning};

/// The app keeps a smaller page cache than the CLI and benchmarks (64 MiB): the caseload and a
/// case need a few MiB of pages, and the laptop's memory is shared with WebKit
/// (docs/PERFORMANCE.md, app benchmark).
const APP_TUNING: Tuning = Tuning {
    cache_kib: 8 * 1024,
};

/// How long a person's save may wait for the sync's transaction of the moment (the sync writes
/// in short transactions; this only makes sure a save never fails because of one).
const PERSON_BUSY_WAIT: Duration = Duration::from_secs(30);

/// The event the UI listens for; its payload is the [`LockReason`].
pub const LOCKED_EVENT: &str = "locked";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockReason {
    /// The lock button or Ctrl+L.
    Manual,
    /// Nobody touched the keyboard or mouse for the idle timeout.
    Idle,
    /// The laptop was suspended (lid closed) and has woken up.
    Suspend,
}

/// What the lock screen may know while locked: whether a store exists, never its content.
#[derive(Debug, Clone, Serialize)]
pub struct SessionStatus {
    pub store_exists: bool,
    pub unlocked: bool,
    pub store_path: PathBuf,
    /// Only when started with `--demo`: the demo store's published passphrase.
    pub demo_passphrase: Option<String>,
    pub settings: Settings,
    /// The app's clock (UK local time, `WARDSIDE_NOW` when set): the forms' "today" and "now"
    /// come from here, never from the webview's own clock, so they agree with the store.
    pub now: chrono::NaiveDateTime,
}

/// The unlocked store, and when it locks.
///
/// The store is open twice: the person's handle, which every screen uses, and the sync's own
/// (a second connection to the same encrypted file, made from the first with
/// [`Store::reopen`]). A sync (minutes, on a first sync) never holds the person's handle, so
/// reading, searching and saving go on while it runs: SQLite's write-ahead log lets the person
/// read beside the sync's writes, and a save waits only for the sync's current transaction.
///
/// Locking never waits: `lock` marks the session locked at once (every command is refused
/// from that instant and the UI is told), tells the sync to stop ([`Session::sync_cancel`]: it
/// stops within a second, between requests or by abandoning the one in flight), and each
/// handle (with the key) is dropped by whichever holds it: the lock itself if it is free, or
/// the command or sync using it as it returns.
#[derive(Debug)]
pub struct Session {
    db: PathBuf,
    demo_passphrase: Option<String>,
    pub(crate) rules: Rules,
    store: Mutex<Option<Store>>,
    /// The sync's handle on the same store, made on first use. Whoever needs both takes this
    /// one first.
    sync_store: Mutex<Option<Store>>,
    /// Whether the store is unlocked, readable without waiting for the store's mutex.
    unlocked: AtomicBool,
    /// Set by `lock` while a sync holds the store: whoever next holds it drops it.
    lock_pending: AtomicBool,
    /// Stops a running sync.
    pub(crate) sync_cancel: wardside_sync_client::Cancel,
    last_touch: Mutex<Instant>,
    pub(crate) settings: SettingsFile,
}

impl Session {
    pub fn new(
        db: PathBuf,
        rules: Rules,
        settings: SettingsFile,
        demo_passphrase: Option<String>,
    ) -> Self {
        Session {
            db,
            demo_passphrase,
            rules,
            store: Mutex::new(None),
            sync_store: Mutex::new(None),
            unlocked: AtomicBool::new(false),
            lock_pending: AtomicBool::new(false),
            sync_cancel: wardside_sync_client::Cancel::new(),
            last_touch: Mutex::new(Instant::now()),
            settings,
        }
    }

    fn guard(&self) -> Result<MutexGuard<'_, Option<Store>>> {
        // A panic while holding the store cannot leave it half-written (SQLite rolls back an
        // unfinished transaction), so a poisoned lock is still usable.
        Ok(self.store.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn sync_guard(&self) -> MutexGuard<'_, Option<Store>> {
        self.sync_store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The store, unless a lock is pending: then it is dropped now (the lock completes) and
    /// the caller is refused.
    fn open_store<'g>(
        &self,
        guard: &'g mut MutexGuard<'_, Option<Store>>,
    ) -> Result<&'g mut Store> {
        if self.lock_pending.load(Ordering::SeqCst) {
            Self::drop_store(guard);
            return Err(AppError::locked());
        }
        guard.as_mut().ok_or_else(AppError::locked)
    }

    fn drop_store(guard: &mut MutexGuard<'_, Option<Store>>) {
        if let Some(store) = guard.take() {
            // Closing flushes the WAL; if that fails the key is still dropped with it.
            let _ = store.lock();
        }
    }

    /// After work on the store: if a lock came meanwhile, finish it.
    fn settle(&self, guard: &mut MutexGuard<'_, Option<Store>>) {
        if self.lock_pending.load(Ordering::SeqCst) {
            Self::drop_store(guard);
        }
    }

    pub fn status(&self) -> Result<SessionStatus> {
        Ok(SessionStatus {
            store_exists: self.db.exists(),
            unlocked: self.is_unlocked(),
            store_path: self.db.clone(),
            demo_passphrase: self.demo_passphrase.clone(),
            settings: self.settings.get(),
            now: wardside_store::clock::Clock::from_env()
                .unwrap_or_default()
                .uk_now(),
        })
    }

    /// Run `f` on the unlocked store; refused while locked. Counts as activity.
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> wardside_store::Result<T>,
    ) -> Result<T> {
        let mut guard = self.guard()?;
        let store = self.open_store(&mut guard)?;
        self.touch();
        let out = f(store);
        self.settle(&mut guard);
        Ok(out?)
    }

    /// Run work whose errors are not the store's (an export) on the unlocked store.
    pub fn with_store_as<T, E>(&self, f: impl FnOnce(&mut Store) -> Result<T, E>) -> Result<T>
    where
        AppError: From<E>,
    {
        let mut guard = self.guard()?;
        let store = self.open_store(&mut guard)?;
        self.touch();
        let out = f(store);
        self.settle(&mut guard);
        Ok(out?)
    }

    /// Read on the person's handle without counting as activity (the sync line's counts,
    /// refreshed by timers and background syncs, must not keep the idle lock away).
    pub fn with_store_quiet<T>(
        &self,
        f: impl FnOnce(&mut Store) -> wardside_sync_client::Result<T>,
    ) -> Result<T> {
        let mut guard = self.guard()?;
        let store = self.open_store(&mut guard)?;
        let out = f(store);
        self.settle(&mut guard);
        Ok(out?)
    }

    /// Run a sync step (network and all) on the sync's own handle, so that the person's
    /// screens never wait for it. Sync steps take turns with each other. `by_person` says
    /// whether it counts as activity (background sync must not keep the idle lock away).
    pub fn with_store_sync<T>(
        &self,
        by_person: bool,
        f: impl FnOnce(&mut Store) -> wardside_sync_client::Result<T>,
    ) -> Result<T> {
        let mut guard = self.sync_guard();
        if self.lock_pending.load(Ordering::SeqCst) {
            Self::drop_store(&mut guard);
            return Err(AppError::locked());
        }
        if guard.is_none() {
            let mut person = self.guard()?;
            let handle = self.open_store(&mut person)?.reopen(APP_TUNING);
            self.settle(&mut person);
            *guard = Some(handle?);
        }
        let store = guard.as_mut().ok_or_else(AppError::locked)?;
        if by_person {
            self.touch();
        }
        let out = f(store);
        // Enrolling again gives this laptop a new device id, which a handle keeps in memory:
        // the person's handle is made again so that their next change carries the new one.
        if out.is_ok() {
            let mut person = self.guard()?;
            if let Some(p) = person.as_mut()
                && p.device_id() != store.device_id()
            {
                let again = store.reopen(APP_TUNING)?;
                again.set_busy_timeout(PERSON_BUSY_WAIT)?;
                *person = Some(again);
            }
        }
        self.settle(&mut guard);
        Ok(out?)
    }

    /// Options for a sync that a lock can stop.
    pub fn sync_options(
        &self,
        base: wardside_sync_client::Options,
    ) -> wardside_sync_client::Options {
        wardside_sync_client::Options {
            cancel: self.sync_cancel.clone(),
            ..base
        }
    }

    pub fn create(&self, advocate: &str, pass: &str, confirm: &str) -> Result<()> {
        let pass = Passphrase::new(pass);
        if !pass.matches(&Passphrase::new(confirm)) {
            return Err(AppError::invalid(
                "The two passphrases are different. Type the same passphrase in both boxes.",
            ));
        }
        let store = Store::create(&self.db, &pass, advocate)?;
        self.install(store)
    }

    pub fn unlock(&self, pass: &str) -> Result<()> {
        let store = Store::unlock_with(&self.db, &Passphrase::new(pass), APP_TUNING)?;
        self.install(store)
    }

    /// Rewrap the key under a new passphrase (the database is not rewritten). Needs the store
    /// unlocked and the current passphrase, so a laptop left unlocked cannot be taken over.
    pub fn change_passphrase(&self, old: &str, new: &str, confirm: &str) -> Result<()> {
        let new = Passphrase::new(new);
        if !new.matches(&Passphrase::new(confirm)) {
            return Err(AppError::invalid(
                "The two new passphrases are different. Type the same one in both boxes.",
            ));
        }
        self.with_store(|_| Ok(()))?;
        Ok(Store::change_passphrase(
            &self.db,
            &Passphrase::new(old),
            &new,
        )?)
    }

    fn install(&self, store: Store) -> Result<()> {
        store.set_busy_timeout(PERSON_BUSY_WAIT)?;
        // A sync still letting go of the old store's handle (a lock stopped it) finishes first.
        Self::drop_store(&mut self.sync_guard());
        let mut guard = self.guard()?;
        // A lock that was still waiting for a sync to let go of the old store finishes first.
        Self::drop_store(&mut guard);
        self.sync_cancel.reset();
        self.lock_pending.store(false, Ordering::SeqCst);
        *guard = Some(store);
        self.unlocked.store(true, Ordering::SeqCst);
        self.touch();
        Ok(())
    }

    /// Lock now, without waiting for anything: from this instant every command is refused; a
    /// running sync is told to stop; the store (and with it the key) is dropped here if it is
    /// free, or by the sync as it returns (within a second). Returns whether it was unlocked.
    pub fn lock(&self) -> bool {
        let was = self.unlocked.swap(false, Ordering::SeqCst);
        self.lock_pending.store(true, Ordering::SeqCst);
        self.sync_cancel.cancel();
        if let Ok(mut guard) = self.store.try_lock() {
            Self::drop_store(&mut guard);
        }
        if let Ok(mut guard) = self.sync_store.try_lock() {
            Self::drop_store(&mut guard);
        }
        was
    }

    /// Whether either handle on the store is still held (a lock is waiting for a sync to let
    /// go of it): for tests.
    #[doc(hidden)]
    pub fn store_held(&self) -> bool {
        self.store.try_lock().map_or(true, |g| g.is_some())
            || self.sync_store.try_lock().map_or(true, |g| g.is_some())
    }

    pub fn touch(&self) {
        *self.last_touch.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_touch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    pub fn is_unlocked(&self) -> bool {
        self.unlocked.load(Ordering::SeqCst)
    }
}

/// Lock and tell the UI why.
pub fn lock_and_notify<R: Runtime>(app: &AppHandle<R>, session: &Session, reason: LockReason) {
    if session.lock() || reason == LockReason::Manual {
        let _ = app.emit(LOCKED_EVENT, reason);
    }
}

/// One reading of both clocks. On Linux `Instant` stops while the machine is suspended and the
/// wall clock does not, so a gap between them means the laptop slept.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    pub mono: Instant,
    pub wall: SystemTime,
}

impl Tick {
    pub fn now() -> Self {
        Tick {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// More wall-clock time than this beyond the monotonic clock between two ticks is a suspend.
pub const SUSPEND_GAP: Duration = Duration::from_secs(5);

/// Whether the watcher should lock now.
pub fn lock_reason(
    previous: Tick,
    now: Tick,
    idle_for: Duration,
    idle_limit: Duration,
) -> Option<LockReason> {
    let mono = now.mono.saturating_duration_since(previous.mono);
    let wall = now.wall.duration_since(previous.wall).unwrap_or_default();
    if wall.saturating_sub(mono) > SUSPEND_GAP {
        Some(LockReason::Suspend)
    } else if idle_for >= idle_limit {
        Some(LockReason::Idle)
    } else {
        None
    }
}

/// Checks once a second whether to lock (idle timeout, suspend), for as long as the app runs.
pub fn spawn_watcher<R: Runtime>(app: AppHandle<R>) {
    use tauri::Manager;
    std::thread::Builder::new()
        .name("wardside-lock-watcher".into())
        .spawn(move || {
            let mut previous = Tick::now();
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let now = Tick::now();
                let session = app.state::<Session>();
                if session.is_unlocked() {
                    let limit = session.settings.get().idle_limit();
                    if let Some(reason) = lock_reason(previous, now, session.idle_for(), limit) {
                        lock_and_notify(&app, &session, reason);
                    }
                }
                previous = now;
            }
        })
        .expect("the lock watcher thread starts");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_between_wall_and_monotonic_time_is_a_suspend() {
        let start = Tick::now();
        let later = Tick {
            mono: start.mono + Duration::from_secs(1),
            wall: start.wall + Duration::from_secs(600),
        };
        assert_eq!(
            lock_reason(start, later, Duration::ZERO, Duration::from_secs(300)),
            Some(LockReason::Suspend)
        );
    }

    #[test]
    fn idle_locks_at_the_limit_and_not_before() {
        let start = Tick::now();
        let later = Tick {
            mono: start.mono + Duration::from_secs(1),
            wall: start.wall + Duration::from_secs(1),
        };
        let limit = Duration::from_secs(300);
        assert_eq!(
            lock_reason(start, later, Duration::from_secs(299), limit),
            None
        );
        assert_eq!(
            lock_reason(start, later, limit, limit),
            Some(LockReason::Idle)
        );
    }

    #[test]
    fn a_wall_clock_set_backwards_is_not_a_suspend() {
        let start = Tick::now();
        let later = Tick {
            mono: start.mono + Duration::from_secs(1),
            wall: start.wall - Duration::from_secs(3600),
        };
        assert_eq!(
            lock_reason(start, later, Duration::ZERO, Duration::from_secs(300)),
            None
        );
    }
}
