"""Builds `scimap plan --input` pairs for `cargo xtask bench-plan`: each user with the app's
resource as the app would hold it, made from the user's own payload (`scimap bulk` output).

    python3 plan_pairs.py USERS.ndjson PAYLOADS.ndjson MIX > PAIRS.ndjson

MIX: `unchanged` (the app holds the payload: nothing to send), `changed` (two mapped
attributes differ: a PATCH of two operations), `new` (no resource: a POST). A user whose
payload failed is paired with no resource (the plan fails as the payload did).
"""
import json
import sys


def main():
    users, payloads, mix = sys.argv[1], sys.argv[2], sys.argv[3]
    out = sys.stdout
    with open(users) as u, open(payloads) as p:
        for i, (user, payload) in enumerate(zip(u, p)):
            current = None
            if mix != "new":
                current = json.loads(payload)
                if "error" in current:
                    current = None
                else:
                    current["id"] = f"app-{i}"
                    current["meta"] = {"resourceType": "User", "version": f'W/"{i}"'}
                    if mix == "changed":
                        current["title"] = "Former title"
                        current["active"] = not current.get("active", True)
            out.write('{"record":%s,"current":%s}\n' % (user.rstrip("\n"), json.dumps(current)))


if __name__ == "__main__":
    main()
