//! `StreamLogs`: a container's output. The call is paced by the rate limit
//! like every other; its stream then runs as long as the reader wants (the
//! one open-ended call besides the events), outside the in-flight cap.

use actix::prelude::*;
use futures::stream::BoxStream;

use super::Gateway;
use crate::engine::{EngineResult, LogChunk, LogOptions, Operation};

/// Streams a container's logs.
#[derive(Debug, Message)]
#[rtype(result = "BoxStream<'static, EngineResult<LogChunk>>")]
pub struct StreamLogs {
    /// Container id or name.
    pub id: String,
    /// What to read.
    pub options: LogOptions,
}

impl Handler<StreamLogs> for Gateway {
    type Result = ResponseFuture<BoxStream<'static, EngineResult<LogChunk>>>;

    fn handle(&mut self, msg: StreamLogs, _: &mut Context<Self>) -> Self::Result {
        let layers = self.layers.clone();
        Box::pin(async move {
            layers.limiter.acquire(false).await;
            layers.counters.attempt(Operation::Logs);
            layers.engine.logs(msg.id, msg.options)
        })
    }
}
