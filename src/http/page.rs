//! `GET /`: the status page for a person. The table is rendered here, so it
//! reads without JavaScript; the embedded script keeps it live over
//! `/v1/events` and drives the buttons.

use std::fmt::Write;

use actix_web::{HttpResponse, web};

use super::Api;
use super::board::RestartEntry;
use super::view::UnitView;

const STYLE: &str = include_str!("page/status.css");
const SCRIPT: &str = include_str!("page/status.js");

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A duration in seconds as the page shows uptimes (`3m 12s`).
pub fn uptime(seconds: u64) -> String {
    let (days, hours, minutes, seconds) = (
        seconds / 86_400,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match () {
        _ if days > 0 => format!("{days}d {hours}h"),
        _ if hours > 0 => format!("{hours}h {minutes}m"),
        _ if minutes > 0 => format!("{minutes}m {seconds}s"),
        _ => format!("{seconds}s"),
    }
}

fn row(unit: &UnitView) -> String {
    let name = escape(&unit.name);
    let health = unit.health.map(|h| h.as_str()).unwrap_or("");
    let restarts = match &unit.last_restart_reason {
        Some(reason) => format!("{} ({})", unit.restart_count, escape(reason)),
        None => unit.restart_count.to_string(),
    };
    let mut row = format!(
        "<tr data-unit=\"{name}\" data-started-at=\"{started}\">\
         <td data-key=\"name\">{name}</td>\
         <td data-key=\"phase\" class=\"phase-{phase}\">{phase}</td>\
         <td data-key=\"health\" class=\"{health_class}\">{health}</td>\
         <td data-key=\"restarts\" class=\"num\">{restarts}</td>\
         <td data-key=\"uptime\" class=\"num\">{uptime}</td>\
         <td data-key=\"exit\" class=\"num\">{exit}</td>\
         <td data-key=\"reason\">{reason}</td><td>",
        started = escape(unit.started_at.as_deref().unwrap_or("")),
        phase = unit.phase,
        health_class = if health.is_empty() {
            String::new()
        } else {
            format!("health-{health}")
        },
        uptime = unit.uptime_seconds.map(uptime).unwrap_or_default(),
        exit = unit
            .last_exit_code
            .map(|code| code.to_string())
            .unwrap_or_default(),
        reason = escape(unit.reason.as_deref().unwrap_or("")),
    );
    for action in ["start", "stop", "restart"] {
        let _ = write!(
            row,
            "<button type=\"button\" data-action=\"{action}\">{action}</button>"
        );
    }
    row.push_str("</td></tr>\n");
    row
}

fn timeline_entry(entry: &RestartEntry) -> String {
    let reason = entry
        .reason
        .as_deref()
        .map(|reason| format!(": {}", escape(reason)))
        .unwrap_or_default();
    format!(
        "<li>{} {} restarting{reason}</li>\n",
        escape(&entry.at),
        escape(&entry.unit)
    )
}

/// The page's HTML for `units` and the recent restarts.
pub fn render(
    namespace: &str,
    csrf: &str,
    units: &[UnitView],
    restarts: &[RestartEntry],
) -> String {
    let rows: String = units.iter().map(row).collect();
    let timeline: String = restarts.iter().map(timeline_entry).collect();
    let namespace = escape(namespace);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"csrf-token\" content=\"{csrf}\">\
         <title>stevedore: {namespace}</title><style>{STYLE}</style></head>\n<body>\
         <h1>stevedore: {namespace}</h1>\
         <div class=\"meta\">version {version} · <span id=\"live\">static</span> · \
         <a href=\"/metrics\">metrics</a> · <a href=\"/v1/units\">JSON</a></div>\
         <div id=\"error\" role=\"alert\"></div>\n\
         <table><thead><tr><th>unit</th><th>state</th><th>health</th><th>restarts</th>\
         <th>uptime</th><th>last exit</th><th>reason</th><th></th></tr></thead>\n\
         <tbody id=\"units\">\n{rows}</tbody></table>\n\
         <h2>Recent restarts</h2><ol id=\"timeline\">\n{timeline}</ol>\n\
         <script>{SCRIPT}</script></body></html>\n",
        csrf = escape(csrf),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// `GET /`.
pub async fn page(api: web::Data<Api>) -> HttpResponse {
    api.board.settle().await;
    let restarts: Vec<RestartEntry> = api
        .board
        .read(|state| state.timeline.iter().cloned().collect());
    let html = render(
        api.board.namespace(),
        &api.csrf,
        &api.board.units(),
        &restarts,
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .body(html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnitSpec;

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn uptimes_read_in_their_two_largest_units() {
        assert_eq!(uptime(5), "5s");
        assert_eq!(uptime(192), "3m 12s");
        assert_eq!(uptime(3 * 3600 + 120), "3h 2m");
        assert_eq!(uptime(2 * 86_400 + 3600), "2d 1h");
    }

    #[test]
    fn the_table_lists_every_unit_without_javascript() {
        let web = UnitView::declared("demo", &UnitSpec::new("web", "busybox:latest"));
        let html = render("demo", "token", &[web], &[]);
        assert!(html.contains("<td data-key=\"name\">web</td>"));
        assert!(html.contains("<meta name=\"csrf-token\" content=\"token\">"));
    }
}
