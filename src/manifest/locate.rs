//! Where a manifest's values were written: byte offsets to lines and columns, and each unit's fields kept for problems found after reading.

use std::collections::{BTreeMap, HashMap};

use super::fields::ancestors;
use super::{Manifest, ManifestProblem};

/// The line starts of a text, to turn byte offsets into lines and columns.
pub(super) struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    /// The index of `text`'s lines.
    pub fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Lines { text, starts }
    }

    /// Line and column (in characters), both from 1, of the byte `offset`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The first start is 0, so at least one start is at or before `offset`.
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }
}

/// Where one unit was read: what problems call it, its header, and the
/// offset of each field path's value (`memory`, `ports[1]`, `depends_on.db`).
#[derive(Debug, Default)]
pub(super) struct UnitSeen {
    /// The unit's name, or `#3`.
    pub label: String,
    /// Offset of the unit's `[[unit]]` header (or inline table).
    pub header: usize,
    pub spans: HashMap<String, usize>,
}

/// Where a manifest's units and defaults were written, as (line, column)
/// from 1, so that checks made after reading (against an engine, say) can
/// point at the line a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Locations {
    units: BTreeMap<String, UnitLocations>,
    defaults: BTreeMap<String, (usize, usize)>,
    /// The files beyond the manifest's own that positions may name (a
    /// compose project of several files, or `extends: {file}`), by the
    /// index that [`in_file`] put in their lines; empty for one file.
    files: Vec<String>,
}

/// How many lines a file's positions may take before the next file's:
/// positions are `(line, column)` pairs everywhere, so a position in the
/// n-th file of a project carries n in its line, `n * LINES_PER_FILE`
/// added, until [`of_file`] takes it out for the message.
pub const LINES_PER_FILE: usize = 1 << (usize::BITS / 2);

/// `at`, a position in file `index` (0 is the manifest's own file).
pub fn in_file(index: usize, at: (usize, usize)) -> (usize, usize) {
    (at.0 + index * LINES_PER_FILE, at.1)
}

/// The file index of `at` and its position in that file.
pub fn of_file(at: (usize, usize)) -> (usize, (usize, usize)) {
    (at.0 / LINES_PER_FILE, (at.0 % LINES_PER_FILE, at.1))
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct UnitLocations {
    header: (usize, usize),
    fields: BTreeMap<String, (usize, usize)>,
}

/// A unit's header and its fields' positions, as another reader found them.
pub type FoundUnit = ((usize, usize), BTreeMap<String, (usize, usize)>);

impl Locations {
    /// The positions of `defaults`' and `units`' spans in `lines`' text.
    pub(super) fn new(
        lines: &Lines<'_>,
        defaults: &HashMap<String, usize>,
        units: &[UnitSeen],
    ) -> Self {
        let positions = |spans: &HashMap<String, usize>| {
            spans
                .iter()
                .map(|(field, &at)| (field.clone(), lines.position(at)))
                .collect()
        };
        let units = units
            .iter()
            .map(|unit| {
                let located = UnitLocations {
                    header: lines.position(unit.header),
                    fields: positions(&unit.spans),
                };
                (unit.label.clone(), located)
            })
            .collect();
        Locations {
            units,
            defaults: positions(defaults),
            files: Vec::new(),
        }
    }

    /// Where `unit`'s `field` (a path such as `healthcheck.start_interval`)
    /// was written: in the unit, else in `[defaults]` (where the unit took
    /// it from), else the nearest containing field of the unit, then of
    /// `[defaults]`. `None` for a unit not in the manifest or a field
    /// written nowhere.
    pub fn locate(&self, unit: &str, field: &str) -> Option<(usize, usize)> {
        let own = &self.units.get(unit)?.fields;
        let exact = |fields: &BTreeMap<String, (usize, usize)>| fields.get(field).copied();
        let nearest = |fields: &BTreeMap<String, (usize, usize)>| {
            ancestors(field).find_map(|path| fields.get(path).copied())
        };
        exact(own)
            .or_else(|| exact(&self.defaults))
            .or_else(|| nearest(own))
            .or_else(|| nearest(&self.defaults))
    }

    /// Positions found by another reader (a compose file): each unit's
    /// header (its service key) and where each of its fields was written.
    pub fn from_units(units: BTreeMap<String, FoundUnit>) -> Self {
        Locations {
            units: units
                .into_iter()
                .map(|(name, (header, fields))| (name, UnitLocations { header, fields }))
                .collect(),
            defaults: BTreeMap::new(),
            files: Vec::new(),
        }
    }

    /// The same positions, whose lines may name the files beyond the
    /// first (see [`in_file`]): `files[0]` is index 1.
    pub fn with_files(mut self, files: Vec<String>) -> Self {
        self.files = files;
        self
    }

    /// The file a position names, `None` for the manifest's own, and the
    /// position in it.
    pub fn file_of(&self, at: (usize, usize)) -> (Option<&str>, (usize, usize)) {
        let (index, at) = of_file(at);
        let file = index
            .checked_sub(1)
            .and_then(|i| self.files.get(i))
            .map(String::as_str);
        (file, at)
    }

    /// Where `unit`'s `[[unit]]` header is.
    pub fn header(&self, unit: &str) -> Option<(usize, usize)> {
        self.units.get(unit).map(|unit| unit.header)
    }
}

impl Manifest {
    /// Line and column (from 1) where `unit`'s `field` was written; see
    /// [`Locations::locate`].
    pub fn locate(&self, unit: &str, field: &str) -> Option<(usize, usize)> {
        self.locations.locate(unit, field)
    }

    /// A problem of `unit`'s `field` found after reading, at the place the
    /// field was written, else at the unit's header, else at 1:1.
    pub fn problem(&self, unit: &str, field: &str, message: impl Into<String>) -> ManifestProblem {
        let at = self
            .locate(unit, field)
            .or_else(|| self.locations.header(unit))
            .unwrap_or((1, 1));
        let (file, (line, column)) = self.locations.file_of(at);
        ManifestProblem {
            file: file.unwrap_or(&self.file).to_string(),
            line,
            column,
            unit: Some(unit.to_string()),
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
}
