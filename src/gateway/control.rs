//! Messages about the gateway itself rather than engine calls: readiness of
//! the events stream, the router, the counters, and stopping.

use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::{EventRouter, Gateway, GatewayStats};

/// Answers once the events stream is connected.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct AwaitEvents;

impl Handler<AwaitEvents> for Gateway {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: AwaitEvents, _: &mut Context<Self>) -> Self::Result {
        let mut connected = self.connected.clone();
        Box::pin(async move {
            let _ = connected.wait_for(|up| *up).await;
        })
    }
}

/// Returns the router (for registries to write their units into).
#[derive(Debug, Message)]
#[rtype(result = "Arc<EventRouter>")]
pub struct GetRouter;

impl Handler<GetRouter> for Gateway {
    type Result = MessageResult<GetRouter>;
    fn handle(&mut self, _: GetRouter, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.router())
    }
}

/// Returns the API version spoken with the engine, when known.
#[derive(Debug, Message)]
#[rtype(result = "Option<(u32, u32)>")]
pub struct EngineApiVersion;

impl Handler<EngineApiVersion> for Gateway {
    type Result = Option<(u32, u32)>;
    fn handle(&mut self, _: EngineApiVersion, _: &mut Context<Self>) -> Self::Result {
        self.layers.engine.api_version()
    }
}

/// Returns a copy of the counters.
#[derive(Debug, Message)]
#[rtype(result = "GatewayStats")]
pub struct GetStats;

impl Handler<GetStats> for Gateway {
    type Result = MessageResult<GetStats>;
    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.layers.counters.snapshot())
    }
}

/// Stops the gateway and its events stream; answers once it has stopped.
/// Calls already handed to the engine finish on their own (their futures
/// are not the actor's); later messages find the actor gone.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopGateway;

impl Handler<StopGateway> for Gateway {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: StopGateway, ctx: &mut Context<Self>) -> Self::Result {
        let (stopped_tx, stopped) = oneshot::channel();
        self.on_stopped.push(stopped_tx);
        ctx.stop();
        Box::pin(async move {
            let _ = stopped.await;
        })
    }
}

/// How long a probe waits for the engine to take a new connection and answer.
const PROBE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Asks whether the engine takes a new connection (see
/// [`crate::engine::Engine::probe`]): one attempt, a short deadline, no
/// retry, outside the rate limit, because its failure is the answer.
#[derive(Debug, Message)]
#[rtype(result = "crate::engine::EngineResult<()>")]
pub struct ProbeEngine;

impl Handler<ProbeEngine> for Gateway {
    type Result = ResponseFuture<crate::engine::EngineResult<()>>;
    fn handle(&mut self, _: ProbeEngine, _: &mut Context<Self>) -> Self::Result {
        let probe = self.layers.engine.probe();
        Box::pin(async move {
            match tokio::time::timeout(PROBE_DEADLINE, probe).await {
                Ok(answer) => answer,
                Err(_) => Err(crate::engine::EngineError::DeadlineExceeded {
                    operation: crate::engine::Operation::Ping,
                    after: PROBE_DEADLINE,
                }),
            }
        })
    }
}
