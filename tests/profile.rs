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
