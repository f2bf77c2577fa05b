//! `stevedore logs`: units' container output, through the running `up`
//! when one answers, else straight from the engine; with several units each
//! line starts with its unit's name, as `docker compose logs` does.

use std::path::Path;

use futures::stream::{self, BoxStream, StreamExt};
use http_body_util::BodyExt;
use stevedore::engine::LogOptions;
use stevedore::gateway::StreamLogs;
use stevedore::labels;

use crate::client::Client;
use crate::engine::Address;
use crate::verbs::percent_encode;
use crate::{Failure, engine, output};

/// One unit's output as it arrives, chunk by chunk.
type Output = BoxStream<'static, Result<bytes::Bytes, String>>;

/// Prints the output of `units`, in `options`' way.
pub async fn run(
    address: &Address,
    namespace: &str,
    socket: &Path,
    units: &[String],
    options: LogOptions,
) -> Result<(), Failure> {
    let mut outputs = Vec::new();
    match Client::connect(socket) {
        Some(client) => {
            for unit in units {
                outputs.push((unit.clone(), through_api(&client, unit, options).await?));
            }
        }
        None => {
            let gateway = engine::gateway(address).await?;
            for unit in units {
                let container = labels::container_name(namespace, unit);
                let found = engine::containers(&gateway, namespace)
                    .await?
                    .iter()
                    .any(|c| c.name == container);
                if !found {
                    return Err(Failure::runtime(format!(
                        "no unit named {unit} in namespace {namespace} has a container"
                    )));
                }
                let chunks = gateway
                    .send(StreamLogs {
                        id: container,
                        options,
                    })
                    .await
                    .map_err(Failure::runtime)?;
                let chunks: Output = chunks
                    .map(|chunk| chunk.map(|c| c.bytes).map_err(|e| e.to_string()))
                    .boxed();
                outputs.push((unit.clone(), chunks));
            }
        }
    }
    let prefixed = outputs.len() > 1;
    let width = units.iter().map(String::len).max().unwrap_or(0);
    let lines = outputs.into_iter().map(|(unit, chunks)| {
        let prefix = if prefixed {
            format!("{unit:width$} | ")
        } else {
            String::new()
        };
        lines_of(chunks)
            .map(move |line| line.map(|line| format!("{prefix}{line}\n")))
            .boxed()
    });
    let mut merged = stream::select_all(lines);
    while let Some(line) = merged.next().await {
        match line {
            Ok(line) => output::stdout(&line),
            Err(error) => return Err(Failure::runtime(format!("the logs broke off: {error}"))),
        }
    }
    Ok(())
}

async fn through_api(client: &Client, unit: &str, options: LogOptions) -> Result<Output, Failure> {
    let mut path = format!(
        "/v1/units/{}/logs?follow={}&timestamps={}",
        percent_encode(unit),
        u8::from(options.follow),
        u8::from(options.timestamps)
    );
    if let Some(tail) = options.tail {
        path.push_str(&format!("&tail={tail}"));
    }
    let body = client.stream(&path).await?;
    let chunks = stream::unfold(body, |mut body| async move {
        loop {
            match body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some((Ok(data), body)),
                    Err(_) => continue,
                },
                Err(error) => return Some((Err(error.to_string()), body)),
            }
        }
    });
    Ok(chunks.boxed())
}

/// Chunks cut into lines (without their newline); a last line without one
/// comes out when the stream ends.
fn lines_of(chunks: Output) -> BoxStream<'static, Result<String, String>> {
    stream::unfold(
        (chunks, String::new(), false),
        |(mut chunks, mut pending, mut done)| async move {
            loop {
                if let Some(end) = pending.find('\n') {
                    let line: String = pending.drain(..=end).collect();
                    return Some((
                        Ok(line.trim_end_matches(['\n', '\r']).to_string()),
                        (chunks, pending, done),
                    ));
                }
                if done {
                    if pending.is_empty() {
                        return None;
                    }
                    let line = std::mem::take(&mut pending);
                    return Some((Ok(line), (chunks, pending, done)));
                }
                match chunks.next().await {
                    Some(Ok(bytes)) => pending.push_str(&String::from_utf8_lossy(&bytes)),
                    Some(Err(error)) => return Some((Err(error), (chunks, pending, true))),
                    None => done = true,
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix::test]
    async fn chunks_are_cut_into_lines_whatever_their_boundaries() {
        let chunks: Output = stream::iter(["one\ntw", "o\n", "three"])
            .map(|s| Ok(bytes::Bytes::from(s)))
            .boxed();
        let lines: Vec<String> = lines_of(chunks).map(Result::unwrap).collect().await;
        assert_eq!(lines, ["one", "two", "three"]);
    }
}
