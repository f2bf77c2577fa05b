//! `GET /v1/units/{name}/logs?tail=N&follow=1&timestamps=1`: the unit's
//! container output as the engine keeps it, streamed as plain text
//! (standard output and error interleaved, as they came).

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures::StreamExt;
use serde::Deserialize;

use super::Api;
use super::error::ApiError;
use crate::engine::LogOptions;
use crate::gateway::StreamLogs;

/// The query of the logs route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    /// How many of the last lines: a number or `all` (the default).
    tail: Option<String>,
    /// `1`/`true`: go on with what the unit prints from now on.
    follow: Option<String>,
    /// `1`/`true`: each line prefixed with the engine's time.
    timestamps: Option<String>,
}

fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true" | "") => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{name} must be 1, 0, true or false, not {other:?}"
        ))),
    }
}

impl LogsQuery {
    /// The engine's options for this query.
    pub fn options(&self) -> Result<LogOptions, ApiError> {
        let tail = match self.tail.as_deref() {
            None | Some("all") => None,
            Some(n) => Some(n.parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!("tail must be a number of lines or all, not {n:?}"))
            })?),
        };
        Ok(LogOptions {
            tail,
            follow: flag("follow", self.follow.as_deref())?,
            timestamps: flag("timestamps", self.timestamps.as_deref())?,
        })
    }
}

/// The route.
pub async fn logs(
    api: web::Data<Api>,
    name: web::Path<String>,
    query: web::Query<LogsQuery>,
) -> Result<HttpResponse, ApiError> {
    let options = query.options()?;
    let name = name.into_inner();
    let snapshot = api
        .supervisor
        .snapshot(&name)
        .await
        .ok_or_else(|| ApiError::UnknownUnit(name.clone()))?;
    let id = snapshot
        .container
        .ok_or_else(|| ApiError::Conflict(format!("unit {name} has no container yet")))?;
    let stream = api
        .supervisor
        .gateway()
        .send(StreamLogs { id, options })
        .await
        .map_err(|_| ApiError::Unavailable("the engine gateway is gone".into()))?;
    // The first answer tells whether the engine has the logs at all.
    let mut stream = stream.peekable();
    if let Some(Err(error)) = std::pin::Pin::new(&mut stream).peek().await {
        let error = crate::unit::UnitError::Engine(error.clone());
        return Err(error.into());
    }
    let body = stream
        .take_while(|chunk| futures::future::ready(chunk.is_ok()))
        .map(|chunk| {
            Ok::<Bytes, std::convert::Infallible>(chunk.map(|c| c.bytes).unwrap_or_default())
        });
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(tail: Option<&str>, follow: Option<&str>) -> LogsQuery {
        LogsQuery {
            tail: tail.map(str::to_string),
            follow: follow.map(str::to_string),
            timestamps: None,
        }
    }

    #[test]
    fn tail_is_a_number_or_all_and_flags_are_ones_and_zeros() {
        assert_eq!(
            query(Some("10"), Some("1")).options().unwrap().tail,
            Some(10)
        );
        assert!(query(None, Some("true")).options().unwrap().follow);
        assert_eq!(query(Some("all"), None).options().unwrap().tail, None);
        assert!(query(Some("-3"), None).options().is_err());
        assert!(query(None, Some("yes")).options().is_err());
    }
}
