//! The control API, Prometheus metrics and status page of one supervisor,
//! as actix-web routes over its [`SupervisorHandle`] (feature `http`).
//!
//! The routes decide nothing: each reads the [`Board`] (the namespace's live
//! state, kept current by the unit events) or calls the handle, and turns
//! the answer into JSON. `stevedore up` serves them on a unix socket; an
//! actix-web application mounts them on its own server:
//!
//! ```no_run
//! # async fn demo(supervisor: stevedore::SupervisorHandle) -> std::io::Result<()> {
//! use actix_web::{App, HttpServer};
//! let api = stevedore::http::Api::new(supervisor).await;
//! HttpServer::new(move || App::new().configure(api.configure()))
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! # }
//! ```

mod auth;
pub mod board;
mod error;
pub mod events;
mod logs;
pub mod metrics;
mod page;
mod routes;
pub mod view;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;

pub use self::auth::{constant_time_eq, new_token};
pub use self::board::Board;
pub use self::error::ApiError;
pub use self::view::{EventView, UnitView};
use crate::SupervisorHandle;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What a reload applied, by unit name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reloaded {
    /// Units declared anew.
    pub added: Vec<String>,
    /// Units whose spec changed (their containers are replaced).
    pub updated: Vec<String>,
    /// Units no longer declared, removed.
    pub removed: Vec<String>,
    /// Units left as they were.
    pub unchanged: Vec<String>,
}

/// What only the program that runs the supervisor can do: re-read its
/// declaration (`POST /v1/reload`), and end (`POST /v1/shutdown`). The
/// binary's `up` gives one; without it those routes answer 501.
pub trait Control: Send + Sync + 'static {
    /// Re-reads the declaration and applies the difference, as SIGHUP does;
    /// an invalid declaration changes nothing ([`ApiError::Invalid`]).
    fn reload(&self) -> BoxFuture<'static, Result<Reloaded, ApiError>>;
    /// Ends the supervisor: `stop` stops every unit first (as `down`
    /// wants), else they are left running. Answers once it is under way.
    fn shutdown(&self, stop: bool) -> BoxFuture<'static, ()>;
}

/// Everything the routes share: the handle, the board, the optional
/// [`Control`], the page's CSRF token and the bearer token (TCP).
#[derive(Clone)]
pub struct Api {
    supervisor: SupervisorHandle,
    board: Board,
    control: Option<Arc<dyn Control>>,
    csrf: Arc<str>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("namespace", &self.board.namespace())
            .field("control", &self.control.is_some())
            .field("token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl Api {
    /// The API of `supervisor`: reads its units once, then follows their
    /// events. No token: every request is served (a unix socket's mode
    /// decides who may connect).
    pub async fn new(supervisor: SupervisorHandle) -> Api {
        let board = Board::start(&supervisor).await;
        Api {
            supervisor,
            board,
            control: None,
            csrf: new_token().into(),
            token: None,
        }
    }

    /// Lets `POST /v1/reload` and `POST /v1/shutdown` do what `control` does.
    pub fn control(mut self, control: Arc<dyn Control>) -> Api {
        self.control = Some(control);
        self
    }

    /// Requires `token` on every request (`Authorization: Bearer`, or the
    /// cookie the page sets from `/?token=`): for a TCP listener.
    pub fn token(mut self, token: impl Into<String>) -> Api {
        self.token = Some(token.into().into());
        self
    }

    /// The board the routes read.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// The routes, for [`actix_web::App::configure`].
    pub fn configure(&self) -> impl Fn(&mut actix_web::web::ServiceConfig) + Clone + use<> {
        let api = self.clone();
        move |config| routes::configure(config, api.clone())
    }
}
