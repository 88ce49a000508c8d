//! The app profile: what the app accepts after a user is created (reference §profile), as the
//! mapping file declares it in `app "…" { … }`. An update plan reads it; scimap itself only
//! checks it against the entries.

use serde_json::{json, Value as Json};

/// How the app takes changes to an existing resource.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpdateStyle {
    /// `PATCH` with operations (RFC 7644 §3.5.2).
    #[default]
    Patch,
    /// `PUT` of the whole resource (RFC 7644 §3.5.1).
    Put,
}

impl UpdateStyle {
    /// The word the mapping file writes.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateStyle::Patch => "patch",
            UpdateStyle::Put => "put",
        }
    }
}

/// The app profile, with every setting the file leaves out at its default. Attribute paths are
/// canonical: `active`, `name.givenName`, or URN-qualified for an extension
/// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Default `Patch`.
    pub update: UpdateStyle,
    /// The attribute paths that may change after creation; `None`: every mapped one. A path
    /// without a sub-attribute (`name`) covers all of its sub-attributes.
    pub updatable: Option<Vec<String>>,
    /// Attribute paths changed by PATCH even when `update` is `Put`.
    pub patch_only: Vec<String>,
    /// Whether the app takes groups (default true).
    pub groups: bool,
    /// The attribute an engine finds an existing user by (default `userName`).
    pub matching: String,
    /// The most operations one PATCH may carry (for membership changes); `None`: no limit.
    pub max_patch_operations: Option<usize>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            update: UpdateStyle::Patch,
            updatable: None,
            patch_only: Vec::new(),
            groups: true,
            matching: "userName".to_string(),
            max_patch_operations: None,
        }
    }
}

impl Profile {
    /// The profile as JSON, with the file's setting names (what `--explain` and the WASM
    /// `check` show); `null` for `updatable` (every mapped attribute) and for no PATCH limit.
    pub fn to_json(&self) -> Json {
        json!({
            "update": self.update.as_str(),
            "updatable": self.updatable,
            "patchOnly": self.patch_only,
            "groups": self.groups,
            "matching": self.matching,
            "maxPatchOperations": self.max_patch_operations,
        })
    }
}
