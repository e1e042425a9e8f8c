//! Idle tracking for one upstream connection: who is using it, since when it is unused, and
//! the one-way retirement that lets it close without failing a request.
//!
//! The race to avoid: a request takes a connection from the pool just as the connection's
//! idle timer decides to close it, and then fails on a connection that was healthy. Both
//! sides therefore go through one atomic word, `users`: a request enters with a
//! `fetch_add` and the timer retires with a compare-and-swap from exactly 0 to [`RETIRED`].
//! The atomic's single modification order decides who came first:
//!
//! - the request first: `users` is no longer 0, the swap fails and the connection stays open
//!   until that request (and any other) has finished and it has idled again;
//! - the retirement first: the request's `fetch_add` sees the [`RETIRED`] bit, takes no lease,
//!   and the pool opens a fresh connection for it (under the slot lock, so concurrent callers
//!   share that fresh one).
//!
//! A retired connection has nothing in flight and admits nothing more, so closing it loses no
//! request. Its count may still creep up by refused `fetch_add`s; it is never read again.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The `users` bit that marks a connection retired; far above any real request count.
const RETIRED: usize = 1 << (usize::BITS - 1);

/// Requests using one connection, and when it was last used.
#[derive(Debug)]
pub(crate) struct Usage {
    /// Requests holding a lease, plus [`RETIRED`] once the connection is retired.
    users: AtomicUsize,
    /// Nanoseconds after `born` at which the last lease ended (or the connection opened).
    last_used: AtomicU64,
    /// Clock origin for `last_used`; a tokio instant so a paused test clock applies.
    born: Instant,
    /// Woken when `users` drops to 0, so the idle timer sleeps only when there is idling
    /// to time and a busy connection costs no timer wake-ups.
    idle: Notify,
}

impl Usage {
    /// Usage of a new connection, already leased once to the request that opened it, so
    /// its idle timer cannot retire it before that request is sent.
    pub(crate) fn leased_once() -> Usage {
        Usage {
            users: AtomicUsize::new(1),
            last_used: AtomicU64::new(0),
            born: Instant::now(),
            idle: Notify::new(),
        }
    }

    /// Counts one more request; false (and nothing to release) once retired.
    pub(crate) fn try_lease(&self) -> bool {
        self.users.fetch_add(1, AcqRel) & RETIRED == 0
    }

    /// Ends a lease taken by [`Usage::try_lease`] or [`Usage::leased_once`].
    pub(crate) fn release(&self) {
        // Stamped before the count drops, so the timer never sees 0 with an older stamp.
        self.last_used.fetch_max(self.now(), AcqRel);
        if self.users.fetch_sub(1, AcqRel) == 1 {
            self.idle.notify_one();
        }
    }

    /// Returns once the connection has had no lease for `timeout` and is retired; after
    /// that no lease is granted. One timer per connection, only armed while it is idle.
    pub(crate) async fn retired_after(&self, timeout: Duration) {
        loop {
            if self.users.load(Acquire) != 0 {
                // A wake-up left from an earlier drop to 0 only costs one more check.
                self.idle.notified().await;
                continue;
            }
            match self.idle_deadline(timeout) {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                // Beyond the clock's range: the connection never idles out.
                None => std::future::pending().await,
            }
            if self.try_retire(timeout) {
                return;
            }
        }
    }

    /// When the connection idles out if nothing uses it; `None` if never representable.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        let since = Duration::from_nanos(self.last_used.load(Acquire));
        self.born.checked_add(since.checked_add(timeout)?)
    }

    /// Retires the connection if it is unused and has been for `timeout`.
    pub(crate) fn try_retire(&self, timeout: Duration) -> bool {
        if self
            .idle_deadline(timeout)
            .is_none_or(|d| Instant::now() < d)
        {
            return false;
        }
        // Only from exactly 0: a request that leased meanwhile keeps the connection open.
        // One that leased and released in between is no harm: nothing is in flight.
        self.users
            .compare_exchange(0, RETIRED, AcqRel, Acquire)
            .is_ok()
    }

    /// Nanoseconds since `born`.
    fn now(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const T: Duration = Duration::from_millis(200);

    /// Spawns the idle timer of `usage`, which ends when the connection is retired.
    fn timer(usage: &Arc<Usage>, timeout: Duration) -> tokio::task::JoinHandle<()> {
        let usage = usage.clone();
        tokio::spawn(async move { usage.retired_after(timeout).await })
    }

    /// Lets spawned tasks run (and the paused clock reach due timers) without advancing it.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retires_after_the_timeout_and_then_refuses_leases() {
        let usage = Arc::new(Usage::leased_once());
        let timer = timer(&usage, T);
        usage.release();
        tokio::time::advance(T - Duration::from_millis(1)).await;
        settle().await;
        assert!(!timer.is_finished(), "retired early");
        tokio::time::advance(Duration::from_millis(1)).await;
        settle().await;
        assert!(timer.is_finished(), "not retired at the timeout");
        assert!(
            !usage.try_lease(),
            "a retired connection must refuse leases"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn never_retires_while_leased() {
        let usage = Arc::new(Usage::leased_once());
        let timer = timer(&usage, T);
        tokio::time::advance(T * 10).await;
        settle().await;
        assert!(!timer.is_finished(), "retired a connection in use");
        assert!(usage.try_lease());
        usage.release();
        usage.release();
        tokio::time::advance(T).await;
        settle().await;
        assert!(timer.is_finished(), "not retired once idle for the timeout");
    }

    #[tokio::test(start_paused = true)]
    async fn activity_restarts_the_idle_period() {
        let usage = Arc::new(Usage::leased_once());
        let timer = timer(&usage, T);
        usage.release();
        for _ in 0..5 {
            tokio::time::advance(T / 2).await;
            assert!(usage.try_lease(), "refused while not idle for the timeout");
            usage.release();
            settle().await;
        }
        assert!(
            !timer.is_finished(),
            "retired despite activity every half period"
        );
        tokio::time::advance(T).await;
        settle().await;
        assert!(timer.is_finished());
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_taken_at_the_deadline_wins_over_retirement() {
        let usage = Arc::new(Usage::leased_once());
        usage.release();
        tokio::time::advance(T).await;
        // The timer is due, but a request leases before it runs: it must not retire.
        assert!(usage.try_lease());
        assert!(!usage.try_retire(T));
        usage.release();
        assert!(usage.try_retire(Duration::ZERO));
        assert!(!usage.try_lease());
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_timeout_retires_as_soon_as_unused() {
        let usage = Arc::new(Usage::leased_once());
        let timer = timer(&usage, Duration::ZERO);
        settle().await;
        assert!(!timer.is_finished());
        usage.release();
        settle().await;
        assert!(timer.is_finished());
    }
}
