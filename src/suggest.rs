//! "Did you mean …?" for unknown names: record fields, SCIM attributes, functions, URNs.

/// The candidate closest to `name`, ignoring case, if it is close enough to be a likely typo:
/// at most one edit (a transposition counts as one) per three characters of the candidate, at
/// least one and at most three, so that long names (URNs) that merely share a prefix do not
/// match. A candidate equal to `name` but for case is always suggested.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let name = name.to_lowercase();
    let name_len = name.chars().count();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let len = lower.chars().count();
        let allowed = (len / 3).clamp(1, 3);
        // The distance is at least the difference in length: skip hopeless (and long) inputs
        // before the quadratic comparison.
        if len.abs_diff(name_len) > allowed {
            continue;
        }
        let distance = strsim::osa_distance(&name, &lower);
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{builtin_urns, ENTERPRISE_USER};

    const FIELDS: [&str; 6] = [
        "username",
        "firstname",
        "email",
        "lastname",
        "userName",
        "state",
    ];

    #[test]
    fn typos_are_suggested() {
        assert_eq!(
            did_you_mean("usrName", ["displayName", "userName"]),
            Some("userName")
        );
        assert_eq!(did_you_mean("firstName", FIELDS), Some("firstname"));
        assert_eq!(did_you_mean("emial", FIELDS), Some("email"));
        assert_eq!(did_you_mean("EMAIL", FIELDS), Some("email"));
        assert_eq!(did_you_mean("lastnme", FIELDS), Some("lastname"));
        assert_eq!(
            did_you_mean(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:Usr",
                builtin_urns().iter().copied()
            ),
            Some(ENTERPRISE_USER)
        );
    }

    #[test]
    fn closest_wins_then_first() {
        // `usrname` is one edit from `username` and from `userName` (case is ignored): first wins.
        assert_eq!(did_you_mean("usrname", FIELDS), Some("username"));
        assert_eq!(
            did_you_mean("stat", ["start", "state", "stats"]),
            Some("start")
        );
        assert_eq!(did_you_mean("titel", ["tile", "title"]), Some("title"));
    }

    #[test]
    fn unrelated_words_get_nothing() {
        assert_eq!(did_you_mean("zzz", FIELDS), None);
        assert_eq!(did_you_mean("phone", ["phoneNumbers"]), None);
        assert_eq!(did_you_mean("title", ["total"]), None);
        assert_eq!(did_you_mean("ab", ["id"]), None);
        assert_eq!(did_you_mean("department", ["description"]), None);
        assert_eq!(did_you_mean("", FIELDS), None);
        assert_eq!(did_you_mean("email", []), None);
        assert_eq!(
            did_you_mean(
                "urn:example:params:scim:schemas:extension:acme:2.0:User",
                builtin_urns().iter().copied()
            ),
            None
        );
        assert_eq!(did_you_mean(&"x".repeat(100_000), FIELDS), None);
    }
}
