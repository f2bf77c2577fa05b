//! The library's surface as an embedder meets it: what happens outside an
//! actix System, and what the handle and builder print.
#![cfg(feature = "test-util")]

use std::sync::Arc;

use stevedore::engine::fake::FakeEngine;
use stevedore::{StartError, Supervisor};

#[tokio::test]
async fn start_outside_an_actix_system_is_an_error_that_says_what_to_do() {
    let started = Supervisor::builder()
        .namespace("ns")
        .engine(Arc::new(FakeEngine::new()))
        .start()
        .await;
    let Err(error) = started else {
        panic!("start needs an actix System")
    };
    assert!(matches!(error, StartError::NoActixSystem), "{error:?}");
    assert!(error.to_string().contains("#[actix::main]"), "{error}");
}

#[actix::test]
async fn the_builder_and_the_handle_print_what_they_are() {
    let builder = Supervisor::builder()
        .namespace("shop")
        .engine(Arc::new(FakeEngine::new()));
    let printed = format!("{builder:?}");
    assert!(
        printed.contains("\"shop\"") && printed.contains("an engine given"),
        "{printed}"
    );
    let handle = builder.start().await.unwrap();
    assert!(format!("{handle:?}").contains("shop"));
}
