//! The built-in schemas, shipped as data in `stdlib/` (reference §types-record,
//! §targets-catalogue): the JumpCloud user and group records as static [`Type`]s, and the SCIM core
//! User, Enterprise User and Group schemas.
//!
//! The files are compiled in and parsed once, on first use. They are ours, so a parse failure is
//! a bug caught by the tests below, never a user error.

use crate::diagnostic::quote;
use crate::types::{ObjectType, Type};
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

const USER_RECORD_JSON: &str = include_str!("../stdlib/jumpcloud-user.json");
const GROUP_RECORD_JSON: &str = include_str!("../stdlib/jumpcloud-group.json");
const CORE_USER_JSON: &str = include_str!("../stdlib/scim-user.json");
const ENTERPRISE_USER_JSON: &str = include_str!("../stdlib/scim-enterprise-user.json");
const CORE_GROUP_JSON: &str = include_str!("../stdlib/scim-group.json");

/// The JumpCloud system user (`systemuserreturn`), a [`Type::Object`].
pub fn user_record() -> &'static Type {
    static USER: OnceLock<Type> = OnceLock::new();
    USER.get_or_init(|| record("jumpcloud-user.json", USER_RECORD_JSON))
}

/// The JumpCloud user group (API v2 `UserGroup`), a [`Type::Object`].
pub fn group_record() -> &'static Type {
    static GROUP: OnceLock<Type> = OnceLock::new();
    GROUP.get_or_init(|| record("jumpcloud-group.json", GROUP_RECORD_JSON))
}

pub fn core_user() -> &'static ScimSchema {
    static SCHEMA: OnceLock<ScimSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| scim("scim-user.json", CORE_USER_JSON))
}

pub fn enterprise_user() -> &'static ScimSchema {
    static SCHEMA: OnceLock<ScimSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| scim("scim-enterprise-user.json", ENTERPRISE_USER_JSON))
}

pub fn core_group() -> &'static ScimSchema {
    static SCHEMA: OnceLock<ScimSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| scim("scim-group.json", CORE_GROUP_JSON))
}

/// Every built-in URN (for "did you mean" on an undeclared URN).
pub fn builtin_urns() -> &'static [&'static str] {
    &[CORE_USER, ENTERPRISE_USER, CORE_GROUP]
}

fn record(file: &str, text: &str) -> Type {
    let parsed = serde_json::from_str(text)
        .map_err(|e| e.to_string())
        .and_then(|json| parse_type(&json));
    parsed.unwrap_or_else(|e| panic!("stdlib/{file} is not a valid record schema: {e}"))
}

fn scim(file: &str, text: &str) -> ScimSchema {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("stdlib/{file} is not a valid SCIM schema: {e}"))
}

/// Reads the type notation of `stdlib/README.md`: `"string"`, `"int?"`, `{"array": T}`,
/// `{"object": "name", "fields": {…}}`, a `?` on the key making arrays and objects nullable.
fn parse_type(json: &Json) -> Result<Type, String> {
    match json {
        Json::String(s) => {
            let (name, nullable) = match s.strip_suffix('?') {
                Some(name) => (name, true),
                None => (s.as_str(), false),
            };
            let ty = match name {
                "nil" => Type::Nil,
                "bool" => Type::Bool,
                "int" => Type::Int,
                "float" => Type::Float,
                "string" => Type::String,
                "time" => Type::Time,
                "duration" => Type::Duration,
                "map" => Type::Map,
                "any" => Type::Any,
                _ => return Err(format!("unknown type `{s}`")),
            };
            Ok(if nullable { ty.nullable() } else { ty })
        }
        Json::Object(map) => {
            let mut kinds = map.iter().filter(|(k, _)| *k != "fields");
            let (Some((key, inner)), None) = (kinds.next(), kinds.next()) else {
                return Err(format!("expected `array` or `object`, found {json}"));
            };
            let (kind, nullable) = match key.strip_suffix('?') {
                Some(kind) => (kind, true),
                None => (key.as_str(), false),
            };
            let ty = match (kind, inner, map.get("fields")) {
                ("array", item, None) => Type::Array(Box::new(parse_type(item)?)),
                ("object", Json::String(name), Some(Json::Object(fields))) => {
                    let mut descriptions = BTreeMap::new();
                    let fields = fields
                        .iter()
                        .map(|(field, json)| {
                            let (ty, description) =
                                parse_field(json).map_err(|e| format!("{name}.{field}: {e}"))?;
                            if let Some(text) = description {
                                descriptions.insert(field.clone(), text);
                            }
                            Ok((field.clone(), ty))
                        })
                        .collect::<Result<_, String>>()?;
                    Type::Object(Arc::new(ObjectType {
                        name: name.clone(),
                        fields,
                        descriptions,
                    }))
                }
                _ => return Err(format!("malformed `{key}` type: {json}")),
            };
            Ok(if nullable { ty.nullable() } else { ty })
        }
        _ => Err(format!("expected a type, found {json}")),
    }
}

/// An object's field: its type, or `{"type": T, "description": "…"}`.
fn parse_field(json: &Json) -> Result<(Type, Option<String>), String> {
    let Json::Object(map) = json else {
        return Ok((parse_type(json)?, None));
    };
    let Some(ty) = map.get("type") else {
        return Ok((parse_type(json)?, None));
    };
    if let Some(key) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "type" | "description"))
    {
        return Err(format!("unexpected `{key}` beside `type`"));
    }
    let description = match map.get("description") {
        None => None,
        Some(Json::String(text)) => Some(text.clone()),
        Some(other) => return Err(format!("a description is a string, found {other}")),
    };
    Ok((parse_type(ty)?, description))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScimType {
    String,
    Boolean,
    Integer,
    Decimal,
    DateTime,
    Reference,
    Binary,
    Complex,
}

impl ScimType {
    /// Whether a string is written to the attribute as it is (string, reference, binary).
    #[inline]
    pub fn takes_string(self) -> bool {
        matches!(
            self,
            ScimType::String | ScimType::Reference | ScimType::Binary
        )
    }

    /// The RFC 7643 name: `"string"`, `"dateTime"`, …
    pub fn name(&self) -> &'static str {
        match self {
            ScimType::String => "string",
            ScimType::Boolean => "boolean",
            ScimType::Integer => "integer",
            ScimType::Decimal => "decimal",
            ScimType::DateTime => "dateTime",
            ScimType::Reference => "reference",
            ScimType::Binary => "binary",
            ScimType::Complex => "complex",
        }
    }
}

/// The types a `schema "urn:…" { name: type }` declaration may use (reference §file-schema).
pub const DECLARABLE: [ScimType; 6] = [
    ScimType::String,
    ScimType::Boolean,
    ScimType::Integer,
    ScimType::Decimal,
    ScimType::DateTime,
    ScimType::Reference,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScimAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ScimType,
    pub multi_valued: bool,
    /// RFC 7643 §7's: what the attribute is (empty for a declared schema's).
    #[serde(default)]
    pub description: String,
    pub required: bool,
    pub mutability: Mutability,
    #[serde(default)]
    pub canonical_values: Vec<String>,
    pub case_exact: bool,
    #[serde(default)]
    pub sub_attributes: Vec<ScimAttribute>,
}

impl ScimAttribute {
    /// An attribute of a declared schema that its declaration does not list: a string
    /// (reference §file-schema).
    pub fn undeclared(name: &str) -> ScimAttribute {
        ScimAttribute {
            name: name.to_owned(),
            ty: ScimType::String,
            multi_valued: false,
            description: String::new(),
            required: false,
            mutability: Mutability::ReadWrite,
            canonical_values: Vec::new(),
            case_exact: false,
            sub_attributes: Vec::new(),
        }
    }

    /// The sub-attribute called `name`, matched case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&ScimAttribute> {
        find(&self.sub_attributes, name)
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimSchema {
    #[serde(rename = "id")]
    pub urn: String,
    pub name: String,
    pub attributes: Vec<ScimAttribute>,
    /// Lower-cased attribute name → index, for schemas declared with many attributes.
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl ScimSchema {
    /// The attribute called `name`, matched case-insensitively (RFC 7643 §2.1).
    pub fn attribute(&self, name: &str) -> Option<&ScimAttribute> {
        if self.index.is_empty() {
            return find(&self.attributes, name);
        }
        self.index
            .get(&name.to_ascii_lowercase())
            .and_then(|&i| self.attributes.get(i))
    }

    /// A schema declared in a mapping: `schema "urn:…" { hireYear: integer }`. Its attributes
    /// are single-valued, optional, readWrite strings unless typed otherwise. An attribute
    /// declared twice or with an unknown type name → Err(its index, a message; for a type, one
    /// listing the valid ones).
    pub fn declared(urn: &str, attributes: &[(&str, &str)]) -> Result<ScimSchema, (usize, String)> {
        let mut declared: Vec<ScimAttribute> = Vec::with_capacity(attributes.len());
        let mut index = HashMap::with_capacity(attributes.len());
        for (i, &(name, type_name)) in attributes.iter().enumerate() {
            if index
                .insert(name.to_ascii_lowercase(), declared.len())
                .is_some()
            {
                return Err((i, format!("attribute `{}` is declared twice", quote(name))));
            }
            let ty = DECLARABLE
                .into_iter()
                .find(|t| t.name().eq_ignore_ascii_case(type_name))
                .ok_or_else(|| {
                    let valid: Vec<_> = DECLARABLE.iter().map(ScimType::name).collect();
                    let message = format!(
                        "unknown SCIM type `{}` for `{}`; expected one of: {}",
                        quote(type_name),
                        quote(name),
                        valid.join(", ")
                    );
                    (i, message)
                })?;
            declared.push(ScimAttribute {
                name: name.to_owned(),
                ty,
                multi_valued: false,
                description: String::new(),
                required: false,
                mutability: Mutability::ReadWrite,
                canonical_values: Vec::new(),
                case_exact: false,
                sub_attributes: Vec::new(),
            });
        }
        Ok(ScimSchema {
            urn: urn.to_owned(),
            // RFC 7643 names a schema after its resource; a URN ends in it (`…:2.0:User`).
            name: urn.rsplit(':').next().unwrap_or(urn).to_owned(),
            attributes: declared,
            index,
        })
    }
}

fn find<'a>(attributes: &'a [ScimAttribute], name: &str) -> Option<&'a ScimAttribute> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urn_typo_suggests_the_builtin_urn_and_another_urn_nothing() {
        let did_you_mean = |urn| crate::suggest::did_you_mean(urn, builtin_urns().iter().copied());
        assert_eq!(
            did_you_mean("urn:ietf:params:scim:schemas:extension:enterprise:2.0:Usr"),
            Some(ENTERPRISE_USER)
        );
        assert_eq!(
            did_you_mean("urn:example:params:scim:schemas:extension:acme:2.0:User"),
            None
        );
    }

    fn object(ty: &Type) -> &ObjectType {
        match ty.non_nil() {
            Type::Object(o) => o,
            other => panic!("expected an object, found {other:?}"),
        }
    }

    fn field<'a>(ty: &'a Type, name: &str) -> &'a Type {
        object(ty)
            .field(name)
            .unwrap_or_else(|| panic!("no field `{name}`"))
    }

    fn item(ty: &Type) -> &Type {
        match ty.non_nil() {
            Type::Array(item) => item,
            other => panic!("expected an array, found {other:?}"),
        }
    }

    fn nullable(ty: Type) -> Type {
        Type::Nullable(Box::new(ty))
    }

    #[test]
    fn every_shipped_file_parses() {
        assert_eq!(object(user_record()).name, "user");
        assert_eq!(object(group_record()).name, "group");
        assert_eq!(core_user().urn, CORE_USER);
        assert_eq!(core_user().name, "User");
        assert_eq!(enterprise_user().urn, ENTERPRISE_USER);
        assert_eq!(enterprise_user().name, "EnterpriseUser");
        assert_eq!(core_group().urn, CORE_GROUP);
        assert_eq!(core_group().name, "Group");
    }

    #[test]
    fn user_record_has_every_jumpcloud_field() {
        let names: Vec<&str> = object(user_record())
            .fields
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        // The fields of JumpCloud's API v1 system user (reference §types-record), in the order of
        // JumpCloud's documentation, then `locale` and `timezone`.
        let expected = [
            "_id",
            "username",
            "email",
            "firstname",
            "middlename",
            "lastname",
            "displayname",
            "employeeIdentifier",
            "employeeType",
            "jobTitle",
            "department",
            "costCenter",
            "company",
            "location",
            "description",
            "manager",
            "state",
            "activated",
            "suspended",
            "account_locked",
            "account_locked_date",
            "created",
            "creationSource",
            "password_date",
            "password_expiration_date",
            "external_password_expiration_date",
            "password_expired",
            "password_never_expires",
            "alternateEmail",
            "managedAppleId",
            "recoveryEmail",
            "addresses",
            "phoneNumbers",
            "attributes",
            "mfa",
            "mfaEnrollment",
            "relationships",
            "restrictedFields",
            "organization",
            "admin",
            "delegatedAuthority",
            "externally_managed",
            "external_dn",
            "external_source_type",
            "sudo",
            "passwordless_sudo",
            "allow_public_key",
            "enable_managed_uid",
            "ldap_binding_user",
            "samba_service_user",
            "enable_user_portal_multifactor",
            "totp_enabled",
            "disableDeviceMaxLoginAttempts",
            "public_key",
            "ssh_keys",
            "unix_uid",
            "unix_guid",
            "badLoginAttempts",
            "locale",
            "timezone",
        ];
        assert_eq!(names, expected);
    }

    #[test]
    fn user_record_types_and_nullability() {
        let user = user_record();
        for name in ["_id", "username", "email", "state", "created"] {
            assert_eq!(field(user, name), &Type::String, "{name}");
        }
        assert_eq!(field(user, "activated"), &Type::Bool);
        assert_eq!(field(user, "suspended"), &Type::Bool);
        assert_eq!(field(user, "firstname"), &nullable(Type::String));
        assert_eq!(field(user, "account_locked"), &nullable(Type::Bool));
        assert_eq!(field(user, "unix_uid"), &nullable(Type::Int));
        assert_eq!(field(user, "badLoginAttempts"), &nullable(Type::Int));
        assert_eq!(field(user, "timezone"), &nullable(Type::String));
        // Timestamps are strings, not `time`.
        assert_eq!(field(user, "password_date"), &nullable(Type::String));

        let addresses = field(user, "addresses");
        assert!(addresses.is_nullable());
        let address = item(addresses);
        assert!(!address.is_nullable(), "array items are non-nullable");
        assert_eq!(object(address).name, "address");
        assert_eq!(field(address, "streetAddress"), &nullable(Type::String));
        assert_eq!(field(address, "poBox"), &nullable(Type::String));
        assert_eq!(
            field(item(field(user, "phoneNumbers")), "number"),
            &nullable(Type::String)
        );
        let attribute = item(field(user, "attributes"));
        assert_eq!(object(attribute).fields.len(), 2);
        assert_eq!(field(attribute, "value"), &nullable(Type::String));

        let mfa = field(user, "mfa");
        assert!(mfa.is_nullable());
        assert_eq!(field(mfa, "configured"), &nullable(Type::Bool));
        assert_eq!(field(mfa, "exclusionDays"), &nullable(Type::Int));
        assert_eq!(field(mfa, "exclusionUntil"), &nullable(Type::String));
        assert_eq!(
            field(field(user, "recoveryEmail"), "verified"),
            &nullable(Type::Bool)
        );
        assert_eq!(
            field(field(user, "mfaEnrollment"), "totpStatus"),
            &nullable(Type::String)
        );
        assert_eq!(
            field(field(user, "admin"), "roleNames"),
            &nullable(Type::Array(Box::new(Type::String)))
        );
        assert!(field(user, "delegatedAuthority").is_nullable());
        assert_eq!(
            field(item(field(user, "ssh_keys")), "public_key"),
            &nullable(Type::String)
        );
        assert_eq!(
            field(item(field(user, "restrictedFields")), "field"),
            &nullable(Type::String)
        );
        assert_eq!(
            field(item(field(user, "relationships")), "type"),
            &nullable(Type::String)
        );
    }

    #[test]
    fn group_record_fields() {
        let group = group_record();
        let names: Vec<&str> = object(group)
            .fields
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "id",
                "name",
                "description",
                "email",
                "type",
                "attributes",
                "membershipMethod",
                "memberQuery",
                "memberQueryExemptions",
                "memberSuggestionsNotify",
                "suggestionCounts",
                "organizationObjectId",
            ]
        );
        assert_eq!(field(group, "id"), &Type::String);
        assert_eq!(field(group, "name"), &Type::String);
        assert_eq!(field(group, "description"), &nullable(Type::String));
        assert_eq!(field(group, "attributes"), &nullable(Type::Map));
        assert_eq!(
            field(group, "memberSuggestionsNotify"),
            &nullable(Type::Bool)
        );
        assert_eq!(
            field(field(group, "suggestionCounts"), "total"),
            &nullable(Type::Int)
        );
        let exemption = item(field(group, "memberQueryExemptions"));
        assert_eq!(field(exemption, "id"), &nullable(Type::String));
    }

    #[test]
    fn type_notation() {
        let parse = |s: &str| parse_type(&serde_json::from_str(s).unwrap());
        assert_eq!(parse(r#""float?""#), Ok(nullable(Type::Float)));
        assert_eq!(parse(r#""any?""#), Ok(Type::Any), "any is already nullable");
        assert_eq!(
            parse(r#"{"array": "int?"}"#),
            Ok(Type::Array(Box::new(nullable(Type::Int))))
        );
        assert_eq!(
            parse(r#"{"object?": "o", "fields": {"a": "time"}}"#),
            Ok(nullable(Type::Object(Arc::new(ObjectType {
                name: "o".into(),
                fields: vec![("a".into(), Type::Time)],
                descriptions: BTreeMap::new(),
            }))))
        );
        assert_eq!(parse(r#""strng""#), Err("unknown type `strng`".into()));
        assert!(parse(r#"{"array": "int", "object": "x"}"#).is_err());
        assert!(parse(r#"{"array": "int", "fields": {}}"#).is_err());
        assert!(parse(r#"{"object": "o"}"#).is_err());
        assert_eq!(
            parse(r#"{"object": "o", "fields": {"a": "bad"}}"#),
            Err("o.a: unknown type `bad`".into())
        );
        assert!(parse("3").is_err());

        // A field may carry a description; the type notation itself does not.
        let described =
            parse(r#"{"object": "o", "fields": {"a": {"type": "int?", "description": "A."}, "b": "bool"}}"#)
                .unwrap();
        assert_eq!(field(&described, "a"), &nullable(Type::Int));
        assert_eq!(object(&described).description("a"), Some("A."));
        assert_eq!(object(&described).description("b"), None);
        assert_eq!(
            parse(r#"{"object": "o", "fields": {"a": {"type": "int", "note": "A."}}}"#),
            Err("o.a: unexpected `note` beside `type`".into())
        );
        assert_eq!(
            parse(r#"{"object": "o", "fields": {"a": {"type": "int", "description": 1}}}"#),
            Err("o.a: a description is a string, found 1".into())
        );
        assert!(parse(r#"{"array": {"type": "int"}}"#).is_err());
        assert!(parse(r#"{"type": "int", "description": "A."}"#).is_err());
    }

    /// Every attribute and sub-attribute of the shipped SCIM schemas, and every field of the
    /// records at every depth, has a description: a new one without text fails here.
    #[test]
    fn everything_shipped_is_described() {
        for schema in [core_user(), enterprise_user(), core_group()] {
            for attr in &schema.attributes {
                assert!(!attr.description.trim().is_empty(), "{}", attr.name);
                for sub in &attr.sub_attributes {
                    let described = !sub.description.trim().is_empty();
                    assert!(described, "{}.{}", attr.name, sub.name);
                }
            }
        }
        fn described(ty: &Type, path: &str, count: &mut usize) {
            let mut inner = ty;
            while let Type::Nullable(t) | Type::Array(t) = inner {
                inner = t;
            }
            let Type::Object(o) = inner else {
                return;
            };
            for (name, t) in &o.fields {
                let text = o.description(name).unwrap_or("");
                assert!(!text.trim().is_empty(), "{path}.{name}");
                *count += 1;
                described(t, &format!("{path}.{name}"), count);
            }
        }
        let mut count = 0;
        described(user_record(), "user", &mut count);
        described(group_record(), "group", &mut count);
        assert!(count > 100, "nested fields are visited: {count}");
    }

    #[test]
    fn lookups_are_case_insensitive_and_canonical() {
        let user = core_user();
        assert_eq!(
            user.attribute("USERNAME").map(|a| a.name.as_str()),
            Some("userName")
        );
        assert_eq!(user.attribute("username").map(|a| a.required), Some(true));
        let name = user.attribute("Name").unwrap();
        assert_eq!(name.ty, ScimType::Complex);
        assert_eq!(
            name.sub("GIVENNAME").map(|a| a.name.as_str()),
            Some("givenName")
        );
        assert_eq!(user.attribute("nope"), None);
        assert_eq!(name.sub("nope"), None);
        let manager = enterprise_user().attribute("MANAGER").unwrap();
        assert_eq!(manager.sub("$REF").map(|a| a.ty), Some(ScimType::Reference));
        assert_eq!(
            manager.sub("displayname").map(|a| a.mutability),
            Some(Mutability::ReadOnly)
        );
        assert_eq!(builtin_urns(), [CORE_USER, ENTERPRISE_USER, CORE_GROUP]);
    }

    #[test]
    fn core_user_attributes() {
        let user = core_user();
        let names: Vec<&str> = user.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "externalId",
                "meta",
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates",
            ]
        );
        let emails = user.attribute("emails").unwrap();
        assert!(emails.multi_valued);
        assert_eq!(emails.ty, ScimType::Complex);
        assert_eq!(
            emails.sub("type").unwrap().canonical_values,
            ["work", "home", "other"]
        );
        assert_eq!(emails.sub("primary").map(|a| a.ty), Some(ScimType::Boolean));
        assert_eq!(
            user.attribute("phoneNumbers")
                .unwrap()
                .sub("type")
                .unwrap()
                .canonical_values,
            ["work", "home", "mobile", "fax", "pager", "other"]
        );
        assert_eq!(
            user.attribute("photos").unwrap().sub("value").map(|a| a.ty),
            Some(ScimType::Reference)
        );
        assert_eq!(
            user.attribute("x509Certificates")
                .unwrap()
                .sub("value")
                .map(|a| a.ty),
            Some(ScimType::Binary)
        );
        let addresses = user.attribute("addresses").unwrap();
        assert!(addresses.sub("primary").is_some());
        assert!(addresses.sub("display").is_none());
        assert_eq!(
            user.attribute("groups").unwrap().mutability,
            Mutability::ReadOnly
        );
        assert_eq!(
            user.attribute("password").unwrap().mutability,
            Mutability::WriteOnly
        );
        assert_eq!(user.attribute("active").unwrap().ty, ScimType::Boolean);
        assert_eq!(
            user.attribute("profileUrl").unwrap().ty,
            ScimType::Reference
        );
        let id = user.attribute("id").unwrap();
        assert_eq!((id.mutability, id.case_exact), (Mutability::ReadOnly, true));
        let meta = user.attribute("meta").unwrap();
        assert_eq!(meta.mutability, Mutability::ReadOnly);
        assert_eq!(
            meta.sub("lastModified").map(|a| a.ty),
            Some(ScimType::DateTime)
        );
        let required: Vec<&str> = user
            .attributes
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(required, ["userName"]);
    }

    #[test]
    fn enterprise_and_group_attributes() {
        let names: Vec<&str> = enterprise_user()
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "employeeNumber",
                "costCenter",
                "organization",
                "division",
                "department",
                "manager"
            ]
        );
        let group = core_group();
        let display = group.attribute("displayname").unwrap();
        assert_eq!(
            (display.name.as_str(), display.required),
            ("displayName", true)
        );
        let members = group.attribute("members").unwrap();
        assert!(members.multi_valued);
        let subs: Vec<&str> = members
            .sub_attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(subs, ["value", "$ref", "type", "display"]);
        assert_eq!(
            members.sub("type").unwrap().canonical_values,
            ["User", "Group"]
        );
        assert!(group.attribute("id").is_some() && group.attribute("meta").is_some());
    }

    /// RFC 7643 §2.3.8: complex attributes have sub-attributes, and those are never complex.
    #[test]
    fn shipped_schemas_are_well_formed() {
        for schema in [core_user(), enterprise_user(), core_group()] {
            for attr in &schema.attributes {
                assert_eq!(
                    attr.ty == ScimType::Complex,
                    !attr.sub_attributes.is_empty(),
                    "{}",
                    attr.name
                );
                for sub in &attr.sub_attributes {
                    assert!(sub.sub_attributes.is_empty() && sub.ty != ScimType::Complex);
                    assert!(!sub.multi_valued, "{}.{}", attr.name, sub.name);
                }
                if attr.multi_valued {
                    assert_eq!(attr.ty, ScimType::Complex, "{}", attr.name);
                }
            }
        }
    }

    #[test]
    fn declared_schemas() {
        let urn = "urn:example:params:scim:schemas:extension:acme:2.0:User";
        let schema = ScimSchema::declared(
            urn,
            &[
                ("hireYear", "integer"),
                ("start", "DATETIME"),
                ("x", "string"),
            ],
        )
        .unwrap();
        assert_eq!(schema.urn, urn);
        assert_eq!(schema.name, "User");
        let hire = schema.attribute("HIREYEAR").unwrap();
        assert_eq!(hire.name, "hireYear");
        assert_eq!(hire.ty, ScimType::Integer);
        assert_eq!(hire.mutability, Mutability::ReadWrite);
        assert!(!hire.multi_valued && !hire.required);
        assert_eq!(
            schema.attribute("start").map(|a| a.ty),
            Some(ScimType::DateTime)
        );
        assert!(ScimSchema::declared(urn, &[])
            .unwrap()
            .attributes
            .is_empty());

        assert_eq!(
            ScimSchema::declared(urn, &[("hireYear", "int")]),
            Err((
                0,
                "unknown SCIM type `int` for `hireYear`; expected one of: string, boolean, \
                 integer, decimal, dateTime, reference"
                    .into()
            ))
        );
        assert!(ScimSchema::declared(urn, &[("photo", "binary")]).is_err());
        assert!(ScimSchema::declared(urn, &[("a", "complex")]).is_err());
        assert_eq!(
            ScimSchema::declared(urn, &[("a", "string"), ("A", "integer")]),
            Err((1, "attribute `A` is declared twice".into()))
        );
    }

    #[test]
    fn scim_type_names() {
        assert_eq!(ScimType::DateTime.name(), "dateTime");
        assert_eq!(ScimType::Boolean.name(), "boolean");
        assert_eq!(ScimType::Binary.name(), "binary");
        assert_eq!(ScimType::Complex.name(), "complex");
    }
}
