"""Builds a test file of many cases of examples/trello.scimap for timing `scimap test`
(BENCHMARKS.md, "Mapping tests").

    python3 test_cases.py COUNT > DIR/trello.test.toml   # then copy trello.scimap and
                                                         # users.ndjson of examples/ to DIR

One case in ten picks a record of `users.ndjson` by line; the others hold a whole sample user
(about 1.7 KB of JSON) inline, renamed, with a first name and state drawn at random (seed 7),
and expect `/userName`, `/active` and, when there is one, `/name/formatted`.
"""
import json
import random
import sys
from pathlib import Path


def main():
    count = int(sys.argv[1])
    random.seed(7)
    examples = Path(__file__).resolve().parent.parent / "examples"
    users = [json.loads(l) for l in open(examples / "users.ndjson")]
    out = ['fixtures = "users.ndjson"\n']
    for i in range(count):
        if i % 10 == 0:
            out.append(
                f'[[case]]\nname = "fixture {i}"\nfixture = {{ line = {i % 5 + 1} }}\n'
                'expect = { "/schemas/0" = "urn:ietf:params:scim:schemas:core:2.0:User" }\n\n'
            )
            continue
        user = dict(random.choice(users))
        user["username"] = f"user{i}"
        first = random.choice(["Ada", "Bo", "Μαρία", None])
        if first is None:
            user.pop("firstname", None)
        else:
            user["firstname"] = first
        state = random.choice(["ACTIVATED", "SUSPENDED", "STAGED"])
        user["state"] = state
        names = [user.get("firstname", "").strip(), (user.get("lastname") or "").strip()]
        full = " ".join(n for n in names if n)
        expect = {"/userName": f"user{i}", "/active": state == "ACTIVATED"}
        if full:
            expect["/name/formatted"] = full
        record = json.dumps(user, ensure_ascii=False).replace("'", "")
        pairs = ", ".join(
            f"{json.dumps(k)} = {json.dumps(v, ensure_ascii=False)}" for k, v in expect.items()
        )
        out.append(f"[[case]]\nname = \"case {i}\"\nrecord = '{record}'\nexpect = {{ {pairs} }}\n\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
