//! Table tests of a launch's first step: the pull policy (only what is
//! missing, always before a new container, or never), and a container made
//! in another's namespace, created only once that one exists.

use super::*;
use crate::spec::{ContainerOptions, PullPolicy};

fn with_policy(pull_policy: PullPolicy) -> Harness {
    Harness::of(spec(RestartPolicy::Always).options(ContainerOptions {
        pull_policy,
        ..ContainerOptions::default()
    }))
}

fn image_missing() -> Input {
    Input::Done(Done::Created(Err(UnitError::Engine(
        EngineError::ImageNotFound("busybox:latest".into()),
    ))))
}

#[tokio::test(start_paused = true)]
async fn an_always_policy_pulls_before_the_first_create() {
    let mut h = with_policy(PullPolicy::Always);
    let begin = h.step(Input::Begin(None));
    assert_eq!(engine_work(&begin), [&Work::Pull]);
    assert_eq!(h.state(), UnitState::Pulling);
    let create = h.step(Input::Done(Done::Pulled(Ok(()))));
    assert!(matches!(engine_work(&create)[..], [Work::Create(_)]));
    let start = h.step(created("c1"));
    assert_eq!(engine_work(&start), [&Work::Start("c1".into())]);
}

#[tokio::test(start_paused = true)]
async fn an_always_policy_whose_pull_fails_fails_the_unit_without_a_create() {
    let mut h = with_policy(PullPolicy::Always);
    h.step(Input::Begin(None));
    let failed = h.step(Input::Done(Done::Pulled(Err(UnitError::Engine(
        EngineError::PullFailed {
            image: "busybox:latest".into(),
            message: "no registry".into(),
        },
    )))));
    assert!(engine_work(&failed).is_empty());
    assert_eq!(h.state(), UnitState::Failed);
}

#[tokio::test(start_paused = true)]
async fn a_never_policy_fails_a_missing_image_without_pulling() {
    let mut h = with_policy(PullPolicy::Never);
    h.step(Input::Begin(None));
    let failed = h.step(image_missing());
    assert!(engine_work(&failed).is_empty(), "no pull");
    assert_eq!(h.state(), UnitState::Failed);
    let (_, reason) = h.machine.view();
    assert!(reason.unwrap().contains("pull_policy is never"));
}

#[tokio::test(start_paused = true)]
async fn a_unit_in_another_containers_namespace_is_created_only_once_its_dependencies_are_ready() {
    let spec = spec(RestartPolicy::Always).options(ContainerOptions {
        network_mode: Some("container:ns--vpn".into()),
        ..ContainerOptions::default()
    });
    let mut h = Harness::of(spec);
    h.step(Input::Dependencies(Readiness::Waiting(
        "vpn (started): vpn is creating".into(),
    )));
    let begin = h.step(Input::Begin(None));
    assert!(
        engine_work(&begin).is_empty(),
        "no create before vpn's container exists"
    );
    assert!(
        begin.contains(&Effect::Answer(Ok(()))),
        "the add is answered: it waits"
    );
    assert_eq!(h.state(), UnitState::Waiting);
    let ready = h.step(Input::Dependencies(Readiness::Ready));
    assert!(matches!(engine_work(&ready)[..], [Work::Create(_)]));
    let start = h.step(created("c1"));
    assert_eq!(engine_work(&start), [&Work::Start("c1".into())]);
}
