//! The Registry actor: serializes ownership of one namespace. It keeps unit
//! names unique, spawns and ends Unit actors, writes the event router, adopts
//! the namespace's containers at start and answers `list` from the engine.

mod deps;
mod list;
mod ordering;
mod preflight;

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;
use futures::future::join_all;
use tokio::sync::oneshot;

use crate::engine::ContainerSnapshot;
use crate::gateway::{EventRouter, Gateway, ListContainers};
use crate::labels;
use crate::record::PhaseRecord;
use crate::spec::UnitSpec;
use crate::unit::machine::Adoption;
use crate::unit::{
    DependencySignal, Detach, EventBus, Flows, Origin, RestartMode, StopForShutdown, Unit,
    UnitCommand, UnitError, UnitEvent, UnitInit,
};

/// The Registry actor of one namespace.
pub struct Registry {
    namespace: String,
    gateway: Addr<Gateway>,
    router: Arc<EventRouter>,
    bus: Arc<EventBus>,
    units: HashMap<String, Addr<Unit>>,
    restart_mode: RestartMode,
    deps: deps::Tracker,
    /// The API version spoken with the engine, when known.
    api_version: Option<(u32, u32)>,
}

impl Registry {
    /// A registry of `namespace` whose units talk to `gateway` and are
    /// routed through `router`.
    pub fn new(namespace: String, gateway: Addr<Gateway>, router: Arc<EventRouter>) -> Self {
        Registry {
            namespace,
            gateway,
            router,
            bus: Arc::default(),
            units: HashMap::new(),
            restart_mode: RestartMode::Replace,
            deps: deps::Tracker::default(),
            api_version: None,
        }
    }

    /// The API version spoken with the engine: settings a older engine
    /// would drop without a word are refused.
    pub fn api_version(mut self, version: Option<(u32, u32)>) -> Self {
        self.api_version = version;
        self
    }

    /// How units restart: [`RestartMode::InPlace`] needs a phase record to
    /// keep the restart counts (see [`crate::record`]).
    pub fn restart_mode(mut self, mode: RestartMode) -> Self {
        self.restart_mode = mode;
        self
    }

    fn spawn_unit(&mut self, spec: UnitSpec, origin: Origin) -> Addr<Unit> {
        let name = spec.name.clone();
        let container_name = labels::container_name(&self.namespace, &name);
        let flows = Flows {
            gateway: self.gateway.clone(),
            namespace: self.namespace.clone(),
            container_name: container_name.clone(),
        };
        let readiness = self.deps.declare(&name, spec.depends_on.clone());
        let unit = Unit::new(UnitInit {
            flows,
            bus: Arc::clone(&self.bus),
            spec,
            origin,
            mode: self.restart_mode,
            readiness,
        })
        .start();
        self.router.insert(container_name, unit.clone().recipient());
        self.units.insert(name, unit.clone());
        unit
    }

    fn forget(&mut self, name: &str) {
        self.units.remove(name);
        self.router
            .remove(&labels::container_name(&self.namespace, name));
        let notices = self.deps.remove(name);
        self.deliver(notices);
    }
}

impl Actor for Registry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
        // The registry follows every unit's state, for their dependents.
        self.bus.subscribe(ctx.address().recipient());
    }
}

/// Adopts every container labelled with the namespace: one unit each, the
/// container kept as it is. Returns the adopted unit names; containers whose
/// labels cannot be read are reported and left alone.
#[derive(Debug, Default, Message)]
#[rtype(result = "Result<AdoptReport, UnitError>")]
pub struct Adopt {
    /// What the phase record says of each unit (stopped by hand stays
    /// stopped, a shutdown's stop starts again, counts carry on).
    pub recorded: HashMap<String, PhaseRecord>,
}

/// What adoption found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdoptReport {
    /// Units adopted, by name.
    pub adopted: Vec<String>,
    /// Containers left alone, with why.
    pub skipped: Vec<(String, String)>,
}

impl Handler<Adopt> for Registry {
    type Result = ResponseActFuture<Self, Result<AdoptReport, UnitError>>;

    fn handle(&mut self, mut adopt: Adopt, _: &mut Context<Self>) -> Self::Result {
        let list = self.gateway.send(ListContainers {
            namespace: self.namespace.clone(),
        });
        Box::pin(list.into_actor(self).map(move |listed, act, _| {
            let listed = listed.map_err(|_| UnitError::GatewayGone)??;
            let mut report = AdoptReport::default();
            for snapshot in listed {
                match adoptable(&act.namespace, &snapshot) {
                    Ok(spec) if !act.units.contains_key(&spec.name) => {
                        report.adopted.push(spec.name.clone());
                        let recorded = adopt.recorded.remove(&spec.name);
                        let adoption = Adoption { snapshot, recorded };
                        act.spawn_unit(spec, Origin::Adopted(Box::new(adoption)));
                    }
                    Ok(spec) => report.skipped.push((
                        snapshot.name,
                        format!("unit {} is already supervised", spec.name),
                    )),
                    Err(why) => report.skipped.push((snapshot.name, why)),
                }
            }
            if !report.skipped.is_empty() {
                tracing::warn!(skipped = ?report.skipped, "containers left alone at adoption");
            }
            Ok(report)
        }))
    }
}

/// The spec of a listed container, when it is one this namespace can adopt.
pub fn adoptable(namespace: &str, snapshot: &ContainerSnapshot) -> Result<UnitSpec, String> {
    let spec =
        labels::stored_spec(&snapshot.labels).ok_or("its spec label is missing or unreadable")?;
    if snapshot.name != labels::container_name(namespace, &spec.name) {
        return Err(format!("its name does not match its unit {}", spec.name));
    }
    Ok(spec)
}

/// Declares a unit: validated, then created and started. Answers once the
/// container runs, or with why it could not be started (in which case the
/// unit is not added and its container, if one was made, is removed).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), UnitError>")]
pub struct AddUnit(pub UnitSpec);

/// Declares a unit as a manifest does: like [`AddUnit`], but a unit that
/// could not be started (its image cannot be pulled, say) stays, `failed`
/// with the reason, until it is updated, started or removed.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), UnitError>")]
pub struct DeclareUnit(pub UnitSpec);

impl Handler<AddUnit> for Registry {
    // A plain future, not an actor future: actix polls every future held in
    // an actor's context on each wake-up, so ten thousand adds in flight
    // there would cost O(n²). The one state change after the await (a
    // rollback) comes back as a message.
    type Result = ResponseFuture<Result<(), UnitError>>;

    fn handle(&mut self, AddUnit(spec): AddUnit, ctx: &mut Context<Self>) -> Self::Result {
        self.add(spec, true, ctx)
    }
}

impl Handler<DeclareUnit> for Registry {
    type Result = ResponseFuture<Result<(), UnitError>>;

    fn handle(&mut self, DeclareUnit(spec): DeclareUnit, ctx: &mut Context<Self>) -> Self::Result {
        self.add(spec, false, ctx)
    }
}

impl Registry {
    /// Spawns the unit; answers with its first launch. With `rollback`, a
    /// unit that could not be started is removed again.
    fn add(
        &mut self,
        spec: UnitSpec,
        rollback: bool,
        ctx: &mut Context<Self>,
    ) -> ResponseFuture<Result<(), UnitError>> {
        if let Err(error) = self.check(&spec) {
            return Box::pin(futures::future::ready(Err(error)));
        }
        if self.units.contains_key(&spec.name) {
            return Box::pin(futures::future::ready(Err(UnitError::AlreadyExists(
                spec.name,
            ))));
        }
        let name = spec.name.clone();
        let (tx, rx) = oneshot::channel();
        let unit = self.spawn_unit(spec, Origin::Fresh { reply: tx });
        let registry = ctx.address();
        Box::pin(async move {
            let started = rx
                .await
                .unwrap_or_else(|_| Err(UnitError::Gone(name.clone())));
            if started.is_err() && rollback {
                // Roll back: the add changes nothing when it fails.
                let _ = unit.send(UnitCommand::Remove).await;
                registry.do_send(ForgetUnit { name, unit });
            }
            started
        })
    }
}

/// Drops a unit whose add failed (sent by the add itself, after its rollback).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct ForgetUnit {
    name: String,
    unit: Addr<Unit>,
}

impl Handler<ForgetUnit> for Registry {
    type Result = ();

    fn handle(&mut self, forget: ForgetUnit, _: &mut Context<Self>) {
        // Only the failed unit: never one added again under that name since.
        if self.units.get(&forget.name) == Some(&forget.unit) {
            self.forget(&forget.name);
        }
    }
}

/// Removes a unit: stop (grace period, then kill), remove its container, end
/// its actor. Removing a unit that does not exist succeeds.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), UnitError>")]
pub struct RemoveUnit(pub String);

impl Handler<RemoveUnit> for Registry {
    type Result = ResponseActFuture<Self, Result<(), UnitError>>;

    fn handle(&mut self, RemoveUnit(name): RemoveUnit, _: &mut Context<Self>) -> Self::Result {
        let Some(unit) = self.units.get(&name).cloned() else {
            return Box::pin(actix::fut::ready(Ok(())));
        };
        Box::pin(
            async move { unit.send(UnitCommand::Remove).await.unwrap_or(Ok(())) }
                .into_actor(self)
                .map(move |removed, act, _| {
                    if removed.is_ok() {
                        act.forget(&name);
                    }
                    removed
                }),
        )
    }
}

/// Sends a command to one unit.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), UnitError>")]
pub struct CommandUnit {
    /// Unit name.
    pub name: String,
    /// The command (use [`RemoveUnit`] to remove).
    pub command: UnitCommand,
}

impl Handler<CommandUnit> for Registry {
    type Result = ResponseFuture<Result<(), UnitError>>;

    fn handle(&mut self, msg: CommandUnit, _: &mut Context<Self>) -> Self::Result {
        if let UnitCommand::Update(spec) = &msg.command
            && let Err(error) = self.check(spec)
        {
            return Box::pin(futures::future::ready(Err(error)));
        }
        let Some(unit) = self.units.get(&msg.name).cloned() else {
            return Box::pin(futures::future::ready(Err(UnitError::NotFound(msg.name))));
        };
        if let UnitCommand::Update(spec) = &msg.command {
            // Before the update reaches the unit, so a relaunch it causes
            // waits for the new dependencies.
            let readiness = self.deps.declare(&spec.name, spec.depends_on.clone());
            unit.do_send(DependencySignal::Readiness(readiness));
        }
        let name = msg.name;
        Box::pin(async move {
            unit.send(msg.command)
                .await
                .unwrap_or(Err(UnitError::Gone(name)))
        })
    }
}

/// Whether a unit of that name exists.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct UnitExists(pub String);

impl Handler<UnitExists> for Registry {
    type Result = bool;
    fn handle(&mut self, UnitExists(name): UnitExists, _: &mut Context<Self>) -> bool {
        self.units.contains_key(&name)
    }
}

/// Subscribes an actor to every unit event of the namespace.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Subscribe(pub Recipient<UnitEvent>);

impl Handler<Subscribe> for Registry {
    type Result = ();
    fn handle(&mut self, Subscribe(recipient): Subscribe, _: &mut Context<Self>) {
        self.bus.subscribe(recipient);
    }
}

/// Returns the namespace's event bus (for stream subscriptions).
#[derive(Debug, Message)]
#[rtype(result = "Arc<EventBus>")]
pub struct GetBus;

impl Handler<GetBus> for Registry {
    type Result = MessageResult<GetBus>;
    fn handle(&mut self, _: GetBus, _: &mut Context<Self>) -> Self::Result {
        MessageResult(Arc::clone(&self.bus))
    }
}

/// How a shutdown treats the containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Leave them running; the next supervisor adopts them.
    Leave,
    /// Stop every unit with its grace period first.
    Stop,
}

/// Ends every unit actor and the registry.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Shutdown(pub ShutdownMode);

impl Handler<Shutdown> for Registry {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, Shutdown(mode): Shutdown, _: &mut Context<Self>) -> Self::Result {
        let units: Vec<Addr<Unit>> = self.units.values().cloned().collect();
        let order = self.stop_order();
        Box::pin(
            async move {
                if mode == ShutdownMode::Stop {
                    // Dependents first, each unit as soon as its own dependents stopped.
                    ordering::stop_in_order(order, |unit: Addr<Unit>| async move {
                        let _ = unit.send(StopForShutdown).await;
                    })
                    .await;
                }
                join_all(units.iter().map(|unit| unit.send(Detach))).await;
            }
            .into_actor(self)
            .map(|(), act, ctx| {
                let names: Vec<String> = act.units.keys().cloned().collect();
                for name in names {
                    act.forget(&name);
                }
                ctx.stop();
            }),
        )
    }
}

pub use self::deps::{Notice, Seen, Tracker, readiness};
pub use self::list::{ImageCache, ListUnits, SnapshotUnit, describe_container};
pub use self::ordering::stop_in_order;
pub use self::preflight::{CheckUnits, UnitProblem};
