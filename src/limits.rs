//! Resource limits for untrusted mappings and records (reference §limits-table).

/// Every bound the engine enforces. Defaults are those of reference §limits-table; an embedding
/// program sets its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Mapping file size in bytes.
    pub source_bytes: usize,
    /// Nesting depth of mapping expressions and of record JSON; values above
    /// [`Limits::MAX_DEPTH`] act as `MAX_DEPTH`.
    pub depth: usize,
    /// IR nodes evaluated per record, plus one per element a builtin visits.
    pub steps: u64,
    /// Bytes of each string produced while evaluating.
    pub string_bytes: usize,
    /// Items of each list produced while evaluating.
    pub list_items: usize,
    /// Compiled size of a regular expression.
    pub regex_bytes: usize,
    /// Bytes of one input record.
    pub line_bytes: usize,
    /// Bytes one record's evaluation may allocate in all: the record's kept tree, every string,
    /// list and map built, and error messages. Counted as allocated, never credited back.
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// The defaults, as a constant: `&Limits::DEFAULT` (or a struct update of it) is a
    /// `&'static Limits` for a [`Budget`](crate::runtime::budget::Budget) in tests.
    pub(crate) const DEFAULT: Limits = Limits {
        source_bytes: 1 << 20,
        depth: 128,
        steps: 100_000,
        string_bytes: 1 << 20,
        list_items: 100_000,
        regex_bytes: 1 << 20,
        line_bytes: 16 << 20,
        memory: 64 << 20,
    };

    /// The deepest nesting supported whatever `depth` says. Parsing, checking and evaluating
    /// recurse once per level, at most about 2 KiB of stack each in a release build (13 KiB in
    /// a debug build; measured in SECURITY.md), so 512 levels fit the 1 MiB a thread needs.
    pub const MAX_DEPTH: usize = 512;

    /// `depth` within [`Limits::MAX_DEPTH`]: what every pass uses.
    pub fn nesting(&self) -> usize {
        self.depth.min(Self::MAX_DEPTH)
    }

    /// The names used by `--limit NAME=VALUE` and in error messages.
    pub const NAMES: [&'static str; 8] = [
        "source-bytes",
        "depth",
        "steps",
        "string-bytes",
        "list-items",
        "regex-bytes",
        "line-bytes",
        "memory",
    ];

    /// Sets one limit by its name in reference §limits-table.
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), String> {
        let v = usize::try_from(value).map_err(|_| format!("limit {name} is too large"))?;
        match name {
            "source-bytes" => self.source_bytes = v,
            "depth" if v > Limits::MAX_DEPTH => {
                return Err(format!(
                    "limit depth can be at most {}: deeper nesting would need more stack than a thread has",
                    Limits::MAX_DEPTH
                ))
            }
            "depth" => self.depth = v,
            "steps" => self.steps = value,
            "string-bytes" => self.string_bytes = v,
            "list-items" => self.list_items = v,
            "regex-bytes" => self.regex_bytes = v,
            "line-bytes" => self.line_bytes = v,
            "memory" => self.memory = v,
            _ => {
                return Err(format!(
                    "unknown limit `{name}` (known: {})",
                    Limits::NAMES.join(", ")
                ))
            }
        }
        Ok(())
    }
}
