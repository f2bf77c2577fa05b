//! The systemd notify protocol for `up`: READY=1 once the manifest's units
//! are adopted or started, STATUS= lines, STOPPING=1, and WATCHDOG=1 pings
//! sent only while the supervisor answers. Nothing happens without
//! `NOTIFY_SOCKET`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sd_notify::NotifyState;
use stevedore::{SupervisorHandle, UnitState};

/// Tells the service manager about `up`, when one listens.
#[derive(Debug, Clone, Copy)]
pub struct Notifier {
    enabled: bool,
}

impl Notifier {
    /// A notifier that speaks when `NOTIFY_SOCKET` is set.
    pub fn from_env() -> Self {
        Notifier {
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some(),
        }
    }

    fn send(&self, states: &[NotifyState]) {
        // Once: a socket that is gone (`up -d` removes its own once the
        // background `up` is ready) would otherwise warn at every change.
        static WARNED: AtomicBool = AtomicBool::new(false);
        if self.enabled
            && let Err(error) = sd_notify::notify(states)
            && !WARNED.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(%error, "could not notify the service manager (further failures are not reported)");
        }
    }

    /// Every unit is adopted or started (or waits, or failed, and says why).
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// A new one-line status.
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// A reload (SIGHUP) begins; `ready` ends it.
    pub fn reloading(&self) {
        self.send(&[NotifyState::Reloading]);
    }

    /// The shutdown begins.
    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("shutting down")]);
    }

    /// Pings the watchdog every half period while `responsive` says the
    /// supervisor answers; returns when the watchdog is off.
    pub async fn watchdog<F, Fut>(&self, responsive: F)
    where
        F: Fn(Duration) -> Fut,
        Fut: Future<Output = bool>,
    {
        let Some(period) = self.enabled.then(sd_notify::watchdog_enabled).flatten() else {
            return;
        };
        watchdog_loop(period, responsive, || self.send(&[NotifyState::Watchdog])).await;
    }
}

/// Every `period / 2`, asks `responsive` (which must answer within that half
/// period) and pings only when it says yes: a wedged supervisor stops
/// pinging, and the service manager restarts it.
pub async fn watchdog_loop<F, Fut>(period: Duration, responsive: F, ping: impl Fn())
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = bool>,
{
    let half = period / 2;
    let mut tick = tokio::time::interval(half);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if responsive(half).await {
            ping();
        }
    }
}

/// One line from a live list: how many units, and how many in each state.
pub async fn summary(supervisor: &SupervisorHandle) -> String {
    match supervisor.list().await {
        Ok(units) => describe(units.iter().map(|unit| unit.state)),
        Err(_) => "units unknown: the engine does not answer".to_string(),
    }
}

/// `3 units: 2 running, 1 waiting` (states in name order).
pub fn describe(states: impl Iterator<Item = UnitState>) -> String {
    let mut counts: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut total = 0;
    for state in states {
        *counts.entry(state.as_str()).or_default() += 1;
        total += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    format!(
        "{total} unit{}: {}",
        if total == 1 { "" } else { "s" },
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use actix::prelude::*;

    /// An actor whose mailbox is stuck behind a wait that never ends, as a
    /// wedged registry's would be.
    struct Wedged;

    impl Actor for Wedged {
        type Context = Context<Self>;
    }

    #[derive(Message)]
    #[rtype(result = "()")]
    struct Ask;

    impl Handler<Ask> for Wedged {
        type Result = ();
        fn handle(&mut self, _: Ask, ctx: &mut Context<Self>) {
            ctx.wait(actix::fut::wrap_future(std::future::pending::<()>()));
        }
    }

    async fn answers(actor: Addr<Wedged>, within: Duration) -> bool {
        matches!(
            tokio::time::timeout(within, actor.send(Ask)).await,
            Ok(Ok(()))
        )
    }

    #[test]
    fn the_status_line_counts_units_per_state() {
        use UnitState::*;
        assert_eq!(
            describe([Running, Waiting, Running].into_iter()),
            "3 units: 2 running, 1 waiting"
        );
        assert_eq!(describe([Failed].into_iter()), "1 unit: 1 failed");
        assert_eq!(describe(std::iter::empty()), "0 units: none");
    }

    #[actix::test]
    async fn watchdog_pings_stop_once_the_supervisor_stops_answering() {
        tokio::time::pause();
        let actor = Wedged.start();
        let pings = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&pings);
        let probe = |within| answers(actor.clone(), within);
        let watchdog = watchdog_loop(Duration::from_millis(100), probe, move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        // The first ask wedges the actor: only that first one is answered
        // (`handle` returns at once; the wait holds every later message).
        let _ = tokio::time::timeout(Duration::from_millis(600), watchdog).await;
        assert_eq!(pings.load(Ordering::SeqCst), 1);
    }

    #[actix::test]
    async fn watchdog_pings_every_half_period_while_the_supervisor_answers() {
        tokio::time::pause();
        let pings = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&pings);
        let watchdog = watchdog_loop(
            Duration::from_millis(100),
            |_| async { true },
            move || {
                counted.fetch_add(1, Ordering::SeqCst);
            },
        );
        let _ = tokio::time::timeout(Duration::from_millis(275), watchdog).await;
        // Paused time: ticks at 0, 50, 100, 150, 200 and 250 ms.
        assert_eq!(pings.load(Ordering::SeqCst), 6);
    }
}
