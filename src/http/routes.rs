//! The routes: each reads the board or calls the handle, and answers JSON.

use std::time::Duration;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, ResponseError, body::MessageBody, web};
use serde::Deserialize;
use serde_json::json;

use super::auth::{TOKEN_COOKIE, authorize, constant_time_eq};
use super::error::ApiError;
use super::metrics::{CONTENT_TYPE, Scrape};
use super::{Api, BODY_LIMIT, UnitView, events, page};
use crate::gateway::Ping;

/// Adds every route, the body limit, the JSON error handlers and the
/// authorization check to `config`.
pub fn configure(config: &mut web::ServiceConfig, api: Api) {
    config
        .app_data(web::Data::new(api))
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(
            web::JsonConfig::default()
                .limit(BODY_LIMIT)
                .error_handler(|error, _| {
                    let refused = match error {
                        actix_web::error::JsonPayloadError::Overflow { .. }
                        | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                            ApiError::TooLarge(BODY_LIMIT)
                        }
                        other => {
                            ApiError::BadRequest(format!("the body is not valid JSON: {other}"))
                        }
                    };
                    refused.into()
                }),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|error, _| ApiError::BadRequest(error.to_string()).into()),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|error, _| ApiError::BadRequest(error.to_string()).into()),
        )
        .service(
            web::scope("")
                .wrap(from_fn(guard))
                .service(resource("/", Method::GET).route(web::get().to(page::page)))
                .service(resource("/metrics", Method::GET).route(web::get().to(metrics)))
                .service(resource("/v1/health", Method::GET).route(web::get().to(health)))
                .service(resource("/v1/units", Method::GET).route(web::get().to(units)))
                .service(resource("/v1/units/{name}", Method::GET).route(web::get().to(unit)))
                .service(
                    resource("/v1/units/{name}/logs", Method::GET)
                        .route(web::get().to(super::logs::logs)),
                )
                .service(
                    resource("/v1/units/{name}/{action}", Method::POST).route(web::post().to(act)),
                )
                .service(resource("/v1/events", Method::GET).route(web::get().to(stream)))
                .service(resource("/v1/reload", Method::POST).route(web::post().to(reload)))
                .service(resource("/v1/shutdown", Method::POST).route(web::post().to(shutdown)))
                .default_service(web::to(not_found)),
        );
}

/// A route that answers 405 (with `Allow`) to other methods.
fn resource(path: &str, method: Method) -> actix_web::Resource {
    let allowed: &'static str = if method == Method::POST {
        "POST"
    } else {
        "GET"
    };
    web::resource(path).default_service(web::to(move |request: HttpRequest| async move {
        ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allowed,
        }
        .error_response()
    }))
}

/// Checks every request (bearer token, CSRF) before its route runs.
async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let api = request
        .app_data::<web::Data<Api>>()
        .expect("configure adds the Api")
        .clone();
    // The page's way in on TCP: `/?token=…` proves the token once and
    // leaves it in a cookie the browser sends from then on.
    if let Some(token) = &api.token
        && request.path() == "/"
        && let Some(given) = token_in_query(request.query_string())
    {
        if !constant_time_eq(given.as_bytes(), token.as_bytes()) {
            return Ok(request.into_response(ApiError::Unauthorized.error_response()));
        }
        let cookie = actix_web::cookie::Cookie::build(TOKEN_COOKIE, given)
            .http_only(true)
            .same_site(actix_web::cookie::SameSite::Strict)
            .path("/")
            .finish();
        let response = HttpResponse::SeeOther()
            .insert_header(("Location", "/"))
            .cookie(cookie)
            .finish();
        return Ok(request.into_response(response));
    }
    // No route reads a body larger than this, so none is accepted, read
    // or not.
    let declared_length = request
        .headers()
        .get("Content-Length")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > BODY_LIMIT as u64) {
        let refused = ApiError::TooLarge(BODY_LIMIT);
        return Ok(request.into_response(refused.error_response()));
    }
    if let Err(refused) = authorize(request.request(), api.token.as_deref(), &api.csrf) {
        return Ok(request.into_response(refused.error_response()));
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

fn token_in_query(query: &str) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(query)
        .ok()
        .and_then(|query| query.get("token").cloned())
}

async fn not_found(request: HttpRequest) -> HttpResponse {
    ApiError::NotFound(request.path().to_string()).error_response()
}

/// `GET /v1/units`: every unit, sorted by name.
async fn units(api: web::Data<Api>) -> HttpResponse {
    api.board.settle().await;
    HttpResponse::Ok()
        .content_type("application/json")
        .body(api.board.units_json())
}

/// `GET /v1/units/{name}`.
async fn unit(api: web::Data<Api>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    api.board.settle().await;
    let view = api
        .board
        .unit(&name)
        .ok_or_else(|| ApiError::UnknownUnit(name.into_inner()))?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /v1/units/{name}/{start|stop|restart}`: answers once the unit has
/// done it, with the unit as it is then.
async fn act(
    api: web::Data<Api>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, action) = path.into_inner();
    if !matches!(action.as_str(), "start" | "stop" | "restart") {
        return Err(ApiError::NotFound(format!(
            "/v1/units/{name}/{action} (the actions are start, stop and restart)"
        )));
    }
    if !api.supervisor.exists(&name).await {
        return Err(ApiError::UnknownUnit(name));
    }
    match action.as_str() {
        "start" => api.supervisor.start(&name).await?,
        "stop" => api.supervisor.stop(&name).await?,
        _ => api.supervisor.restart(&name).await?,
    }
    let snapshot = api
        .supervisor
        .snapshot(&name)
        .await
        .ok_or_else(|| ApiError::UnknownUnit(name.clone()))?;
    let mut view = api
        .board
        .unit(&name)
        .unwrap_or_else(|| UnitView::declared(api.board.namespace(), &snapshot.spec));
    view.overlay(&snapshot);
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /v1/events`.
async fn stream(api: web::Data<Api>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    events::events(request, &api.board).await
}

/// `POST /v1/reload`: the same as SIGHUP.
async fn reload(api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let control = api.control.clone().ok_or_else(|| {
        ApiError::NotImplemented("this supervisor has no declaration to reload".into())
    })?;
    Ok(HttpResponse::Ok().json(control.reload().await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShutdownQuery {
    /// `stop` (every unit first) or `leave` (the default).
    #[serde(default)]
    units: Option<String>,
}

/// `POST /v1/shutdown?units=stop|leave`: ends the supervisor.
async fn shutdown(
    api: web::Data<Api>,
    query: web::Query<ShutdownQuery>,
) -> Result<HttpResponse, ApiError> {
    let stop = match query.units.as_deref() {
        None | Some("leave") => false,
        Some("stop") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "units must be stop or leave, not {other:?}"
            )));
        }
    };
    let control = api.control.clone().ok_or_else(|| {
        ApiError::NotImplemented("this supervisor is ended by its application".into())
    })?;
    control.shutdown(stop).await;
    Ok(HttpResponse::Accepted().json(json!({ "shutting_down": true, "stop_units": stop })))
}

/// `GET /v1/health`: the supervisor's own readiness.
async fn health(api: web::Data<Api>) -> HttpResponse {
    let stats = api.supervisor.stats().await;
    let ping = api.supervisor.gateway().send(Ping);
    let engine = matches!(
        tokio::time::timeout(Duration::from_secs(2), ping).await,
        Ok(Ok(Ok(())))
    );
    let responsive = api.supervisor.responsive(Duration::from_secs(2)).await;
    let ready = engine && stats.events_connected && responsive;
    let body = json!({
        "ready": ready,
        "namespace": api.board.namespace(),
        "engine_reachable": engine,
        "events_connected": stats.events_connected,
        "supervisor_responsive": responsive,
        "units": api.board.read(|state| state.units.len()),
        "version": env!("CARGO_PKG_VERSION"),
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// `GET /metrics`.
async fn metrics(api: web::Data<Api>) -> HttpResponse {
    api.board.settle().await;
    let stats = api.supervisor.stats().await;
    let scrape = Scrape {
        namespace: api.board.namespace().to_string(),
        units: api.board.units(),
        restarts: api.board.read(|state| state.restarts.clone()),
        stats,
    };
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(scrape.encode())
}
