//! Requests of the Docker Engine API mapped onto the fake engine's raw
//! operations, and their answers in the engine's JSON.

use std::collections::HashMap;
use std::convert::Infallible;

use bollard::models::{ContainerCreateBody, EventActor, EventMessage, EventMessageTypeEnum};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Method, Response, StatusCode};
use serde_json::json;

use super::faults::Endpoint;
use crate::engine::fake::FakeEngine;
use crate::engine::{ContainerEvent, ContainerEventKind, EngineState, Health, RawFailure};

/// Every answer's body.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Which endpoint a request is for, from its method and path (without the
/// `/v1.41` prefix).
pub(crate) fn endpoint(method: &Method, path: &str) -> Endpoint {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (_, ["_ping"] | ["version"]) => Endpoint::System,
        (&Method::GET, ["containers", "json"]) => Endpoint::List,
        (&Method::POST, ["containers", "create"]) => Endpoint::Create,
        (&Method::POST, ["containers", _, "start"]) => Endpoint::Start,
        (&Method::POST, ["containers", _, "stop"]) => Endpoint::Stop,
        (&Method::POST, ["containers", _, "kill"]) => Endpoint::Kill,
        (&Method::POST, ["containers", _, "wait"]) => Endpoint::Wait,
        (&Method::GET, ["containers", _, "json"]) => Endpoint::Inspect,
        (&Method::DELETE, ["containers", _]) => Endpoint::Remove,
        (_, ["containers", _, "archive"]) => Endpoint::Archive,
        (_, ["events"]) => Endpoint::Events,
        (&Method::POST, ["images", "create"]) => Endpoint::ImageCreate,
        _ => Endpoint::ImageInspect,
    }
}

/// The answer to one request, or `None` to close the connection instead.
pub(crate) async fn answer(
    engine: &FakeEngine,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    body: Bytes,
) -> Option<Response<Body>> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let result: Result<Response<Body>, RawFailure> = match (method, parts.as_slice()) {
        (_, ["_ping"]) => Ok(text(StatusCode::OK, "OK")),
        (_, ["version"]) => Ok(json_response(
            StatusCode::OK,
            json!({"Version": "20.10.24-fake", "ApiVersion": "1.41", "MinAPIVersion": "1.12", "Os": "linux"}),
        )),
        (&Method::GET, ["containers", "json"]) => {
            let filter = label_filter(query);
            engine.list_containers_raw(filter).map(|listed| {
                let summaries: Vec<_> = listed
                    .iter()
                    .map(|c| {
                        let status = match (&c.state, c.exit_code) {
                            (EngineState::Exited, Some(code)) => {
                                format!("Exited ({code}) 1 second ago")
                            }
                            (EngineState::Running, _) => match c.health {
                                Some(Health::Starting) => "Up 1 second (health: starting)".into(),
                                Some(health) => format!("Up 1 second ({health})"),
                                None => "Up 1 second".to_string(),
                            },
                            (state, _) => state.as_str().to_string(),
                        };
                        json!({"Id": c.id, "Names": [format!("/{}", c.name)], "Image": c.image,
                               "Labels": c.labels, "State": c.state.as_str(), "Status": status})
                    })
                    .collect();
                json_response(StatusCode::OK, json!(summaries))
            })
        }
        (&Method::POST, ["containers", "create"]) => {
            match serde_json::from_slice::<ContainerCreateBody>(&body) {
                Err(error) => Ok(message(
                    StatusCode::BAD_REQUEST,
                    &format!("invalid JSON: {error}"),
                )),
                Ok(create) => {
                    let name = query.get("name").cloned().unwrap_or_default();
                    engine.create_container_raw(name, create).map(|id| {
                        json_response(StatusCode::CREATED, json!({"Id": id, "Warnings": []}))
                    })
                }
            }
        }
        (&Method::POST, ["containers", id, "start"]) => {
            engine.start_container_raw(id.to_string()).map(|()| empty())
        }
        (&Method::POST, ["containers", id, "stop"]) => engine
            .stop_container_raw(id.to_string(), std::time::Duration::ZERO)
            .map(|()| empty()),
        (&Method::POST, ["containers", id, "kill"]) => {
            let signal = query
                .get("signal")
                .cloned()
                .unwrap_or_else(|| "SIGKILL".into());
            engine
                .kill_container_raw(id.to_string(), signal)
                .map(|()| empty())
        }
        (&Method::POST, ["containers", id, "wait"]) => match wait_for_exit(engine, id).await {
            Ok(code) => Ok(json_response(StatusCode::OK, json!({"StatusCode": code}))),
            Err(failure) => Err(failure),
        },
        (&Method::GET, ["containers", id, "json"]) => engine
            .inspect_container_raw(id.to_string())
            .map(|inspect| json_response(StatusCode::OK, json!(inspect))),
        (&Method::DELETE, ["containers", id]) => {
            let force = query.get("force").is_some_and(|f| f == "true" || f == "1");
            engine
                .remove_container_raw(id.to_string(), force)
                .map(|()| empty())
        }
        (&Method::PUT, ["containers", id, "archive"]) => {
            let path = query.get("path").cloned().unwrap_or_default();
            engine
                .put_archive_raw(id.to_string(), path, body.to_vec())
                .map(|()| empty())
        }
        (&Method::GET, ["containers", id, "archive"]) => {
            let path = query.get("path").cloned().unwrap_or_default();
            engine.get_archive_raw(id.to_string(), path).map(|tar| {
                Response::builder()
                    .status(StatusCode::OK)
                    .header("content-type", "application/x-tar")
                    .body(Full::new(Bytes::from(tar)).boxed_unsync())
                    .expect("a valid response")
            })
        }
        (&Method::POST, ["images", "create"]) => {
            match (query.get("fromSrc"), query.get("fromImage")) {
                (Some(_), _) => {
                    let repo = query.get("repo").cloned().unwrap_or_default();
                    let tag = query.get("tag").cloned().unwrap_or_else(|| "latest".into());
                    engine
                        .import_image_raw(format!("{repo}:{tag}"), body.to_vec())
                        .map(|()| json_response(StatusCode::OK, json!({"status": "sha256:fake"})))
                }
                (None, image) => {
                    let image = image.cloned().unwrap_or_default();
                    let tag = query
                        .get("tag")
                        .map(|t| format!(":{t}"))
                        .unwrap_or_default();
                    engine
                        .pull_image_raw(format!("{image}{tag}"), Box::new(|_| {}))
                        .map(|()| json_response(StatusCode::OK, json!({"status": "pulled"})))
                }
            }
        }
        (&Method::GET, ["images", rest @ .., "json"]) => engine
            .inspect_image_raw(rest.join("/"))
            .map(|image| json_response(StatusCode::OK, json!(image))),
        (&Method::GET, ["events"]) => match engine.event_feed(since_nanos(query)) {
            Ok(feed) => Ok(event_stream(feed)),
            Err(failure) => Err(failure),
        },
        _ => Ok(message(
            StatusCode::NOT_FOUND,
            &format!("page not found: {method} {path}"),
        )),
    };
    match result {
        Ok(response) => Some(response),
        Err(RawFailure::Status {
            code,
            message: text,
        }) => Some(message(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &text,
        )),
        Err(RawFailure::Stream(text)) => Some(message(StatusCode::NOT_FOUND, &text)),
        Err(RawFailure::Malformed(text)) => Some(text_response(StatusCode::OK, &text)),
        // Transport failures scripted on the in-process fake: close the connection.
        Err(_) => None,
    }
}

/// `wait`: the exit code once the container is not running (at once if it
/// already exited).
async fn wait_for_exit(engine: &FakeEngine, id: &str) -> Result<i64, RawFailure> {
    let mut feed = engine.event_feed(None)?;
    let inspect = engine.inspect_container_raw(id.to_string())?;
    let state = inspect.state.unwrap_or_default();
    let full_id = inspect.id.unwrap_or_default();
    if state.running != Some(true) {
        return Ok(state.exit_code.unwrap_or(0));
    }
    while let Some(event) = feed.next().await {
        if let (true, ContainerEventKind::Died { exit_code }) = (event.id == full_id, &event.kind) {
            return Ok(*exit_code);
        }
    }
    Err(RawFailure::ConnectionLost("the engine went away".into()))
}

fn label_filter(query: &HashMap<String, String>) -> String {
    query
        .get("filters")
        .and_then(|filters| serde_json::from_str::<HashMap<String, Vec<String>>>(filters).ok())
        .and_then(|mut filters| filters.remove("label"))
        .and_then(|labels| labels.into_iter().next())
        .unwrap_or_default()
}

/// The events' `since` as Docker takes it (`seconds.nanoseconds`), in Unix nanoseconds.
fn since_nanos(query: &HashMap<String, String>) -> Option<i64> {
    let since = query.get("since")?;
    let (secs, nanos) = since.split_once('.').unwrap_or((since, "0"));
    let nanos = format!("{nanos:0<9}");
    Some(secs.parse::<i64>().ok()? * 1_000_000_000 + nanos.get(..9)?.parse::<i64>().ok()?)
}

fn event_stream(feed: futures::stream::BoxStream<'static, ContainerEvent>) -> Response<Body> {
    let frames = feed.map(|event| {
        let mut line = serde_json::to_vec(&docker_event(&event)).expect("events serialize");
        line.push(b'\n');
        Ok::<_, Infallible>(Frame::data(Bytes::from(line)))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(BodyExt::boxed_unsync(StreamBody::new(frames)))
        .expect("a valid response")
}

/// A container event in the engine's wire form.
pub(crate) fn docker_event(event: &ContainerEvent) -> EventMessage {
    let mut attributes = HashMap::from([("name".to_string(), event.name.clone())]);
    let action = match &event.kind {
        ContainerEventKind::Started => "start",
        ContainerEventKind::Died { exit_code } => {
            attributes.insert("exitCode".into(), exit_code.to_string());
            "die"
        }
        ContainerEventKind::OomKilled => "oom",
        ContainerEventKind::Killed { signal } => {
            attributes.insert("signal".into(), signal.clone());
            "kill"
        }
        ContainerEventKind::Stopped => "stop",
        ContainerEventKind::Destroyed => "destroy",
        ContainerEventKind::HealthChanged(health) => {
            return EventMessage {
                action: Some(format!("health_status: {health}")),
                ..docker_event(&ContainerEvent {
                    kind: ContainerEventKind::Started,
                    ..event.clone()
                })
            };
        }
    };
    EventMessage {
        typ: Some(EventMessageTypeEnum::CONTAINER),
        action: Some(action.into()),
        actor: Some(EventActor {
            id: Some(event.id.clone()),
            attributes: Some(attributes),
        }),
        time: Some(event.time_nanos / 1_000_000_000),
        time_nano: Some(event.time_nanos),
        ..Default::default()
    }
}

fn json_response(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(value.to_string())).boxed_unsync())
        .expect("a valid response")
}

/// An answer with exactly this body (also for scripted malformed replies).
pub(crate) fn text_response(status: StatusCode, text: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(text.to_string())).boxed_unsync())
        .expect("a valid response")
}

/// An error answer in the engine's form: `{"message": "..."}`.
pub(crate) fn message(status: StatusCode, text: &str) -> Response<Body> {
    json_response(status, json!({ "message": text }))
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(body.to_string())).boxed_unsync())
        .expect("a valid response")
}

fn empty() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Full::new(Bytes::new()).boxed_unsync())
        .expect("a valid response")
}

/// Parses a query string, percent-decoding keys and values.
pub(crate) fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_decoded() {
        let query = parse_query(Some(
            "all=true&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&name=x+y",
        ));
        assert_eq!(query["all"], "true");
        assert_eq!(label_filter(&query), "a=b");
        assert_eq!(query["name"], "x y");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn paths_map_to_their_endpoints() {
        assert_eq!(
            endpoint(&Method::POST, "/containers/abc/start"),
            Endpoint::Start
        );
        assert_eq!(
            endpoint(&Method::DELETE, "/containers/abc"),
            Endpoint::Remove
        );
        assert_eq!(
            endpoint(&Method::GET, "/images/library/busybox:1/json"),
            Endpoint::ImageInspect
        );
        assert_eq!(endpoint(&Method::GET, "/events"), Endpoint::Events);
    }
}
