//! `GET /v1/events`: the namespace's unit events as Server-Sent Events, each
//! with its sequence number as `id`, resumable with `Last-Event-ID`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures::Stream;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::board::{Board, Numbered};
use super::error::ApiError;

/// A comment line this often keeps proxies and clients from timing out, and
/// tells a dead connection apart.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The SSE message of one event.
pub fn frame(event: &Numbered) -> Bytes {
    Bytes::from(format!("id: {}\ndata: {}\n\n", event.id, event.json))
}

/// The message that tells a client its resume point is no longer kept (or
/// is another process's): it must re-read `/v1/units`; the stream goes on
/// after event `last_id`.
pub fn reset(last_id: u64) -> Bytes {
    Bytes::from(format!(
        "id: {last_id}\nevent: reset\ndata: {{\"last_id\":{last_id}}}\n\n"
    ))
}

/// The id to resume after: the `Last-Event-ID` header (which browsers send
/// when they reconnect), else the `last_event_id` query parameter.
pub fn resume_point(request: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let header = request
        .headers()
        .get("Last-Event-ID")
        .map(|value| value.to_str().unwrap_or("\u{0}").to_string());
    let query = actix_web::web::Query::<std::collections::HashMap<String, String>>::from_query(
        request.query_string(),
    )
    .ok()
    .and_then(|query| query.get("last_event_id").cloned());
    match header.or(query) {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => text.trim().parse().map(Some).map_err(|_| {
            ApiError::BadRequest(format!(
                "Last-Event-ID must be an event id (a number), not {text:?}"
            ))
        }),
    }
}

/// One client's stream: what is queued to send, then the live events.
struct Feed {
    board: Board,
    live: broadcast::Receiver<Arc<Numbered>>,
    queued: VecDeque<Bytes>,
    /// The id of the last event sent (or skipped as already seen).
    sent: u64,
    keepalive: tokio::time::Interval,
}

impl Feed {
    /// Queues every kept event after `sent`, or a reset when they are not
    /// all kept.
    fn catch_up(&mut self) {
        match self.board.read(|state| state.after(self.sent)) {
            Some(events) => {
                for event in events {
                    self.sent = event.id;
                    self.queued.push_back(frame(&event));
                }
            }
            None => {
                self.sent = self.board.read(|state| state.last_id());
                self.queued.push_back(reset(self.sent));
            }
        }
    }

    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Feed)> {
        loop {
            if let Some(bytes) = self.queued.pop_front() {
                return Some((Ok(bytes), self));
            }
            tokio::select! {
                received = self.live.recv() => match received {
                    Ok(event) if event.id <= self.sent => continue,
                    Ok(event) => {
                        self.sent = event.id;
                        return Some((Ok(frame(&event)), self));
                    }
                    // Too slow for the live channel: the kept events fill
                    // the gap, so a slow client loses nothing either.
                    Err(RecvError::Lagged(_)) => self.catch_up(),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.keepalive.tick() => {
                    return Some((Ok(Bytes::from_static(b": keepalive\n\n")), self));
                }
            }
        }
    }
}

/// The event stream for one request.
pub fn stream(
    board: &Board,
    resume_after: Option<u64>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    // Subscribed before the kept events are read, so that none falls
    // between the two; ids already sent are skipped.
    let live = board.subscribe();
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.reset(); // the first tick is a period away, not now
    let mut feed = Feed {
        board: board.clone(),
        live,
        queued: VecDeque::from([Bytes::from_static(b"retry: 1000\n\n")]),
        sent: 0,
        keepalive,
    };
    match resume_after {
        Some(id) => {
            feed.sent = id;
            feed.catch_up();
        }
        None => feed.sent = board.read(|state| state.last_id()),
    }
    futures::stream::unfold(feed, Feed::next)
}

/// `GET /v1/events`.
pub async fn events(request: HttpRequest, board: &Board) -> Result<HttpResponse, ApiError> {
    let resume_after = resume_point(&request)?;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream(board, resume_after)))
}
