//! What an app accepts when it is provisioned (issue #13): how updates are sent, which
//! attributes may change after creation, and the limits of its SCIM endpoint. Update plans
//! (`crate::plan`) read it.

/// How an existing resource is updated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpdateStyle {
    /// RFC 7644 §3.5.2: operations on the attributes that changed.
    #[default]
    Patch,
    /// RFC 7644 §3.5.1: the whole resource replaced.
    Put,
}

/// An app's profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub update: UpdateStyle,
    /// Attribute paths that may change after creation; `None`: every mapped one. A path covers
    /// its sub-attributes and elements (`name` covers `name.givenName`).
    pub updatable: Option<Vec<String>>,
    /// Attribute paths changed by PATCH even when `update` is `Put`.
    pub patch_only: Vec<String>,
    /// Whether the app takes groups.
    pub groups: bool,
    /// The attribute an engine uses to find an existing user.
    pub matching: String,
    /// The most operations one PATCH request may carry (membership changes are split).
    pub max_patch_operations: Option<usize>,
}

impl Default for Profile {
    fn default() -> Profile {
        Profile {
            update: UpdateStyle::Patch,
            updatable: None,
            patch_only: Vec::new(),
            groups: true,
            matching: "userName".to_owned(),
            max_patch_operations: None,
        }
    }
}
