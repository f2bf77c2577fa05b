//! `start`, `stop`, `restart`, `reload` and `events`: what a running `up`
//! does when asked through its control API.

use futures::future::join_all;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::Value;

use crate::client::Client;
use crate::output;
use crate::{Failure, LogFormat};

/// Asks the `up` to `action` (start, stop, restart) each unit, all at once;
/// prints each unit's state after it, in the order given. Fails (exit 1)
/// naming the units it could not act on.
pub async fn act(client: &Client, action: &str, names: &[String]) -> Result<(), Failure> {
    let asks = names.iter().map(|name| async move {
        let path = format!("/v1/units/{}/{action}", percent_encode(name));
        (name, client.call(Method::POST, &path).await)
    });
    let mut failed = Vec::new();
    for (name, answer) in join_all(asks).await {
        match answer {
            Ok(answer) if answer.status.is_success() => {
                let phase = answer.body["phase"].as_str().unwrap_or("?");
                output::stdout(&format!("{name}: {phase}\n"));
            }
            Ok(answer) => {
                eprintln!("stevedore: {name}: {}", answer.message());
                failed.push(name.as_str());
            }
            Err(failure) => {
                eprintln!("stevedore: {name}: {}", failure.text());
                failed.push(name.as_str());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::runtime(format!(
            "could not {action} {}",
            failed.join(", ")
        )))
    }
}

/// Asks the `up` to re-read its manifest; prints what changed, or the
/// manifest's problems (exit 2: nothing changed).
pub async fn reload(client: &Client) -> Result<(), Failure> {
    let answer = client.call(Method::POST, "/v1/reload").await?;
    if answer.status.is_success() {
        for key in ["added", "updated", "removed", "unchanged"] {
            let names: Vec<&str> = answer.body[key]
                .as_array()
                .map(|names| names.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !names.is_empty() {
                output::stdout(&format!("{key}: {}\n", names.join(", ")));
            }
        }
        return Ok(());
    }
    let problems = answer.body["problems"]
        .as_array()
        .map(|problems| {
            problems
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let failure = if answer.status.is_client_error() {
        Failure::input(format!("reload refused: {}", answer.message()))
    } else {
        Failure::runtime(format!("reload failed: {}", answer.message()))
    };
    Err(failure.with_problems(problems))
}

/// Prints the namespace's unit events as they happen, until interrupted:
/// one line each (`time unit state (reason)`), or each event's JSON.
pub async fn events(client: &Client, format: LogFormat) -> Result<(), Failure> {
    let mut body = client.stream("/v1/events").await?;
    let mut pending = String::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|error| Failure::runtime(format!("events broke off: {error}")))?;
        let Some(chunk) = frame.data_ref() else {
            continue;
        };
        pending.push_str(&String::from_utf8_lossy(chunk));
        while let Some(end) = pending.find("\n\n") {
            let message: String = pending.drain(..end + 2).collect();
            if let Some(line) = event_line(&message, format) {
                output::stdout(&line);
            }
        }
    }
    Err(Failure::runtime("the supervisor closed the events stream"))
}

/// The line for one SSE message; `None` for comments and other messages.
pub fn event_line(message: &str, format: LogFormat) -> Option<String> {
    let data = message
        .lines()
        .find_map(|line| line.strip_prefix("data: "))?;
    if message.lines().any(|line| line.starts_with("event: ")) {
        return None; // a reset: not a unit event
    }
    if format == LogFormat::Json {
        return Some(format!("{data}\n"));
    }
    let event: Value = serde_json::from_str(data).ok()?;
    let mut line = format!(
        "{} {} {}",
        event["at"].as_str().unwrap_or(""),
        event["unit"].as_str().unwrap_or(""),
        event["state"].as_str().unwrap_or("")
    );
    if let Some(health) = event["health"].as_str() {
        line.push_str(&format!(" ({health})"));
    }
    if let Some(reason) = event["reason"].as_str() {
        line.push_str(&format!(": {reason}"));
    }
    line.push('\n');
    Some(line)
}

/// A unit name for a URL path: names are letters, digits, `_`, `.`, `-`,
/// but whatever was typed is encoded, so that it is looked up, not routed.
pub fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_as_one_line_with_its_reason() {
        let message = "id: 3\ndata: {\"at\":\"2026-12-01T12:00:00.000Z\",\"unit\":\"web\",\"state\":\"backing-off\",\"reason\":\"exited with code 1\",\"health\":null}\n\n";
        assert_eq!(
            event_line(message, LogFormat::Text).unwrap(),
            "2026-12-01T12:00:00.000Z web backing-off: exited with code 1\n"
        );
    }

    #[test]
    fn comments_and_resets_print_nothing() {
        assert_eq!(event_line(": keepalive\n\n", LogFormat::Text), None);
        assert_eq!(
            event_line(
                "id: 9\nevent: reset\ndata: {\"last_id\":9}\n\n",
                LogFormat::Json
            ),
            None
        );
    }

    #[test]
    fn a_typed_name_is_encoded_not_routed() {
        assert_eq!(percent_encode("web-1.a_b"), "web-1.a_b");
        assert_eq!(percent_encode("../x"), "..%2Fx");
    }
}
