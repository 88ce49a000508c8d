//! The app profile through the library (reference §profile): the seed apps' profiles as
//! `Mapping::profile` gives them, the defaults, and create-only entries in `explain`.

use scimap::{Kind, Mapping, Profile, UpdateStyle};
use serde_json::json;

fn example(name: &str) -> Mapping {
    let path = format!("{}/examples/{name}.scimap", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).expect("read an example");
    Mapping::compile(&source).unwrap_or_else(|e| panic!("{path}: {:?}", e.diagnostics))
}

#[test]
fn the_seed_apps_profiles() {
    let trello = example("trello");
    assert_eq!(
        trello.profile(),
        &Profile {
            updatable: Some(vec!["active".into()]),
            ..Profile::default()
        }
    );
    let monday = example("monday");
    assert_eq!(
        monday.profile(),
        &Profile {
            update: UpdateStyle::Put,
            patch_only: vec!["active".into(), "userType".into()],
            ..Profile::default()
        }
    );
    for app in ["miro", "trelica"] {
        assert_eq!(
            example(app).profile(),
            &Profile {
                groups: false,
                ..Profile::default()
            },
            "{app}"
        );
    }
}

#[test]
fn settings_left_out_keep_their_defaults_and_paths_are_canonical() {
    let m = Mapping::compile("user {\n  userName = $.username\n}\n").unwrap();
    assert_eq!(m.profile(), &Profile::default());
    assert_eq!(
        m.profile().to_json(),
        json!({"update": "patch", "updatable": null, "patchOnly": [], "groups": true,
               "matching": "userName", "maxPatchOperations": null})
    );
    let m = Mapping::compile(
        "app \"A\" {\n  updatable = [ACTIVE, Name.GivenName, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department]\n  matching = emails.value\n  maxPatchOperations = 100\n}\nuser {\n  userName = $.username\n  emails.value = email\n}\n",
    )
    .unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    assert!(m.warnings().is_empty(), "{:?}", m.warnings());
    assert_eq!(
        m.profile().to_json(),
        json!({"update": "patch",
               "updatable": ["active", "name.givenName",
                             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
               "patchOnly": [], "groups": true, "matching": "emails.value",
               "maxPatchOperations": 100})
    );
}

#[test]
fn create_only_entries_are_in_the_payload_and_marked_in_explain() {
    let m = Mapping::compile(
        "user {\n  userName = $.username\n  create externalId = $._id\n  create = 1\n}\n",
    );
    // `create = 1` is an entry whose target is `create`, which the User schema does not have.
    let codes: Vec<&str> = m
        .err()
        .expect("unknown target")
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect();
    assert_eq!(codes, ["scimap::unknown-target"]);
    let m = Mapping::compile("user {\n  userName = $.username\n  create externalId = $._id\n}\n")
        .unwrap();
    let record = json!({"_id": "5f1b", "username": "ada"});
    assert_eq!(
        m.evaluate(Kind::User, &record).unwrap()["externalId"],
        "5f1b"
    );
    let marks: Vec<(String, bool)> = m
        .explain(Kind::User, &record)
        .into_iter()
        .map(|x| (x.target, x.create_only))
        .collect();
    assert_eq!(
        marks,
        [
            ("userName".to_string(), false),
            ("externalId".to_string(), true)
        ]
    );
}

/// Pieces of profiles and entries, valid and not, for the generated files below.
const PIECES: [&str; 24] = [
    "update",
    "updatable",
    "patchOnly",
    "groups",
    "matching",
    "maxPatchOperations",
    " = ",
    "=",
    "put",
    "patch",
    "false",
    "[",
    "]",
    ", ",
    "active",
    "name.givenName",
    "100",
    "0",
    "\n",
    "  ",
    "// c\n",
    "/* c */",
    "create ",
    "#",
];

#[test]
fn updatable_and_patch_only_name_user_attributes_so_groups_follow_the_update_style() {
    // Trello updates only a user's `active`; its groups are still renamed.
    let trello = example("trello");
    let group = json!({"id": "g1", "name": "Renamed"});
    let current = json!({"id": "app-g1", "displayName": "Old"});
    let plan = trello.plan(Kind::Group, &group, Some(&current)).unwrap();
    assert_eq!(
        plan.to_json()[0]["body"]["Operations"],
        json!([{"op": "replace", "path": "displayName", "value": "Renamed"}])
    );
    let user = json!({"username": "ada", "firstname": "New", "state": "ACTIVATED"});
    let current =
        json!({"id": "u1", "userName": "ada", "name": {"givenName": "Old"}, "active": true});
    assert!(trello
        .plan(Kind::User, &user, Some(&current))
        .unwrap()
        .is_empty());
    // monday.com PUTs groups too, with no PATCH: `patchOnly` names user attributes.
    let monday = example("monday");
    let plan = monday.plan(Kind::Group, &group, Some(&current)).unwrap();
    assert_eq!(plan.requests.len(), 1);
    assert_eq!(plan.to_json()[0]["method"], "PUT");
}

fn soup() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop::collection::vec(prop::sample::select(&PIECES[..]), 0..24).prop_map(|p| p.concat())
}

/// Setting lines, mostly well formed: each key at most once, most with a value of its kind,
/// blanks, comments and noise around.
fn settings() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let list = prop::collection::vec(
        prop::sample::select(&["active", "userType", "name", "name.givenName", "title"][..]),
        0..4,
    )
    .prop_map(|paths| format!("[{}]", paths.join(",\n  ")));
    let word =
        |words: &'static [&'static str]| prop::sample::select(words).prop_map(str::to_string);
    let line = |key: &'static str, value: BoxedStrategy<String>| {
        (
            value,
            prop::sample::select(&["=", " = ", "  =  "][..]),
            soup(),
            any::<u8>(),
        )
            .prop_map(move |(v, eq, noise, dice)| match dice % 8 {
                0 => format!("{key}{eq}{v}{noise}"),
                1 => format!("{key}{eq}{noise}"),
                _ => format!("  {key}{eq}{v}  // {key}"),
            })
            .boxed()
    };
    let lines = vec![
        line("update", word(&["put", "patch"]).boxed()),
        line("updatable", list.clone().boxed()),
        line("patchOnly", list.boxed()),
        line("groups", word(&["true", "false"]).boxed()),
        line(
            "matching",
            word(&["userName", "emails.value", "title"]).boxed(),
        ),
        line("maxPatchOperations", word(&["1", "100"]).boxed()),
    ];
    (lines, prop::collection::vec(any::<bool>(), 6)).prop_map(|(lines, keep)| {
        lines
            .into_iter()
            .zip(keep)
            .filter_map(|(l, k)| k.then_some(l))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

use proptest::strategy::Strategy as _;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Generated profiles and entries never panic the compiler; debug builds also compare the
    /// hand-written parser with the grammar on each. One that compiles formats to a file with
    /// the same profile, and formatting it again changes nothing.
    #[test]
    fn generated_profiles_parse_alike_and_format_stably(
        profile in proptest::prop_oneof![settings(), soup()],
        entry in proptest::prop_oneof![
            proptest::sample::select(&["", "create externalId = $._id", "create  active = true"][..])
                .prop_map(str::to_string),
            soup(),
        ],
    ) {
        let source = format!(
            "app \"A\" {{\n{profile}\n}}\nuser {{\n  userName = $.username\n  {entry}\n  title = $.jobTitle\n}}\n"
        );
        if let Ok(m) = Mapping::compile(&source) {
            let formatted = scimap::fmt::format(&source).expect("a mapping that compiles formats");
            let again = Mapping::compile(&formatted).expect("the formatted mapping compiles");
            proptest::prop_assert_eq!(again.profile(), m.profile());
            proptest::prop_assert_eq!(scimap::fmt::format(&formatted).expect("formats"), formatted);
        }
    }
}
