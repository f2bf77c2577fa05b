//! `BuildImage`: an image built from a context archive, in one attempt
//! under a deadline long enough for a build.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use super::Gateway;
use crate::engine::{BuildOptions, EngineError, EngineResult, Operation};

/// How long a build may take before it is abandoned: steps compile, fetch
/// and install; the ordinary call deadline (30 s) would cut most builds.
pub const BUILD_DEADLINE: Duration = Duration::from_secs(3600);

/// Builds image `tag` from a context archive; the builder's output lines go
/// to `progress` as they come. One attempt, never retried (see
/// [`Operation::is_idempotent`]): the answer is the build's own outcome.
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct BuildImage {
    /// The image reference the build is tagged with.
    pub tag: String,
    /// The Dockerfile, target, build args and labels.
    pub options: BuildOptions,
    /// The build context as a tar archive (with the Dockerfile).
    pub context_tar: Vec<u8>,
    /// Called with each line of the builder's output.
    pub progress: Box<dyn Fn(String) + Send>,
}

impl std::fmt::Debug for BuildImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildImage")
            .field("tag", &self.tag)
            .field("options", &self.options)
            .field("context_bytes", &self.context_tar.len())
            .finish_non_exhaustive()
    }
}

impl Handler<BuildImage> for Gateway {
    type Result = ResponseFuture<EngineResult<()>>;
    fn handle(&mut self, msg: BuildImage, _: &mut Context<Self>) -> Self::Result {
        let layers = Arc::clone(&self.layers);
        Box::pin(async move {
            let BuildImage {
                tag,
                options,
                context_tar,
                progress,
            } = msg;
            // `attempt` calls once; the parts move into that one call.
            let mut parts = Some((tag, options, context_tar, progress));
            let mut call = |engine: &dyn crate::engine::Engine| match parts.take() {
                Some((tag, options, tar, progress)) => {
                    engine.build_image(tag, options, tar, progress)
                }
                None => Box::pin(futures::future::ready(Err(EngineError::Other(
                    "a build is attempted once".into(),
                ))))
                    as futures::future::BoxFuture<'static, EngineResult<()>>,
            };
            layers
                .attempt(Operation::Build, BUILD_DEADLINE, &mut call)
                .await
        })
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::engine::RawFailure;
    use crate::engine::fake::FakeEngine;
    use crate::gateway::{GatewayConfig, InspectImage};

    fn build(tag: &str) -> BuildImage {
        BuildImage {
            tag: tag.into(),
            options: BuildOptions::default(),
            context_tar: Vec::new(),
            progress: Box::new(|_| {}),
        }
    }

    #[actix::test]
    async fn a_built_image_is_on_the_engine_afterwards() {
        let engine = FakeEngine::new();
        let gateway = Gateway::start_with(Arc::new(engine.clone()), GatewayConfig::default());
        let missing = gateway
            .send(InspectImage {
                image: "shop-web".into(),
            })
            .await;
        assert!(matches!(missing, Ok(Err(EngineError::ImageNotFound(_)))));
        gateway.send(build("shop-web")).await.unwrap().unwrap();
        let found = gateway
            .send(InspectImage {
                image: "shop-web".into(),
            })
            .await;
        assert!(found.unwrap().is_ok());
    }

    #[actix::test]
    async fn a_build_whose_connection_broke_is_not_sent_again() {
        let engine = FakeEngine::new();
        engine.fail_next(Operation::Build, RawFailure::ConnectionLost("reset".into()));
        let gateway = Gateway::start_with(Arc::new(engine.clone()), GatewayConfig::default());
        let result = gateway.send(build("shop-web")).await.unwrap();
        assert!(matches!(result, Err(EngineError::Transient(_))));
        assert_eq!(engine.calls(Operation::Build), 1);
    }
}
