//! `stevedore::http` mounted in an actix-web application of its own, over
//! the in-process fake engine: what an embedding application gets, with no
//! Docker needed.
#![cfg(all(feature = "test-util", feature = "http"))]

mod common;

use std::sync::Arc;

use actix_web::{App, test, web};
use futures::StreamExt;
use stevedore::engine::fake::FakeEngine;
use stevedore::http::Api;
use stevedore::{RestartPolicy, Supervisor, UnitSpec, UnitState};

async fn api_with_web(engine: &FakeEngine) -> (Api, stevedore::SupervisorHandle) {
    let supervisor = Supervisor::builder()
        .namespace("embed")
        .engine(Arc::new(engine.clone()))
        .start()
        .await
        .unwrap();
    supervisor
        .add(
            UnitSpec::new("web", "busybox:latest")
                .restart(RestartPolicy::Always)
                .backoff(common::quick_backoff()),
        )
        .await
        .unwrap();
    (Api::new(supervisor.clone()).await, supervisor)
}

#[actix::test]
async fn an_application_serves_the_api_beside_its_own_routes() {
    let engine = FakeEngine::new();
    let (api, _supervisor) = api_with_web(&engine).await;
    let app = test::init_service(
        App::new()
            .route("/mine", web::get().to(|| async { "mine" }))
            .configure(api.configure()),
    )
    .await;

    let mine =
        test::call_and_read_body(&app, test::TestRequest::get().uri("/mine").to_request()).await;
    assert_eq!(mine, "mine");
    let units: serde_json::Value =
        test::call_and_read_body_json(&app, test::TestRequest::get().uri("/v1/units").to_request())
            .await;
    assert_eq!(units[0]["name"], "web");
    assert_eq!(units[0]["phase"], "running");
    let missing = test::call_service(
        &app,
        test::TestRequest::get().uri("/v1/units/db").to_request(),
    )
    .await;
    assert_eq!(missing.status(), 404);
    let reload = test::call_service(
        &app,
        test::TestRequest::post().uri("/v1/reload").to_request(),
    )
    .await;
    assert_eq!(
        reload.status(),
        501,
        "an application without a Control has nothing to reload"
    );
    let page = test::call_and_read_body(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert!(String::from_utf8_lossy(&page).contains("data-unit=\"web\""));
}

#[actix::test]
async fn a_crash_shows_on_the_board_and_in_the_metrics() {
    let engine = FakeEngine::new();
    let (api, supervisor) = api_with_web(&engine).await;
    let app = test::init_service(App::new().configure(api.configure())).await;
    let mut events = supervisor.events().await;
    engine.crash("embed--web", 3);
    while let Some(event) = events.next().await {
        if event.state == UnitState::Running {
            break;
        }
    }
    let web: serde_json::Value = test::call_and_read_body_json(
        &app,
        test::TestRequest::get().uri("/v1/units/web").to_request(),
    )
    .await;
    assert_eq!(web["restart_count"], 1);
    assert_eq!(web["last_exit_code"], 3);
    assert_eq!(web["last_restart_reason"], "exited with code 3");
    let metrics =
        test::call_and_read_body(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains(
            "stevedore_unit_restarts_total{namespace=\"embed\",unit=\"web\",reason=\"exit\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains(
        "stevedore_engine_calls_total{namespace=\"embed\",call=\"start\",outcome=\"ok\"} 2"
    ));
}
