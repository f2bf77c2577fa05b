//! Parsing and printing of the strings people already type to `docker run`.
//!
//! Ports (`"127.0.0.1:18080:8080/udp"`, ranges `"8000-8010:8000-8010"`),
//! volumes (`"/srv:/data:ro"`), memory sizes (`"64m"`, `"1.5g"`, `"512mb"`),
//! durations (`"100ms"`, `"1.5s"`, `"1h30m"`, `"500us"`) and restart policies
//! (`"on-failure:3"`) all go through here, so the manifest, the builder and
//! `stevedore ps` speak one vocabulary.

mod ports;
mod quantity;
#[cfg(test)]
mod tests;

pub use self::ports::{format_port, parse_port, parse_ports};
pub use self::quantity::{format_duration, parse_duration, parse_size};

use super::VolumeMount;

/// Parses a mount: `HOST_PATH:CONTAINER_PATH[:ro|:rw]`, or a named
/// volume's `NAME:CONTAINER_PATH[:ro|:rw]`.
pub fn parse_volume(text: &str) -> Result<VolumeMount, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (host, container, read_only) = match parts.as_slice() {
        [host, container] => (*host, *container, false),
        [host, container, "ro"] => (*host, *container, true),
        [host, container, "rw"] => (*host, *container, false),
        [_, _, mode] => {
            return Err(format!(
                "unknown mode {mode:?} in volume {text:?} (expected ro or rw)"
            ));
        }
        _ => {
            return Err(format!(
                "volume {text:?} is not HOST_PATH:CONTAINER_PATH[:ro|rw] (or VOLUME_NAME:CONTAINER_PATH)"
            ));
        }
    };
    Ok(VolumeMount {
        source: host.into(),
        container: container.into(),
        read_only,
    })
}

/// Reads a tmpfs mount as `docker run --tmpfs` takes it: `PATH[:OPTIONS]`.
pub fn parse_tmpfs(text: &str) -> (std::path::PathBuf, String) {
    let (path, options) = text.split_once(':').unwrap_or((text, ""));
    (path.into(), options.to_string())
}

/// Prints a tmpfs mount in the form [`parse_tmpfs`] reads.
pub fn format_tmpfs(path: &std::path::Path, options: &str) -> String {
    match options {
        "" => path.display().to_string(),
        options => format!("{}:{options}", path.display()),
    }
}

/// Prints a volume in the form [`parse_volume`] reads (and Docker's `Binds` take).
pub fn format_volume(volume: &VolumeMount) -> String {
    let mode = if volume.read_only { ":ro" } else { "" };
    format!(
        "{}:{}{mode}",
        volume.source.display(),
        volume.container.display()
    )
}

/// Serde adapters so that durations read and write as `"10s"`.
pub mod duration_serde {
    use super::{format_duration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Writes a duration as text.
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(*value))
    }

    /// Reads a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde adapters so that optional durations read and write as `"10s"`.
pub mod opt_duration_serde {
    use super::{format_duration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Writes a duration as text.
    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_str(&format_duration(*duration)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Serde adapter for an optional memory size written as `"64m"` or a byte count.
pub mod size_serde {
    use super::parse_size;
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum SizeText {
        Bytes(u64),
        Text(String),
    }

    /// Writes the size as a byte count.
    pub fn serialize<S: Serializer>(value: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_u64(*bytes),
            None => serializer.serialize_none(),
        }
    }

    /// Reads `"64m"`, `"1g"` or a plain byte count.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u64>, D::Error> {
        match Option::<SizeText>::deserialize(deserializer)? {
            None => Ok(None),
            Some(SizeText::Bytes(bytes)) => Ok(Some(bytes)),
            Some(SizeText::Text(text)) => parse_size(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Serde adapter for a list of ports, each a publication as `docker run -p`
/// takes it, ranges included (a range is one mapping per port).
pub mod ports_serde {
    use super::parse_ports;
    use crate::spec::PortMapping;
    use serde::{Deserialize, Deserializer};

    /// Reads `["8080", "8000-8010:8000-8010/udp"]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<PortMapping>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        let mut ports = Vec::new();
        for text in texts {
            ports.extend(parse_ports(&text).map_err(serde::de::Error::custom)?);
        }
        Ok(ports)
    }
}
