//! Single-flight image pulls: however many units wait for one image, the
//! engine is asked to pull it once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::layers::Layers;
use crate::engine::{EngineResult, Operation};

/// How long a pull may take before it is abandoned.
pub const PULL_DEADLINE: Duration = Duration::from_secs(300);

type PullFuture = Shared<BoxFuture<'static, EngineResult<()>>>;

/// Pulls in progress, by image.
#[derive(Default)]
pub(crate) struct Pulls {
    in_progress: Mutex<HashMap<String, PullFuture>>,
}

impl Pulls {
    /// Pulls `image`, joining a pull of it that is already under way.
    pub(crate) fn pull(self: &Arc<Self>, layers: Arc<Layers>, image: String) -> PullFuture {
        let mut in_progress = self.in_progress.lock().unwrap();
        if let Some(pull) = in_progress.get(&image) {
            return pull.clone();
        }
        layers.counters.update(|s| s.pulls += 1);
        let pulls = Arc::clone(self);
        let key = image.clone();
        let entry = image.clone();
        let pull = async move {
            let result = layers
                .run(Operation::Pull, PULL_DEADLINE, |engine| {
                    let image = image.clone();
                    let progress_image = image.clone();
                    engine.pull_image(
                        image,
                        Box::new(
                            move |status| tracing::info!(image = %progress_image, %status, "pull"),
                        ),
                    )
                })
                .await;
            pulls.in_progress.lock().unwrap().remove(&key);
            result
        }
        .boxed()
        .shared();
        in_progress.insert(entry, pull.clone());
        pull
    }
}
