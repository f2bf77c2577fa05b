//! Image builds: what [`Engine::build_image`](super::Engine::build_image)
//! is asked to build, and the bollard call that carries it out (the legacy
//! builder's `POST /build`, which needs no session and works offline).

use std::collections::BTreeMap;

use bollard::Docker;
use bollard::query_parameters::BuildImageOptions;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

use super::{EngineResult, Operation, RawFailure, classify};

/// How an image is built from its context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// The Dockerfile's path inside the context (`Dockerfile` when empty).
    pub dockerfile: String,
    /// The stage to build (`--target`); the last one when `None`.
    pub target: Option<String>,
    /// `--build-arg`s.
    pub args: BTreeMap<String, String>,
    /// Labels the image carries.
    pub labels: BTreeMap<String, String>,
    /// Build every step again, ignoring the engine's cache.
    pub no_cache: bool,
    /// Pull a newer base image even when one is present.
    pub pull: bool,
}

/// The query of `POST /build` for `tag` and `options`.
fn query(tag: &str, options: &BuildOptions) -> BuildImageOptions {
    BuildImageOptions {
        dockerfile: if options.dockerfile.is_empty() {
            "Dockerfile".into()
        } else {
            options.dockerfile.clone()
        },
        t: Some(tag.to_string()),
        target: options.target.clone().unwrap_or_default(),
        buildargs: super::mapping::hash_map(&options.args),
        labels: super::mapping::hash_map(&options.labels),
        nocache: options.no_cache,
        pull: options.pull.then(|| "1".to_string()),
        // Intermediate containers go, as `docker build` and compose do.
        rm: true,
        forcerm: true,
        ..Default::default()
    }
}

/// Builds `tag` from the context archive `tar`, each line of the builder's
/// output passed to `progress`. A step that fails arrives as an error item
/// in the stream (bollard turns `errorDetail` into a stream error): it is
/// the build's failure, with the builder's words.
pub(super) fn build(
    docker: Docker,
    tag: String,
    options: BuildOptions,
    tar: Vec<u8>,
    progress: Box<dyn Fn(String) + Send>,
) -> BoxFuture<'static, EngineResult<()>> {
    async move {
        let query = query(&tag, &options);
        let mut stream = docker.build_image(query, None, Some(bollard::body_full(tar.into())));
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| super::docker::failure(Operation::Build, &tag, e))?;
            if let Some(detail) = info.error_detail {
                let message = detail.message.unwrap_or_else(|| "the build failed".into());
                return Err(classify(
                    Operation::Build,
                    &tag,
                    &RawFailure::Stream(message),
                ));
            }
            for text in [info.stream, info.status].into_iter().flatten() {
                for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                    progress(line.to_string());
                }
            }
        }
        Ok(())
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_names_the_dockerfile_target_args_and_labels() {
        let options = BuildOptions {
            dockerfile: "docker/App.dockerfile".into(),
            target: Some("runtime".into()),
            args: BTreeMap::from([("VERSION".into(), "1".into())]),
            labels: BTreeMap::from([("team".into(), "web".into())]),
            no_cache: true,
            pull: false,
        };
        let query = query("shop-web", &options);
        assert_eq!(query.dockerfile, "docker/App.dockerfile");
        assert_eq!(query.t.as_deref(), Some("shop-web"));
        assert_eq!(query.target, "runtime");
        assert_eq!(query.buildargs.unwrap()["VERSION"], "1");
        assert_eq!(query.labels.unwrap()["team"], "web");
        assert!(query.nocache && query.rm && query.pull.is_none());
    }

    #[test]
    fn an_empty_dockerfile_means_the_contexts_dockerfile() {
        let query = query("t", &BuildOptions::default());
        assert_eq!(query.dockerfile, "Dockerfile");
        assert!(query.buildargs.is_none() && query.labels.is_none());
        assert_eq!(query.target, "");
    }
}
