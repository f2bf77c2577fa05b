//! The walk over a parsed manifest: every table, every key, every problem.

use std::collections::HashMap;
use std::time::Duration;

use toml_edit::{Item, Table, TableLike, Value};

use super::Manifest;
use super::fields::{Field, Found, Scope, Seen, fields, kind};
use super::health::{ON_UNHEALTHY_EXPECTED, PartialHealth, report_graph};
use super::locate::{Lines, Locations, UnitSeen};
use super::options::OPTION_KEYS;
use super::policy::{PartialBackoff, PartialIntensity};
use super::resources::{read_resources, undeclared};
use crate::policy::RestartPolicy;
use crate::spec::text::{parse_ports, parse_volume};
use crate::spec::validate::{host_ports_overlap, is_valid_name};
use crate::spec::{OnUnhealthy, PortMapping, Protocol, Resources, SpecProblem, UnitSpec, validate};

/// Keys at the top of a manifest.
const TOP_KEYS: &[&str] = &["namespace", "defaults", "unit", "network", "volume"];
/// Keys of `[defaults]`.
const DEFAULTS_KEYS: &[&str] = &[
    "restart",
    "backoff",
    "intensity",
    "stop_timeout",
    "stop_signal",
    "healthcheck",
    "on_unhealthy",
];
/// Keys of a `[[unit]]`.
const UNIT_KEYS: &[&str] = &[
    "name",
    "image",
    "command",
    "env",
    "ports",
    "volumes",
    "tmpfs",
    "networks",
    "memory",
    "cpu_shares",
    "swappiness",
    "restart",
    "backoff",
    "intensity",
    "stop_timeout",
    "stop_signal",
    "labels",
    "healthcheck",
    "on_unhealthy",
    "depends_on",
];

const RESTART_EXPECTED: &str = "a restart policy such as \"on-failure:3\"";

/// The settings a unit can take from `[defaults]`, as written.
#[derive(Debug, Clone, Default)]
struct Settings {
    restart: Option<RestartPolicy>,
    backoff: PartialBackoff,
    intensity: PartialIntensity,
    stop_timeout: Option<Duration>,
    stop_signal: Option<String>,
    healthcheck: PartialHealth,
    on_unhealthy: Option<OnUnhealthy>,
}

impl Settings {
    /// Reads `entry` when it is one of the settings; false when it is not.
    fn read(&mut self, scope: &mut Scope<'_>, entry: &Field<'_>) -> bool {
        let (item, at) = (entry.item, entry.at);
        match entry.name {
            "restart" => {
                self.restart = scope.parsed("restart", item, at, RESTART_EXPECTED, str::parse)
            }
            "backoff" => self.backoff = scope.backoff("backoff", item, at),
            "intensity" => self.intensity = scope.intensity("intensity", item, at),
            "stop_timeout" => self.stop_timeout = scope.duration("stop_timeout", item, at),
            "stop_signal" => self.stop_signal = scope.signal("stop_signal", item, at),
            "healthcheck" => self.healthcheck = scope.healthcheck("healthcheck", item, at),
            "on_unhealthy" => {
                let expected = ON_UNHEALTHY_EXPECTED;
                self.on_unhealthy = scope.parsed("on_unhealthy", item, at, expected, str::parse)
            }
            _ => return false,
        }
        true
    }

    /// Puts these settings into `spec`, each missing one taken from
    /// `defaults`; `backoff`, `intensity` and `healthcheck` key by key.
    fn apply(self, defaults: &Settings, spec: &mut UnitSpec, scope: &mut Scope<'_>) {
        if let Some(restart) = self.restart.or(defaults.restart) {
            spec.restart = restart;
        }
        spec.backoff = self.backoff.over(defaults.backoff).finish();
        spec.intensity = self.intensity.over(defaults.intensity).finish();
        if let Some(timeout) = self.stop_timeout.or(defaults.stop_timeout) {
            spec.stop_timeout = timeout;
        }
        if let Some(signal) = self.stop_signal.or_else(|| defaults.stop_signal.clone()) {
            spec.stop_signal = signal;
        }
        spec.healthcheck = scope.merged_health(self.healthcheck, &defaults.healthcheck);
        spec.on_unhealthy = self.on_unhealthy.or(defaults.on_unhealthy);
    }
}

/// `[defaults]` as read, with where each value was written.
#[derive(Debug, Default)]
struct Defaults {
    settings: Settings,
    seen: Seen,
}

/// Reads the whole document; every problem goes to `problems`.
pub(super) fn walk(text: &str, root: &Table, problems: &mut Vec<Found>) -> Manifest {
    let root: &dyn TableLike = root;
    let entries = fields(root, 0);
    let mut namespace = String::new();
    let mut defaults = Defaults::default();
    {
        let mut scope = Scope::new(text, problems, None, "");
        for entry in entries.iter() {
            match entry.name {
                "namespace" => namespace = read_namespace(&mut scope, entry).unwrap_or_default(),
                "defaults" | "unit" | "network" | "volume" => {}
                name if UNIT_KEYS.contains(&name) || OPTION_KEYS.contains(&name) => scope.report(
                    entry.key_at,
                    name,
                    "is a unit setting; put it under a [[unit]] table",
                ),
                name => scope.unknown(name, name, entry.key_at, TOP_KEYS),
            }
        }
        if !root.contains_key("namespace") {
            scope.report(
                0,
                "namespace",
                "is missing; a manifest starts with namespace = \"NAME\"",
            );
        }
    }
    if let Some(entry) = entries.iter().find(|entry| entry.name == "defaults") {
        defaults = read_defaults(text, problems, entry);
    }
    let resources = read_resources(text, problems, &entries);
    let mut walker = Walker {
        text,
        problems,
        defaults: &defaults,
        resources: &resources,
        names: HashMap::new(),
        published: HashMap::new(),
        units: Vec::new(),
        seen: Vec::new(),
    };
    if let Some(entry) = entries.iter().find(|entry| entry.name == "unit") {
        walker.read_units(entry);
    }
    report_graph(&walker.units, &walker.seen, walker.problems);
    // Positions only for a manifest that will be used.
    let locations = if walker.problems.is_empty() {
        Locations::new(&Lines::new(text), &defaults.seen.spans, &walker.seen)
    } else {
        Locations::default()
    };
    Manifest {
        namespace,
        units: walker.units,
        resources,
        file: String::new(),
        locations,
    }
}

fn read_namespace(scope: &mut Scope<'_>, entry: &Field<'_>) -> Option<String> {
    let namespace = scope.string("namespace", entry.item, entry.at)?;
    let problem = if !is_valid_name(&namespace) {
        "it must start with a letter or digit and contain only letters, digits, '_', '.' and '-'"
    } else if namespace.contains("--") {
        "\"--\" separates the namespace from the unit in container names"
    } else {
        return Some(namespace);
    };
    scope.report(
        entry.at,
        "namespace",
        format!("{namespace:?} is not a valid namespace: {problem}"),
    );
    None
}

fn read_defaults(text: &str, problems: &mut Vec<Found>, entry: &Field<'_>) -> Defaults {
    let Some(table) = entry.item.as_table_like() else {
        let message = format!("must be a table, not {}", kind(entry.item));
        Scope::new(text, problems, None, "").report(entry.at, "defaults", message);
        return Defaults::default();
    };
    let mut scope = Scope::new(text, problems, None, "defaults.");
    let mut settings = Settings::default();
    for entry in fields(table, entry.at) {
        if settings.read(&mut scope, &entry) {
            continue;
        }
        let name = entry.name;
        if UNIT_KEYS.contains(&name) {
            let message = format!(
                "cannot be set in [defaults] (only {} can)",
                DEFAULTS_KEYS.join(", ")
            );
            scope.report(entry.key_at, name, message);
        } else {
            scope.unknown(name, name, entry.key_at, DEFAULTS_KEYS);
        }
    }
    Defaults {
        settings,
        seen: scope.seen,
    }
}

/// The reading of the units, which need the defaults and each other's names.
struct Walker<'a> {
    text: &'a str,
    problems: &'a mut Vec<Found>,
    defaults: &'a Defaults,
    /// Unit name → offset of the first unit's `name` value.
    names: HashMap<String, usize>,
    /// The networks and volumes units may use.
    resources: &'a Resources,
    /// The host ports the units read so far publish, by number and protocol.
    published: HashMap<(u16, Protocol), Vec<Published>>,
    units: Vec<UnitSpec>,
    /// Where each unit's fields were written, one per unit of `units`.
    seen: Vec<UnitSeen>,
}

/// A port a unit publishes, as written.
struct Published {
    /// The unit's name, or `#3`.
    unit: String,
    port: PortMapping,
    text: String,
    /// Offset of the port's string.
    at: usize,
}

impl Walker<'_> {
    fn read_units(&mut self, entry: &Field<'_>) {
        match entry.item {
            Item::ArrayOfTables(tables) => {
                for (index, table) in tables.iter().enumerate() {
                    let header = table.span().map_or(entry.at, |span| span.start);
                    self.read_unit(index, table, header);
                }
            }
            Item::Value(Value::Array(array)) if array.iter().all(Value::is_inline_table) => {
                for (index, value) in array.iter().enumerate() {
                    if let Some(table) = value.as_inline_table() {
                        let header = value.span().map_or(entry.at, |span| span.start);
                        self.read_unit(index, table, header);
                    }
                }
            }
            other => {
                let message = format!(
                    "must be an array of tables (one [[unit]] section per unit), not {}",
                    kind(other)
                );
                let mut scope = Scope::new(self.text, self.problems, None, "");
                scope.report(entry.at, "unit", message);
            }
        }
    }

    fn read_unit(&mut self, index: usize, table: &dyn TableLike, header: usize) {
        let entries = fields(table, header);
        let name = table.get("name").and_then(Item::as_str);
        let label = name.map_or_else(|| format!("#{}", index + 1), str::to_string);
        let mut scope = Scope::new(self.text, self.problems, Some(label), "");
        let mut spec = UnitSpec::new("", "");
        let mut settings = Settings::default();
        // Index in the manifest's array of each port and volume kept in the spec.
        let (mut port_index, mut volume_index) = (Vec::new(), Vec::new());
        // Each port kept, with its index in the manifest, for the other units.
        let mut own_ports = Vec::new();
        for entry in &entries {
            let (item, at) = (entry.item, entry.at);
            match entry.name {
                "name" => spec.name = scope.string("name", item, at).unwrap_or_default(),
                "image" => spec.image = scope.string("image", item, at).unwrap_or_default(),
                "command" => {
                    let list = scope.string_list("command", item, at);
                    spec.command =
                        list.map(|list| list.into_iter().map(|(text, _)| text).collect());
                }
                "env" => spec.env = scope.text_table("env", item, at, true).unwrap_or_default(),
                "ports" => {
                    for (index, text, at) in list_items(&mut scope, "ports", entry) {
                        // A range is one port of the spec per port of it.
                        match parse_ports(&text) {
                            Ok(ports) => {
                                for port in ports {
                                    let unit = scope.unit.clone().unwrap_or_default();
                                    let written = Published {
                                        unit,
                                        port: port.clone(),
                                        text: text.clone(),
                                        at,
                                    };
                                    own_ports.push((index, written));
                                    spec.ports.push(port);
                                    port_index.push(index);
                                }
                            }
                            Err(message) => scope.report(at, &format!("ports[{index}]"), message),
                        }
                    }
                }
                "volumes" => {
                    for (index, text, at) in list_items(&mut scope, "volumes", entry) {
                        match parse_volume(&text) {
                            Ok(volume) => {
                                spec.volumes.push(volume);
                                volume_index.push(index);
                            }
                            Err(message) => scope.report(at, &format!("volumes[{index}]"), message),
                        }
                    }
                }
                "tmpfs" => spec.tmpfs = scope.tmpfs("tmpfs", item, at),
                "networks" => spec.networks = scope.networks("networks", item, at),
                "memory" => spec.memory = scope.size("memory", item, at),
                "cpu_shares" => spec.cpu_shares = scope.count("cpu_shares", item, at),
                "swappiness" => spec.swappiness = scope.integer("swappiness", item, at),
                "labels" => {
                    spec.labels = scope
                        .text_table("labels", item, at, false)
                        .unwrap_or_default()
                }
                "depends_on" => spec.depends_on = scope.depends_on("depends_on", item, at),
                _ if settings.read(&mut scope, entry) => {}
                _ if scope.option(entry, &mut spec.options) => {}
                name => {
                    let known: Vec<&str> = UNIT_KEYS.iter().chain(OPTION_KEYS).copied().collect();
                    scope.unknown(name, name, entry.key_at, &known)
                }
            }
        }
        for required in ["name", "image"] {
            if !table.contains_key(required) {
                scope.report(header, required, "is missing");
            }
        }
        if let Some(name) = name
            && let Some(&at) = scope.seen.spans.get("name")
        {
            match self.names.get(name) {
                Some(&first) => {
                    let line = self.text[..first].matches('\n').count() + 1;
                    let message =
                        format!("{name:?} is already the name of the unit on line {line}");
                    scope.report(at, "name", message);
                }
                None => {
                    self.names.insert(name.to_string(), at);
                }
            }
        }
        settings.apply(&self.defaults.settings, &mut spec, &mut scope);
        let mut problems = validate(&spec).err().unwrap_or_default();
        let missing = undeclared(&spec, self.resources).into_iter();
        problems.extend(missing.map(|(field, message)| SpecProblem { field, message }));
        {
            for problem in problems {
                place(
                    &mut scope,
                    self.defaults,
                    problem,
                    header,
                    &port_index,
                    &volume_index,
                );
            }
        }
        claim_host_ports(self.text, &mut self.published, &mut scope, own_ports);
        self.seen.push(UnitSeen {
            label: scope.unit.take().unwrap_or_default(),
            header,
            spans: scope.seen.spans,
        });
        self.units.push(spec);
    }
}

/// Reports each of a unit's host ports that an earlier unit publishes
/// (on an overlapping address, see [`host_ports_overlap`]), then records
/// them for the units after it. The same unit's repeats are
/// `validate`'s to report.
fn claim_host_ports(
    text: &str,
    published: &mut HashMap<(u16, Protocol), Vec<Published>>,
    scope: &mut Scope<'_>,
    ports: Vec<(usize, Published)>,
) {
    let key = |port: &PortMapping| (port.external, port.protocol);
    let ports: Vec<_> = ports
        .into_iter()
        .filter(|(_, written)| written.port.external != 0)
        .collect();
    for (index, this) in &ports {
        let earlier = published.get(&key(&this.port)).into_iter().flatten();
        let mut overlapping = earlier.filter(|other| host_ports_overlap(&other.port, &this.port));
        if let Some(other) = overlapping.next() {
            let line = super::position(text, other.at).0;
            let message = format!(
                "host port {}/{} is already published by unit {:?} ({:?}, line {line})",
                this.port.external, this.port.protocol, other.unit, other.text
            );
            scope.report(this.at, &format!("ports[{index}]"), message);
        }
    }
    for (_, this) in ports {
        published.entry(key(&this.port)).or_default().push(this);
    }
}

/// The strings of the array `field` with their index and offset; none when
/// the array could not be read.
fn list_items(
    scope: &mut Scope<'_>,
    field: &str,
    entry: &Field<'_>,
) -> Vec<(usize, String, usize)> {
    let list = scope
        .string_list(field, entry.item, entry.at)
        .unwrap_or_default();
    list.into_iter()
        .enumerate()
        .map(|(index, (text, at))| (index, text, at))
        .collect()
}

/// Reports a problem `validate` found at the value it is about: the unit's,
/// else the one in `[defaults]` (reported once, however many units use it),
/// else the nearest containing table of the unit, then of `[defaults]`, else
/// the unit's header. A field that could not be read is not reported again.
fn place(
    scope: &mut Scope<'_>,
    defaults: &Defaults,
    problem: SpecProblem,
    header: usize,
    port_index: &[usize],
    volume_index: &[usize],
) {
    let field = manifest_field(&problem.field, port_index, volume_index);
    let unit = scope.unit.clone();
    let in_unit = |at| (at, true);
    let in_defaults = |at| (at, false);
    let exact = |seen: &Seen| seen.spans.get(&field).copied();
    let (at, own) = exact(&scope.seen)
        .map(in_unit)
        .or_else(|| exact(&defaults.seen).map(in_defaults))
        .or_else(|| scope.seen.nearest(&field).map(in_unit))
        .or_else(|| defaults.seen.nearest(&field).map(in_defaults))
        .unwrap_or((header, true));
    // Validation's field as the manifest wrote it (`healthcheck.disable`).
    let seen = if own { &scope.seen } else { &defaults.seen };
    let label = seen
        .renamed
        .get(&field)
        .cloned()
        .unwrap_or_else(|| field.clone());
    if own && !scope.seen.failed_within(&field) {
        scope.push(at, unit, label, problem.message);
    } else if !own && !defaults.seen.failed_within(&field) {
        scope.push(at, None, format!("defaults.{label}"), problem.message);
    }
}

/// `validate`'s field path in the manifest's terms: `ports[i]` and
/// `volumes[i]` count the manifest's elements, not the ones that were read.
fn manifest_field(field: &str, port_index: &[usize], volume_index: &[usize]) -> String {
    for (list, index) in [("ports", port_index), ("volumes", volume_index)] {
        if let Some(rest) = field
            .strip_prefix(list)
            .and_then(|rest| rest.strip_prefix('['))
            && let Some((number, tail)) = rest.split_once(']')
            && let Some(original) = number.parse::<usize>().ok().and_then(|n| index.get(n))
        {
            return format!("{list}[{original}]{tail}");
        }
    }
    field.to_string()
}
