//! An actix-web application that embeds the supervisor and serves its
//! control API, metrics and status page on the application's own server,
//! beside a route of its own.
//!
//! Run it with the engine up (`scripts/engine-up.sh`):
//! `cargo run --example http_embedded`, then open http://127.0.0.1:8090/
//! (or `curl http://127.0.0.1:8090/v1/units`); Ctrl-C ends it and removes
//! its unit.

use actix_web::{App, HttpServer, web};
use stevedore::http::Api;
use stevedore::{RestartPolicy, Supervisor, UnitSpec};

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let image = std::env::var("STEVEDORE_IMAGE").unwrap_or_else(|_| "stevedore-test:latest".into());
    let supervisor = Supervisor::builder()
        .namespace("http-embedded-demo")
        .start()
        .await?;
    supervisor
        .add(
            UnitSpec::new("web", image)
                .command(["httpd", "-f", "-p", "8080"])
                .restart(RestartPolicy::Always),
        )
        .await?;

    // No token: this server listens on loopback only. On any other
    // address, give one: `Api::new(…).await.token(secret)`.
    let api = Api::new(supervisor.clone()).await;
    let routes = api.configure();
    println!("serving http://127.0.0.1:8090/ (the status page) and /v1/units");
    HttpServer::new(move || {
        App::new()
            .route(
                "/hello",
                web::get().to(|| async { "the application's own route\n" }),
            )
            .configure(routes.clone())
    })
    .bind(("127.0.0.1", 8090))?
    .run()
    .await?;

    supervisor.remove("web").await?;
    supervisor.shutdown(stevedore::ShutdownMode::Leave).await;
    Ok(())
}
