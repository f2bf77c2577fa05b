//! Port publications as `docker run -p` takes them, ranges included.

use crate::spec::{PortMapping, Protocol};

/// Parses one docker-style port publication:
/// `[[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]`.
///
/// A missing host port means "any free port" (`0`), as with `docker run -p
/// 8080`. A range of more than one port is refused here: it is several
/// mappings, which [`parse_ports`] reads.
pub fn parse_port(text: &str) -> Result<PortMapping, String> {
    let mut ports = parse_ports(text)?;
    match ports.len() {
        1 => Ok(ports.remove(0)),
        count => Err(format!(
            "port {text:?} is a range of {count} ports; one PortMapping is one port (parse_ports reads ranges)"
        )),
    }
}

/// Parses a docker-style port publication that may be a range, into one
/// mapping per port: `[[HOST_IP:]HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO]`.
///
/// `"8000-8010"` publishes container ports 8000 to 8010 each on a free host
/// port; `"127.0.0.1:8000-8010:9000-9010/udp"` maps them port for port. A
/// host range and a container range must have the same length, as Docker
/// requires (Docker's one other form, a host range with a single container
/// port meaning "any free port in the range", has no [`PortMapping`] and is
/// refused).
pub fn parse_ports(text: &str) -> Result<Vec<PortMapping>, String> {
    let (body, protocol) = match text.rsplit_once('/') {
        Some((body, "tcp")) => (body, Protocol::Tcp),
        Some((body, "udp")) => (body, Protocol::Udp),
        Some((_, other)) => {
            return Err(format!(
                "unknown protocol {other:?} in port {text:?} (expected tcp or udp)"
            ));
        }
        None => (text, Protocol::Tcp),
    };
    // An IPv6 host address is written in brackets: "[::1]:8080:80".
    let (host_ip, rest) = if let Some(stripped) = body.strip_prefix('[') {
        let (ip, rest) = stripped
            .split_once("]:")
            .ok_or_else(|| format!("unclosed '[' in port {text:?}"))?;
        (Some(ip.to_string()), rest)
    } else {
        let parts: Vec<&str> = body.split(':').collect();
        match parts.len() {
            1 | 2 => (None, body),
            3 => (Some(parts[0].to_string()), &body[parts[0].len() + 1..]),
            _ => {
                return Err(format!(
                    "port {text:?} is not [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]"
                ));
            }
        }
    };
    let (host, container) = match rest.split_once(':') {
        Some((host, container)) => (Some(parse_range(host, text)?), container),
        None => (None, rest),
    };
    let (first, last) = parse_range(container, text)?
        .ok_or_else(|| format!("\"\" in port {text:?} is not a port number (0-65535)"))?;
    let count = usize::from(last - first) + 1;
    // `None`: every host port is left to the engine.
    let host_start = match host {
        None | Some(None) => None,
        Some(Some((start, end))) if usize::from(end - start) + 1 == count => Some(start),
        Some(Some((start, end))) => {
            return Err(format!(
                "port {text:?} maps {} host port{} ({}) to {count} container port{} ({}); Docker maps a range port for port, so both sides must have the same length",
                end - start + 1,
                if end == start { "" } else { "s" },
                range_text(start, end),
                if count == 1 { "" } else { "s" },
                range_text(first, last),
            ));
        }
    };
    let host_ip = host_ip.filter(|ip| !ip.is_empty());
    Ok((first..=last)
        .map(|internal| PortMapping {
            internal,
            external: host_start.map_or(0, |start| start + (internal - first)),
            protocol,
            host_ip: host_ip.clone(),
        })
        .collect())
}

fn range_text(start: u16, end: u16) -> String {
    if start == end {
        start.to_string()
    } else {
        format!("{start}-{end}")
    }
}

/// `"8000"` or `"8000-8010"` as (first, last); `None` for an empty side
/// (`"127.0.0.1::80"`: any free host port).
fn parse_range(text: &str, whole: &str) -> Result<Option<(u16, u16)>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let number = |part: &str| {
        part.parse::<u16>()
            .map_err(|_| format!("{part:?} in port {whole:?} is not a port number (0-65535)"))
    };
    let (start, end) = match text.split_once('-') {
        None => (number(text)?, number(text)?),
        Some((start, end)) => (number(start)?, number(end)?),
    };
    if end < start {
        return Err(format!(
            "range {text:?} in port {whole:?} ends before it starts"
        ));
    }
    Ok(Some((start, end)))
}

/// Prints a port mapping in the form [`parse_port`] reads.
pub fn format_port(port: &PortMapping) -> String {
    let proto = match port.protocol {
        Protocol::Tcp => "",
        Protocol::Udp => "/udp",
    };
    match (&port.host_ip, port.external) {
        (Some(ip), external) if ip.contains(':') => {
            format!("[{ip}]:{external}:{}{proto}", port.internal)
        }
        (Some(ip), external) => format!("{ip}:{external}:{}{proto}", port.internal),
        (None, 0) => format!("{}{proto}", port.internal),
        (None, external) => format!("{external}:{}{proto}", port.internal),
    }
}
