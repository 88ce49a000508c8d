"""Proves scimap's update plans against scim2-server, a SCIM server nobody here wrote.

For every mapping (examples/*.scimap and this folder's *.scimap) and thousands of generated
(old record, new record) pairs: POST the old payload (`scimap bulk`), plan the new record
against the resource the server returned (`scimap plan --input`, one run per mapping), send
the plan, GET, and check that
  (a) every attribute the profile lets change equals the new mapped payload,
  (b) every other attribute keeps its old value,
  (c) a second plan against the GET result is empty,
  (d) pairs with no updatable difference plan no request at all,
  (e) no update request touches an attribute the app refuses (outside `updatable`,
      create-only, or PATCH-only ones in a PUT),
  (f) every body validates with scim2-models (PatchOp, or the resource for POST and PUT).
The same for deactivations and for groups with their members. Values are compared as RFC 7643
§2 says, by the schemas the server itself publishes (/Schemas): attribute names
case-insensitive, strings by `caseExact`, multi-valued attributes as unordered.

Usage: python converge.py --scimap BIN --server BIN [--pairs N] [--seed S] [--figures FILE]
Standard library and scim2-models only. Exit status 1 on any miss, each named by mapping, pair
and attribute (details of every miss in FILE's folder, failures.ndjson).
"""

import argparse
import concurrent.futures
import copy
import datetime
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from scim2_models import Context
from scim2_models import EnterpriseUser
from scim2_models import Group
from scim2_models import PatchOp
from scim2_models import User

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
# RFC 7643 §3.1: a common attribute, so in no schema the server publishes.
EXTERNAL_ID = {
    "name": "externalId",
    "type": "string",
    "multiValued": False,
    "caseExact": True,
    "mutability": "readWrite",
    "subs": {},
}
WORKERS = 4  # concurrent HTTP clients: the server answers each request in its own thread
DETAILS_SHOWN = 10


class Miss(Exception):
    """A check that failed: what, and the attribute it concerns."""

    def __init__(self, check, attribute, detail=""):
        super().__init__(f"({check}) {attribute}: {detail}")
        self.check, self.attribute = check, attribute


# --------------------------------------------------------------------------------------------
# The server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, log_path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--hostname", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scim2-server exited ({self.proc.returncode}), see {log_path}")
            try:
                self.request("GET", "/ServiceProviderConfig")
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError("scim2-server did not answer within 60 s")
                time.sleep(0.1)

    def request(self, method, path, body=None):
        """(status, parsed body or None); HTTP errors are returned, not raised."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/scim+json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text.decode(errors="replace")
        return status, parsed

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def expect(status, body, wanted, what):
    if status not in wanted:
        raise Miss("http", what, f"status {status}, body {json.dumps(body)[:400]}")


# --------------------------------------------------------------------------------------------
# Schemas, as the server publishes them


def load_schemas(server):
    status, body = server.request("GET", "/Schemas")
    expect(status, body, (200,), "GET /Schemas")

    def attribute(a):
        subs = {s["name"].lower(): attribute(s) for s in a.get("subAttributes") or []}
        return {
            "name": a["name"],
            "type": a["type"],
            "multiValued": bool(a.get("multiValued")),
            "caseExact": bool(a.get("caseExact")),
            "mutability": a.get("mutability", "readWrite"),
            "subs": subs,
        }

    out = {}
    for s in body["Resources"]:
        out[s["id"].lower()] = {a["name"].lower(): attribute(a) for a in s["attributes"]}
    status, body = server.request("GET", "/ResourceTypes")
    expect(status, body, (200,), "GET /ResourceTypes")
    extensions = {}
    for rt in body["Resources"]:
        extensions[rt["schema"].lower()] = [
            e["schema"].lower() for e in rt.get("schemaExtensions") or []
        ]
    return out, extensions


class Kind:
    """One resource type: its core schema, extensions, endpoint and scim2-models class."""

    def __init__(self, schemas, extensions, core, endpoint, model):
        self.core_urn = core
        self.core = dict(schemas[core.lower()])
        self.core["externalid"] = EXTERNAL_ID
        self.extensions = {u: schemas[u] for u in extensions[core.lower()]}
        self.endpoint = endpoint
        self.model = model

    def schema(self, urn):
        return self.core if urn is None else self.extensions[urn.lower()]


# --------------------------------------------------------------------------------------------
# RFC 7643 comparison


def get_ci(obj, name):
    """A member by name, case-insensitively (RFC 7643 §2.1)."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    for k, v in obj.items():
        if k.lower() == name.lower():
            return v
    return None


def del_ci(obj, name):
    for k in [k for k in obj if k.lower() == name.lower()]:
        del obj[k]


def absent(v):
    """Unassigned (RFC 7644 §3.5.2): null, an empty array, an object of nothing assigned."""
    if v is None or v == []:
        return True
    return isinstance(v, dict) and all(absent(x) for x in v.values())


def canon(v, attr, multi):
    """A form such that equal values (RFC 7643 §2.1-2.4) have equal forms."""
    if absent(v):
        return None
    if multi:
        if not isinstance(v, list):
            return {"invalid": v}
        forms = [canon(x, attr, False) for x in v]
        return sorted(
            (f for f in forms if f is not None), key=lambda f: json.dumps(f, sort_keys=True)
        )
    t = attr["type"]
    if t == "complex" and isinstance(v, dict):
        out = {}
        for k, x in v.items():
            sub = attr["subs"].get(k.lower())
            form = canon(x, sub, sub["multiValued"]) if sub else {"unknown": x}
            # `primary` false is the default, the same as no `primary`.
            if form is not None and not (k.lower() == "primary" and form is False):
                out[k.lower()] = form
        return out
    if t in ("string", "reference", "binary") and isinstance(v, str):
        return v if attr["caseExact"] else v.lower()
    if t == "boolean" and isinstance(v, bool):
        return v
    if t in ("integer", "decimal") and isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if t == "dateTime" and isinstance(v, str):
        try:
            return datetime.datetime.fromisoformat(v).astimezone(datetime.timezone.utc).isoformat()
        except ValueError:
            return {"invalid": v}
    return {"invalid": v}


def canon_resource(res, kind):
    """Every attribute but `id`, `meta` and `schemas`, canonical, keyed by lower-case name."""
    out = {}
    for k, v in (res or {}).items():
        key = k.lower()
        if key in ("id", "meta", "schemas"):
            continue
        if key in kind.extensions:
            ext = kind.extensions[key]
            form = {}
            for ak, av in (v or {}).items() if isinstance(v, dict) else []:
                a = ext.get(ak.lower())
                f = canon(av, a, a["multiValued"]) if a else {"unknown": av}
                if f is not None:
                    form[ak.lower()] = f
            form = form or None
        elif key in kind.core:
            a = kind.core[key]
            form = canon(v, a, a["multiValued"])
        else:
            form = None if absent(v) else {"unknown": v}
        if form is not None:
            out[key] = form
    return out


def differences(a, b):
    """The top-level attributes on which two canonical resources differ."""
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


# --------------------------------------------------------------------------------------------
# Mappings: targets and profile, read from the file (and checked against `scimap plan
# --explain`, so that a misread file fails instead of weakening the checks)

FILTER = re.compile(
    r'\s*([A-Za-z$][\w$-]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)\s*(?:and\s+|$)',
    re.I,
)


def parse_path(text):
    """`[urn:]attr[[filter]][.sub]` → (urn, attr, filter pairs or None, sub)."""
    urn = None
    head = text.split("[", 1)[0]
    if text.lower().startswith("urn:"):
        cut = head.rfind(":")
        urn, text = text[:cut], text[cut + 1 :]
    m = re.fullmatch(r"([A-Za-z$][\w$-]*)(?:\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?", text)
    if not m:
        raise ValueError(f"not a path: {text!r}")
    attr, inner, sub = m.groups()
    pairs = None
    if inner is not None and inner.strip():
        pairs, pos = [], 0
        while pos < len(inner):
            f = FILTER.match(inner, pos)
            if not f:
                raise ValueError(f"filter not understood: {inner!r}")
            pairs.append((f.group(1), json.loads(f.group(2))))
            pos = f.end()
    return urn, attr, pairs, sub


def strip_comments(line):
    out, quoted, i = [], False, 0
    while i < len(line):
        c = line[i]
        if c == "\\" and quoted:
            out.append(line[i : i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if not quoted and line.startswith("//", i):
            break
        out.append(c)
        i += 1
    return "".join(out)


ENTRY = re.compile(
    r'\s*(create\s+)?((?:urn:[^\s\[=]+)?[A-Za-z$][\w$-]*(?:\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\])?(?:\.[A-Za-z$][\w$-]*)?)\s*=(?!=)'
)


def parse_mapping(path):
    profile = {"update": "patch", "updatable": None, "patchOnly": [], "maxPatchOperations": None}
    sections, block, depth = {}, None, 0
    pending = ""
    for raw in open(path, encoding="utf-8"):
        line = strip_comments(raw).strip()
        if block is None:
            m = re.match(r'(app\s+"[^"]*"|user|group)\s*\{', line)
            if m:
                block = "app" if m.group(1).startswith("app") else m.group(1)
                sections.setdefault(block, [])
                depth = 1
            continue
        if block == "app":
            pending = (pending + " " + line).strip()
            if pending.count("[") > pending.count("]"):
                continue  # a list spanning lines
            if pending == "}":
                block = None
            elif pending:
                key, value = (x.strip() for x in pending.split("=", 1))
                if value.startswith("["):
                    value = [v.strip() for v in value.strip("[]").split(",") if v.strip()]
                elif value.isdigit():
                    value = int(value)
                profile[key] = value
            pending = ""
            continue
        if depth == 1:
            m = ENTRY.match(line)
            if m and not line.startswith("let "):
                sections[block].append((m.group(2), bool(m.group(1))))
        depth += line.count("{") - line.count("}")
        if depth == 0:
            block = None
    return profile, sections


def explained_targets(scimap, mapping, record, section, tmp):
    """The targets `scimap plan --explain` says a POST sends, in order."""
    path = os.path.join(tmp, "explain.json")
    with open(path, "w") as f:
        json.dump(record, f)
    flag = "--user" if section == "user" else "--group"
    out = subprocess.run(
        [scimap, "plan", mapping, flag, path, "--explain"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(l for l in out.stderr.splitlines() if l.strip().startswith("sends "))
    return [t for t, _, _ in re.findall(r"(.+?) \([^()]*:(\d+):(\d+)\)(?:, |$)", line.strip()[6:])]


def profile_covers(paths, target):
    """Whether a profile list names the target's attribute (reference §profile: a path has no
    filter; `name` covers its sub-attributes, `emails.value` every `emails` entry mapping
    `value`, whatever its filter)."""
    turn, tattr, _, tsub = parse_path(target)
    for p in paths or []:
        urn, attr, _, sub = parse_path(p)
        same_urn = (urn or "").lower() == (turn or "").lower()
        if (
            same_urn
            and attr.lower() == tattr.lower()
            and (sub is None or (tsub or "").lower() == sub.lower())
        ):
            return True
    return False


class Unit:
    """What the checks compare: a whole attribute, a sub-attribute of a single-valued complex
    one, or one sub-attribute of the elements a filter selects."""

    def __init__(self, kind, urn, attr, form, sub=None, pairs=None):
        self.urn, self.attr, self.form, self.sub, self.pairs = urn, attr, form, sub, pairs
        schema = kind.schema(urn)
        self.adef = schema[attr.lower()]
        self.sdef = self.adef["subs"][sub.lower()] if sub else None
        self.targets = []
        self.updatable = True
        self.patch_only = False

    def key(self):
        return (
            (self.urn or "").lower(),
            self.attr.lower(),
            self.form,
            (self.sub or "").lower(),
            json.dumps(self.pairs),
        )

    def name(self):
        prefix = f"{self.urn}:" if self.urn else ""
        if self.form == "whole":
            return prefix + self.adef["name"]
        if self.form == "sub":
            return f"{prefix}{self.adef['name']}.{self.sdef['name']}"
        f = " and ".join(f"{k} eq {json.dumps(v)}" for k, v in self.pairs)
        return f"{prefix}{self.adef['name']}[{f}].{self.sdef['name']}"

    def scope(self, res):
        return res if self.urn is None else get_ci(res, self.urn)

    def element(self, items):
        for e in items if isinstance(items, list) else []:
            if isinstance(e, dict) and all(
                canon(get_ci(e, k), self.adef["subs"][k.lower()], False)
                == canon(v, self.adef["subs"][k.lower()], False)
                for k, v in self.pairs
            ):
                return e
        return None

    def value(self, res):
        """The unit's canonical value in a resource (None: unassigned)."""
        v = get_ci(self.scope(res), self.attr)
        if self.form == "whole":
            return canon(v, self.adef, self.adef["multiValued"])
        if self.form == "sub":
            return canon(get_ci(v, self.sub), self.sdef, False)
        return canon(get_ci(self.element(v), self.sub), self.sdef, False)

    def erase(self, res):
        """Removes the unit from a resource (a copy), for comparing what is left."""
        scope = self.scope(res)
        if not isinstance(scope, dict):
            return
        if self.form == "whole":
            del_ci(scope, self.attr)
        elif self.form == "sub":
            obj = get_ci(scope, self.attr)
            if isinstance(obj, dict):
                del_ci(obj, self.sub)
        else:
            items = get_ci(scope, self.attr)
            for e in items if isinstance(items, list) else []:
                if isinstance(e, dict) and self.element([e]) is e:
                    del_ci(e, self.sub)
                    # The plan sets `primary` on the element it writes.
                    del_ci(e, "primary")
            # An element left with its filter values only is the shell of a removed one.
            if isinstance(items, list):
                keys = {k.lower() for k, _ in self.pairs}
                items[:] = [
                    e
                    for e in items
                    if not (
                        isinstance(e, dict)
                        and all(k.lower() in keys or absent(v) for k, v in e.items())
                    )
                ]

    def covers_op(self, path, value):
        """Whether a PATCH operation (path parsed, value) stays within this unit."""
        urn, attr, pairs, sub = path
        if (urn or "").lower() != (self.urn or "").lower() or attr.lower() != self.attr.lower():
            return False
        if self.form == "whole":
            return True
        if self.form == "sub":
            return pairs is None and sub is not None and sub.lower() == self.sub.lower()
        if pairs is None and sub is None:
            # A new element: an `add` of one element holding the filter's values and this
            # unit's sub-attribute (or `primary`).
            return isinstance(value, list) and all(
                isinstance(e, dict)
                and self.element([e]) is e
                and all(k.lower() in self.allowed() for k in e)
                for e in value
            )
        same = pairs is not None and sorted((k.lower(), json.dumps(v)) for k, v in pairs) == sorted(
            (k.lower(), json.dumps(v)) for k, v in self.pairs
        )
        return same and (sub is None or sub.lower() in (self.sub.lower(), "primary"))

    def allowed(self):
        return {k.lower() for k, _ in self.pairs} | {self.sub.lower(), "primary"}


class Mapping:
    def __init__(self, path, kinds, scimap, tmp, sample_user, sample_group):
        self.path = path
        self.name = os.path.relpath(path, ROOT)
        self.profile, sections = parse_mapping(path)
        self.units = {}
        for section, kind in kinds.items():
            entries = sections.get(section)
            if entries is None:
                continue
            sample = sample_user if section == "user" else sample_group
            told = explained_targets(scimap, path, sample, section, tmp)
            if told != [t for t, _ in entries]:
                raise RuntimeError(f"{self.name}: targets read {entries}, scimap says {told}")
            self.units[section] = self.build_units(kind, entries)

    def build_units(self, kind, entries):
        units = {}
        for target, create in entries:
            urn, attr, pairs, sub = parse_path(target)
            adef = kind.schema(urn)[attr.lower()]
            if pairs is not None and sub is not None and adef["multiValued"]:
                unit = Unit(kind, urn, attr, "elem", sub, pairs)
            elif sub is not None and not adef["multiValued"]:
                unit = Unit(kind, urn, attr, "sub", sub)
            else:
                unit = Unit(kind, urn, attr, "whole")
            unit = units.setdefault(unit.key(), unit)
            unit.targets.append(target)
            writable = adef["mutability"] == "readWrite" and (
                unit.sdef is None or unit.sdef["mutability"] == "readWrite"
            )
            may = writable and not create
            # `updatable` and `patchOnly` name user attributes: a group's all may change.
            user = kind.endpoint == "/Users"
            if user and self.profile["updatable"] is not None:
                may = may and profile_covers(self.profile["updatable"], target)
            unit.updatable = unit.updatable and may
            unit.patch_only = unit.patch_only or (
                user and profile_covers(self.profile["patchOnly"], target)
            )
        units = list(units.values())
        wholes = {(u.urn or "", u.attr.lower()) for u in units if u.form == "whole"}
        if any(u.form == "elem" and (u.urn or "", u.attr.lower()) in wholes for u in units):
            raise RuntimeError(
                f"{self.name}: an attribute mapped whole and by filter is not modelled"
            )
        return units


# --------------------------------------------------------------------------------------------
# Records and pairs

CASES = (str.upper, str.lower, str.swapcase, str.title)


def case_only(rng, s):
    for f in rng.sample(CASES, len(CASES)):
        if f(s) != s:
            return f(s)
    return s


def other(rng, pool, field):
    values = [r.get(field) for r in pool if isinstance(r.get(field), str) and r.get(field)]
    return rng.choice(values) if values else "x"


def set_or_drop(rng, r, field, value):
    if value is None and rng.random() < 0.5:
        r.pop(field, None)
    else:
        r[field] = value


def mutate_text(rng, r, field, pool):
    cur = r.get(field)
    how = rng.randrange(5)
    if how == 0 and isinstance(cur, str) and cur:
        r[field] = case_only(rng, cur)
    elif how == 1:
        set_or_drop(rng, r, field, None)
    elif how == 2 and isinstance(cur, str):
        r[field] = f"  {cur} "
    else:
        r[field] = other(rng, pool, field)


def mutate_phones(rng, r):
    phones = copy.deepcopy(r.get("phoneNumbers") or [])
    how = rng.randrange(6)
    if how == 0 or not phones:
        phones.append(
            {
                "type": rng.choice(["work", "mobile", "home", "Work"]),
                "number": f"+1 555 {rng.randrange(10000):04d}",
            }
        )
    elif how == 1:
        phones.pop(rng.randrange(len(phones)))
    elif how == 2:
        rng.choice(phones)["number"] = f"+44 20 {rng.randrange(10**7):07d}"
    elif how == 3:
        p = rng.choice(phones)
        p["type"] = (
            case_only(rng, p["type"]) if isinstance(p.get("type"), str) and p["type"] else "work"
        )
    elif how == 4:
        phones = []
    else:
        phones = None
    set_or_drop(rng, r, "phoneNumbers", phones)


def mutate_addresses(rng, r, pool):
    addrs = copy.deepcopy(r.get("addresses") or [])
    donors = [a for p in pool for a in p.get("addresses") or []]
    how = rng.randrange(7)
    if how == 0 or not addrs:
        addrs.append(copy.deepcopy(rng.choice(donors)))
    elif how == 1:
        addrs.pop(rng.randrange(len(addrs)))
    elif how == 2:
        rng.choice(addrs)["locality"] = other(rng, donors, "locality")
    elif how == 3:
        a = rng.choice(addrs)
        a["country"] = case_only(rng, a["country"]) if isinstance(a.get("country"), str) else "FR"
    elif how == 4:
        addrs.reverse()
    elif how == 5:
        rng.choice(addrs).pop("region", None)
    else:
        addrs = rng.choice([[], None])
    set_or_drop(rng, r, "addresses", addrs)


TEXT_FIELDS = [
    "firstname",
    "lastname",
    "displayname",
    "email",
    "employeeType",
    "jobTitle",
    "department",
    "company",
    "employeeIdentifier",
]


def mutate(rng, old, pool):
    """A new record: the old one changed in 0-4 fields the mappings read."""
    new = copy.deepcopy(old)
    roll = rng.random()
    if roll < 0.10:
        return new  # unchanged
    if roll < 0.15:
        new["description"] = "changed, but mapped by no example"
        new["costCenter"] = "9999"
        return new
    if roll < 0.25:
        for f in rng.sample(
            ["username", "email", "firstname", "lastname", "displayname", "jobTitle"], 3
        ):
            if isinstance(new.get(f), str):
                new[f] = case_only(rng, new[f])
        return new
    for _ in range(rng.randint(1, 4)):
        what = rng.randrange(9)
        if what <= 2:
            field = rng.choice(TEXT_FIELDS)
            if field == "email" and rng.random() < 0.7:
                # Rarely removed: it is Miro's userName.
                new[field] = other(rng, pool, field)
            else:
                mutate_text(rng, new, field, pool)
        elif what == 3:
            new["state"] = rng.choice(["ACTIVATED", "SUSPENDED", "STAGED"])
        elif what == 4 and isinstance(new.get("username"), str):
            new["username"] = (
                case_only(rng, new["username"])
                if rng.random() < 0.5
                else new["username"] + ".renamed"
            )
        elif what == 5:
            set_or_drop(rng, new, "locale", rng.choice(["en-US", "fr-FR", "ja-JP", None]))
            set_or_drop(
                rng, new, "timezone", rng.choice(["Europe/Paris", "America/New_York", None])
            )
        elif what == 6:
            mutate_phones(rng, new)
        else:
            mutate_addresses(rng, new, pool)
    return new


def tag(record, n):
    """Makes userName (and Miro's, the e-mail) unique to the pair: the server refuses a
    second user with the same one (RFC 7643 `uniqueness: server`)."""
    if isinstance(record.get("username"), str) and record["username"]:
        record["username"] += f".{n}"
    if isinstance(record.get("email"), str) and record["email"]:
        local, at, domain = record["email"].partition("@")
        record["email"] = f"{local}+{n}{at}{domain}"
    return record


def user_pairs(rng, base, count):
    pairs = []
    for i in range(count):
        old = copy.deepcopy(base[i % len(base)])
        new = mutate(rng, old, base)
        pairs.append((tag(old, f"p{i}"), tag(new, f"p{i}")))
    return pairs


def group_pairs(rng, base, count, pool_ids):
    pairs = []
    for i in range(count):
        old = copy.deepcopy(base[i % len(base)])
        new = copy.deepcopy(old)
        roll = rng.randrange(5)
        if roll == 1:
            new["name"] = case_only(rng, new["name"])
        elif roll == 2:
            new["name"] = other(rng, base, "name")
        elif roll == 3:
            new["name"] = f"{new['name']} (renamed)"
        old_members = rng.sample(pool_ids, rng.randint(0, 5))
        roll = rng.randrange(5)
        if roll == 0:
            new_members = list(old_members)
        elif roll == 1:
            new_members = old_members + [p for p in rng.sample(pool_ids, 3) if p not in old_members]
        elif roll == 2:
            new_members = old_members[: len(old_members) // 2]
        elif roll == 3:
            new_members = rng.sample(pool_ids, rng.randint(0, 6))
        else:
            new_members = []
        pairs.append((old, new, old_members, new_members))
    return pairs


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def with_app_attributes(payload):
    """The payload with what an app holds beside the mapped attributes (its own attributes,
    sub-attributes and elements), which plans must leave alone."""
    body = copy.deepcopy(payload)
    body["nickName"] = "set by the app"
    body["name"] = {**(body.get("name") or {}), "middleName": "Q."}
    emails = body.setdefault("emails", [])
    for e in emails:
        e.setdefault("display", "shown by the app")
    emails.append({"type": "other", "value": "kept@app.example"})
    body.setdefault("phoneNumbers", []).append({"type": "pager", "value": "+1 555 0199"})
    body[ENTERPRISE] = {**(body.get(ENTERPRISE) or {}), "division": "set by the app"}
    if ENTERPRISE not in body["schemas"]:
        body["schemas"] = body["schemas"] + [ENTERPRISE]
    return body


def read_ndjson(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


# --------------------------------------------------------------------------------------------
# scimap


def scimap_lines(scimap, args, lines, tmp):
    path = os.path.join(tmp, "in.ndjson")
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    out = subprocess.run([scimap, *args, "--input", path], capture_output=True, text=True)
    result = [json.loads(l) for l in out.stdout.splitlines()]
    if len(result) != len(lines):
        raise RuntimeError(
            f"scimap {' '.join(args)}: {len(result)} lines for {len(lines)}: {out.stderr}"
        )
    return result


def bulk(scimap, mapping, records, group, tmp):
    args = ["bulk", mapping] + (["--group"] if group else [])
    return scimap_lines(scimap, args, records, tmp)


def plans(scimap, mapping, pairs, group, tmp):
    args = ["plan", mapping] + (["--groups"] if group else [])
    return scimap_lines(scimap, args, pairs, tmp)


# --------------------------------------------------------------------------------------------
# The checks


def op_path(op):
    """A PATCH operation's path, parsed."""
    try:
        return parse_path(str(op.get("path")))
    except ValueError as e:
        raise Miss("f", str(op.get("path")), f"not an attribute path: {e}")


def typed(v, attr, multi):
    """Whether a value has the JSON type its attribute's schema gives it."""
    if v is None:
        return True
    if multi:
        return isinstance(v, list) and all(typed(x, attr, False) for x in v)
    t = attr["type"]
    if t == "complex":
        subs = attr["subs"]
        return isinstance(v, dict) and all(
            k.lower() in subs and typed(x, subs[k.lower()], subs[k.lower()]["multiValued"])
            for k, x in v.items()
        )
    if t == "boolean":
        return isinstance(v, bool)
    if t in ("integer", "decimal"):
        return isinstance(v, int if t == "integer" else (int, float)) and not isinstance(v, bool)
    return isinstance(v, str)


def check_types(kind, request):
    """Every value of the body of the JSON type the schema says: pydantic, under scim2-models,
    also takes the string "False" for a boolean (as Microsoft Entra sends it)."""
    body = request["body"]
    if request["method"] == "PATCH":
        for op in body.get("Operations") or []:
            # scim2-models also takes `Add` or `REPLACE` (Entra again); RFC 7644 §3.5.2 writes
            # them in lower case.
            if op.get("op") not in ("add", "remove", "replace"):
                raise Miss(
                    "f",
                    str(op.get("path")),
                    f"operation {op.get('op')!r} is not add, remove or replace",
                )
            urn, attr, pairs, sub = op_path(op)
            schema = kind.core if urn is None else kind.extensions.get(urn.lower(), {})
            adef = schema.get(attr.lower())
            if adef is None or (sub is not None and sub.lower() not in adef["subs"]):
                raise Miss("f", op["path"], "not an attribute of the schema")
            if op["op"] == "remove":
                continue
            if sub is not None:
                ok = typed(op.get("value"), adef["subs"][sub.lower()], False)
            else:
                ok = typed(op.get("value"), adef, adef["multiValued"] and pairs is None)
            if not ok:
                raise Miss("f", op["path"], f"value {op.get('value')!r} is not a {adef['type']}")
        return
    for k, v in body.items():
        key = k.lower()
        if key in ("schemas", "id", "meta"):
            continue
        if key in kind.extensions:
            ext = kind.extensions[key]
            bad = [
                a
                for a, x in v.items()
                if a.lower() not in ext
                or not typed(x, ext[a.lower()], ext[a.lower()]["multiValued"])
            ]
        else:
            adef = kind.core.get(key)
            bad = [k] if adef is None or not typed(v, adef, adef["multiValued"]) else []
        if bad:
            raise Miss("f", ",".join(bad), f"of another JSON type than the schema says: {v!r}")


def validate(kind, request):
    """(f): the body as scim2-models reads a request of its kind, and of the schema's types."""
    body = request["body"]
    check_types(kind, request)
    try:
        if request["method"] == "PATCH":
            PatchOp[kind.model].model_validate(body, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        elif request["method"] == "POST":
            kind.model.model_validate(body, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        else:
            kind.model.model_validate(body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    except Exception as e:  # pydantic's ValidationError, or a SCIM exception
        raise Miss("f", request["method"], f"scim2-models refuses the body: {e}")


def erased(res, units):
    res = copy.deepcopy(res or {})
    for u in units:
        u.erase(res)
    return res


def check_refused(kind, units, members_limit, plan, current, group):
    """(e): an update touches only what the profile lets change: PATCH operations stay within
    updatable units (in PUT style, PATCH-only ones), a PUT changes nothing else."""
    put_style = any(r["method"] == "PUT" for r in plan)
    for r in plan:
        if r["method"] == "PUT":
            allowed = [u for u in units if u.updatable and not u.patch_only]
            left, was = canon_resource(erased(r["body"], allowed), kind), canon_resource(
                erased(current, allowed), kind
            )
            diff = differences(left, was)
            if diff:
                raise Miss("e", ",".join(diff), "the PUT changes an attribute the app refuses")
            if get_ci(r["body"], "id") != current["id"]:
                raise Miss("e", "id", "the PUT does not keep the app's id")
        elif r["method"] == "PATCH":
            ops = r["body"].get("Operations") or []
            if members_limit is not None and len(ops) > members_limit:
                raise Miss(
                    "e",
                    "Operations",
                    f"{len(ops)} operations, over maxPatchOperations {members_limit}",
                )
            for op in ops:
                path = op_path(op)
                if group and path[1].lower() == "members":
                    ok = (
                        op["op"] == "add"
                        and path[2] is None
                        and all(list(m) == ["value"] for m in op["value"])
                    ) or (
                        op["op"] == "remove"
                        and path[2] is not None
                        and [k for k, _ in path[2]] == ["value"]
                    )
                    if not ok:
                        raise Miss("e", op["path"], f"not a membership operation: {op}")
                    continue
                fit = [u for u in units if u.covers_op(path, op.get("value"))]
                if not fit or not all(u.updatable for u in fit):
                    raise Miss("e", op["path"], f"the app refuses this attribute: {op}")
                if put_style and not all(u.patch_only for u in fit):
                    raise Miss(
                        "e", op["path"], "a PATCH beside a PUT for an attribute the PUT carries"
                    )
        else:
            raise Miss("e", r["method"], "an update request other than PATCH or PUT")


def check_result(kind, units, desired, before, after):
    """(a) and (b): after equals desired on the updatable units, before on the rest."""
    for u in units:
        if u.updatable and u.value(after) != u.value(desired):
            raise Miss(
                "a", u.name(), f"server has {u.value(after)!r}, mapping wants {u.value(desired)!r}"
            )
        shell = u.form == "elem" and u.updatable and u.element(get_ci(u.scope(after), u.attr))
        if shell and all(
            k.lower() in u.allowed() - {u.sub.lower()} or absent(v) for k, v in shell.items()
        ):
            if not u.element(get_ci(u.scope(before), u.attr)) == shell:
                raise Miss("a", u.name(), f"an element left with its filter values only: {shell}")
    moved = [u for u in units if u.updatable]
    left, was = canon_resource(erased(after, moved), kind), canon_resource(
        erased(before, moved), kind
    )
    diff = differences(left, was)
    if diff:
        raise Miss(
            "b",
            ",".join(diff),
            f"changed from {[was.get(d) for d in diff]!r} to {[left.get(d) for d in diff]!r}",
        )
    if get_ci(after, "id") != get_ci(before, "id"):
        raise Miss("b", "id", "the id changed")


def check_created(kind, body, created):
    """The server kept every attribute of the POST (it accepts every payload scimap makes)."""
    sent, kept = canon_resource(body, kind), canon_resource(created, kind)
    lost = [k for k in sent if sent[k] != kept.get(k)]
    if lost:
        raise Miss(
            "post",
            ",".join(lost),
            f"sent {[sent[k] for k in lost]!r}, stored {[kept.get(k) for k in lost]!r}",
        )


def changed_units(units, desired, current):
    return [u for u in units if u.updatable and u.value(desired) != u.value(current)]


def send(server, plan, what):
    for r in plan:
        status, body = server.request(r["method"], r["path"], r["body"])
        expect(status, body, (200, 201, 204), f"{r['method']} {r['path']} ({what})")


# --------------------------------------------------------------------------------------------
# The run


class Figures:
    def __init__(self):
        self.rows = {}

    def row(self, mapping):
        return self.rows.setdefault(
            mapping,
            {
                "pairs": 0,
                "skipped": 0,
                "converged": 0,
                "unchanged": 0,
                "unchanged_requests": 0,
                "identical": 0,
                "identical_requests": 0,
                "requests": 0,
                "patch_requests": 0,
                "with_app_attributes": 0,
                "put_requests": 0,
                "patch_operations": 0,
                "changed_attributes": 0,
                "changed_by_patch": 0,
                "deactivations": 0,
                "deactivations_converged": 0,
                "group_pairs": 0,
                "groups_converged": 0,
                "membership_operations": 0,
                "bodies_validated": 0,
            },
        )


class Run:
    def __init__(self, args, server, kinds, tmp):
        self.args, self.server, self.kinds, self.tmp = args, server, kinds, tmp
        self.figures = Figures()
        self.failures = []
        self.pool = concurrent.futures.ThreadPoolExecutor(WORKERS)

    def fail(self, mapping, what, miss, **details):
        self.failures.append(
            {
                "mapping": mapping.name,
                "pair": what,
                "check": miss.check,
                "attribute": miss.attribute,
                "message": str(miss),
                **details,
            }
        )

    def parallel(self, fn, items):
        return list(self.pool.map(fn, items))

    def users(self, mapping, pairs):
        kind, units, fig = self.kinds["user"], mapping.units["user"], self.figures.row(mapping.name)
        scimap = self.args.scimap
        payloads = bulk(scimap, mapping.path, [p for pair in pairs for p in pair], False, self.tmp)
        cases = []
        for i, (old, new) in enumerate(pairs):
            po, pn = payloads[2 * i], payloads[2 * i + 1]
            if "error" in po or "error" in pn:
                fig["skipped"] += 1  # scimap refuses the record (a required attribute is nil)
                continue
            # One pair in three starts from a resource holding attributes the mapping does not map.
            posted = with_app_attributes(po) if i % 3 == 0 else po
            cases.append(
                {
                    "n": i,
                    "old": old,
                    "new": new,
                    "old_payload": po,
                    "new_payload": pn,
                    "posted": posted,
                }
            )
        fig["pairs"] = len(cases)
        fig["with_app_attributes"] = sum(1 for c in cases if c["posted"] is not c["old_payload"])

        def create(case):
            try:
                validate(
                    kind, {"method": "POST", "path": kind.endpoint, "body": case["old_payload"]}
                )
                status, body = self.server.request("POST", kind.endpoint, case["posted"])
                expect(status, body, (201,), "POST")
                check_created(kind, case["posted"], body)
                case["current"] = body
            except Miss as m:
                self.fail(mapping, case["n"], m, old=case["old"], payload=case["old_payload"])

        self.parallel(create, cases)
        cases = [c for c in cases if "current" in c]
        first = plans(
            scimap,
            mapping.path,
            [{"record": c["new"], "current": c["current"]} for c in cases]
            + [{"record": c["old"], "current": None} for c in cases],
            False,
            self.tmp,
        )
        for c, plan, creation in zip(cases, first, first[len(cases) :]):
            c["plan"] = plan
            if creation != [{"method": "POST", "path": kind.endpoint, "body": c["old_payload"]}]:
                c["early"] = Miss(
                    "post",
                    "plan",
                    f"the creation plan is not a POST of the bulk payload: {creation}",
                )

        def apply(c):
            try:
                if "early" in c:
                    raise c.pop("early")
                if "error" in c["plan"]:
                    raise Miss("plan", "-", f"scimap plan failed: {c['plan']}")
                plan = c["plan"]
                changed = changed_units(units, c["new_payload"], c["current"])
                if not changed and plan:
                    raise Miss("d", "-", "requests for a record with no updatable change")
                for r in plan:
                    validate(kind, r)
                check_refused(kind, units, None, plan, c["current"], False)
                send(self.server, plan, "plan")
                status, after = self.server.request("GET", f"{kind.endpoint}/{c['current']['id']}")
                expect(status, after, (200,), "GET")
                c["after"] = after
                check_result(kind, units, c["new_payload"], c["current"], after)
                c["changed"] = changed
            except Miss as m:
                c["missed"] = True
                self.fail(
                    mapping,
                    c["n"],
                    m,
                    old=c["old"],
                    new=c["new"],
                    current=c.get("current"),
                    plan=c.get("plan"),
                    after=c.get("after"),
                )

        self.parallel(apply, cases)
        done = [c for c in cases if "after" in c and not c.get("missed")]
        second = plans(
            scimap,
            mapping.path,
            [{"record": c["new"], "current": c["after"]} for c in done],
            False,
            self.tmp,
        )
        for c, plan in zip(done, second):
            if plan != []:
                self.fail(
                    mapping,
                    c["n"],
                    Miss("c", "-", f"a second plan: {plan}"),
                    old=c["old"],
                    new=c["new"],
                    current=c["current"],
                    plan=c["plan"],
                    after=c["after"],
                )
                continue
            fig["converged"] += 1
            requests = len(c["plan"])
            fig["requests"] += requests
            fig["bodies_validated"] += requests + 1
            if not c["changed"]:
                fig["unchanged"] += 1
                fig["unchanged_requests"] += requests
            if c["old"] == c["new"] and c["posted"] is c["old_payload"]:
                fig["identical"] += 1
                fig["identical_requests"] += requests
            fig["changed_attributes"] += len(c["changed"])
            put = mapping.profile["update"] == "put"
            fig["changed_by_patch"] += sum(1 for u in c["changed"] if u.patch_only or not put)
            for r in c["plan"]:
                if r["method"] == "PATCH":
                    fig["patch_requests"] += 1
                    fig["patch_operations"] += len(r["body"]["Operations"])
                else:
                    fig["put_requests"] += 1
        self.deactivate(mapping, done[:: self.args.deactivate_every])
        self.parallel(
            lambda c: self.server.request("DELETE", f"{kind.endpoint}/{c['current']['id']}"), cases
        )

    def deactivate(self, mapping, cases):
        kind, fig = self.kinds["user"], self.figures.row(mapping.name)
        units = [Unit(kind, None, "active", "whole")]
        for c in cases:
            before = c["after"]
            plan = after = None
            try:
                plan = self.deactivation_plan(mapping, c, before)
                for r in plan:
                    validate(kind, r)
                check_refused(kind, units, None, plan, before, False)
                if bool(get_ci(before, "active")) is False and plan:
                    raise Miss("d", "active", "requests to deactivate an inactive user")
                send(self.server, plan, "deactivate")
                status, after = self.server.request("GET", f"{kind.endpoint}/{before['id']}")
                expect(status, after, (200,), "GET")
                check_result(kind, units, {"active": False}, before, after)
                again = self.deactivation_plan(mapping, c, after)
                if again:
                    raise Miss("c", "active", f"a second deactivation plan: {again}")
                fig["deactivations"] += 1
                fig["deactivations_converged"] += 1
                fig["bodies_validated"] += len(plan)
            except Miss as m:
                fig["deactivations"] += 1
                self.fail(
                    mapping,
                    f"deactivate {c['n']}",
                    m,
                    new=c["new"],
                    current=before,
                    plan=plan,
                    after=after,
                )

    def deactivation_plan(self, mapping, case, current):
        rec, cur = os.path.join(self.tmp, "record.json"), os.path.join(self.tmp, "current.json")
        with open(rec, "w") as f:
            json.dump(case["new"], f)
        with open(cur, "w") as f:
            json.dump(current, f)
        out = subprocess.run(
            [
                self.args.scimap,
                "plan",
                mapping.path,
                "--user",
                rec,
                "--current",
                cur,
                "--deactivate",
            ],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise Miss(
                "plan", "active", f"scimap plan --deactivate failed: {out.stdout} {out.stderr}"
            )
        return json.loads(out.stdout)

    def groups(self, mapping, base_groups, base_users):
        kind, units, fig = (
            self.kinds["group"],
            mapping.units["group"],
            self.figures.row(mapping.name),
        )
        scimap, limit = self.args.scimap, mapping.profile["maxPatchOperations"]
        # Members: users created on the server from the mapping's own payloads.
        members = [tag(copy.deepcopy(u), f"g{i}") for i, u in enumerate(base_users[:12])]
        ids = []
        for payload in bulk(scimap, mapping.path, members, False, self.tmp):
            if "error" not in payload:
                status, body = self.server.request("POST", "/Users", payload)
                expect(status, body, (201,), "POST a member")
                ids.append(body["id"])
        rng = random.Random(f"{self.args.seed}/{mapping.name}/groups")
        pairs = group_pairs(rng, base_groups, self.args.group_pairs, ids)
        payloads = bulk(scimap, mapping.path, [g for p in pairs for g in p[:2]], True, self.tmp)
        cases = []
        for i, (old, new, have, want) in enumerate(pairs):
            po, pn = payloads[2 * i], payloads[2 * i + 1]
            if "error" in po or "error" in pn:
                fig["skipped"] += 1
                continue
            cases.append(
                {
                    "n": i,
                    "old": old,
                    "new": new,
                    "have": have,
                    "want": want,
                    "old_payload": po,
                    "new_payload": pn,
                }
            )
        creation = plans(
            scimap,
            mapping.path,
            [{"record": c["old"], "current": None, "members": c["have"]} for c in cases],
            True,
            self.tmp,
        )

        def create(c, plan):
            try:
                body = dict(c["old_payload"])
                if c["have"]:
                    body["members"] = [{"value": i} for i in c["have"]]
                if plan != [{"method": "POST", "path": kind.endpoint, "body": body}]:
                    raise Miss(
                        "post",
                        "plan",
                        f"the creation plan is not a POST of the payload and members: {plan}",
                    )
                validate(kind, plan[0])
                status, created = self.server.request("POST", kind.endpoint, body)
                expect(status, created, (201,), "POST a group")
                check_created(kind, body, created)
                c["current"] = created
            except Miss as m:
                self.fail(mapping, f"group {c['n']}", m, old=c["old"], members=c["have"])

        list(self.pool.map(create, cases, creation))
        cases = [c for c in cases if "current" in c]
        first = plans(
            scimap,
            mapping.path,
            [{"record": c["new"], "current": c["current"], "members": c["want"]} for c in cases],
            True,
            self.tmp,
        )
        member_unit = Unit(kind, None, "members", "whole")

        def apply(c, plan):
            c["plan"] = plan
            try:
                if "error" in plan:
                    raise Miss("plan", "-", f"scimap plan failed: {plan}")
                changed = changed_units(units, c["new_payload"], c["current"])
                if not changed and set(c["have"]) == set(c["want"]) and plan:
                    raise Miss("d", "-", "requests for a group with no change")
                for r in plan:
                    validate(kind, r)
                check_refused(kind, units, limit, plan, c["current"], True)
                send(self.server, plan, "group plan")
                status, after = self.server.request("GET", f"{kind.endpoint}/{c['current']['id']}")
                expect(status, after, (200,), "GET a group")
                c["after"] = after
                got = sorted(m.get("value") for m in get_ci(after, "members") or [])
                if got != sorted(set(c["want"])):
                    raise Miss("a", "members", f"server has {got}, wanted {sorted(set(c['want']))}")
                check_result(
                    kind,
                    units + [member_unit],
                    c["new_payload"] | {"members": get_ci(after, "members")},
                    c["current"],
                    after,
                )
                c["ops"] = sum(
                    len(r["body"]["Operations"])
                    for r in plan
                    if r["method"] == "PATCH"
                    and any(
                        op["path"].lower().startswith("members") for op in r["body"]["Operations"]
                    )
                )
            except Miss as m:
                c["missed"] = True
                self.fail(
                    mapping,
                    f"group {c['n']}",
                    m,
                    old=c["old"],
                    new=c["new"],
                    members=c["want"],
                    current=c.get("current"),
                    plan=plan,
                    after=c.get("after"),
                )

        list(self.pool.map(apply, cases, first))
        done = [c for c in cases if "after" in c and not c.get("missed")]
        second = plans(
            scimap,
            mapping.path,
            [{"record": c["new"], "current": c["after"], "members": c["want"]} for c in done],
            True,
            self.tmp,
        )
        fig["group_pairs"] = len(cases)
        for c, plan in zip(done, second):
            if plan != []:
                self.fail(
                    mapping,
                    f"group {c['n']}",
                    Miss("c", "-", f"a second plan: {plan}"),
                    new=c["new"],
                    members=c["want"],
                    current=c["current"],
                    plan=c["plan"],
                    after=c["after"],
                )
                continue
            fig["groups_converged"] += 1
            fig["membership_operations"] += c["ops"]
            fig["bodies_validated"] += len(c["plan"]) + 1
        self.parallel(
            lambda c: self.server.request("DELETE", f"{kind.endpoint}/{c['current']['id']}"), cases
        )
        self.parallel(lambda i: self.server.request("DELETE", f"/Users/{i}"), ids)


def report(figures, seconds):
    """The figures as a Markdown table and a summary line."""
    lines = [
        "| mapping | user pairs | converged in one plan | requests for unchanged (identical records) "
        "| changed attributes | PATCH operations / attribute changed by PATCH | PUT requests "
        "| deactivations converged | group pairs converged | membership operations |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in sorted(figures.rows.items()):
        pct = 100.0 * f["converged"] / f["pairs"] if f["pairs"] else 0.0
        ratio = f["patch_operations"] / f["changed_by_patch"] if f["changed_by_patch"] else 0.0
        groups = f"{f['groups_converged']}/{f['group_pairs']}" if f["group_pairs"] else "-"
        lines.append(
            f"| {name} | {f['pairs']} | {pct:.1f}% | {f['unchanged_requests']} for {f['unchanged']} "
            f"({f['identical_requests']} for {f['identical']}) | {f['changed_attributes']} "
            f"| {f['patch_operations']} / {f['changed_by_patch']} = {ratio:.2f} | {f['put_requests']} "
            f"| {f['deactivations_converged']}/{f['deactivations']} | {groups} "
            f"| {f['membership_operations'] or '-'} |"
        )
    total = {k: sum(f[k] for f in figures.rows.values()) for k in next(iter(figures.rows.values()))}
    lines.append(
        f"\n{total['pairs']} user pairs ({total['with_app_attributes']} from resources holding "
        f"attributes the mapping does not map), {total['group_pairs']} group pairs, "
        f"{total['bodies_validated']} bodies validated by scim2-models, in {seconds:.0f} s"
    )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scimap", required=True)
    ap.add_argument("--server", required=True, help="the scim2-server command")
    ap.add_argument("--pairs", type=int, default=500, help="user pairs per mapping")
    ap.add_argument(
        "--group-pairs", type=int, default=100, help="group pairs per mapping with groups"
    )
    ap.add_argument(
        "--deactivate-every", type=int, default=20, help="deactivate every Nth converged user"
    )
    ap.add_argument("--seed", default="scimap-13")
    ap.add_argument("--figures", help="write the figures here (JSON; failures.ndjson beside it)")
    args = ap.parse_args()

    started = time.monotonic()
    mappings = sorted(
        [
            os.path.join(ROOT, "examples", f)
            for f in os.listdir(os.path.join(ROOT, "examples"))
            if f.endswith(".scimap")
        ]
    ) + sorted(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), f)
        for f in os.listdir(os.path.dirname(os.path.abspath(__file__)))
        if f.endswith(".scimap")
    )
    users = read_ndjson(os.path.join(ROOT, "examples", "users.ndjson")) + read_ndjson(
        os.path.join(ROOT, "tests", "fixtures", "users.ndjson")
    )
    groups = read_ndjson(os.path.join(ROOT, "examples", "groups.ndjson")) + read_ndjson(
        os.path.join(ROOT, "tests", "fixtures", "groups.ndjson")
    )
    groups = [g for g in groups if isinstance(g.get("name"), str) and g["name"].strip()]
    out_dir = (
        os.path.dirname(os.path.abspath(args.figures)) if args.figures else tempfile.gettempdir()
    )
    os.makedirs(out_dir, exist_ok=True)

    server = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            server = Server(args.server, os.path.join(out_dir, "scim2-server.log"))
            schemas, extensions = load_schemas(server)
            kinds = {
                "user": Kind(schemas, extensions, CORE_USER, "/Users", User[EnterpriseUser]),
                "group": Kind(schemas, extensions, CORE_GROUP, "/Groups", Group),
            }
            run = Run(args, server, kinds, tmp)
            for path in mappings:
                mapping = Mapping(path, kinds, args.scimap, tmp, users[0], groups[0])
                rng = random.Random(f"{args.seed}/{mapping.name}")
                run.users(mapping, user_pairs(rng, users, args.pairs))
                if "group" in mapping.units:
                    run.groups(mapping, groups, users)
                print(
                    f"{mapping.name}: {run.figures.rows[mapping.name]['pairs']} pairs, "
                    f"{len(run.failures)} misses so far, {time.monotonic() - started:.0f} s",
                    flush=True,
                )
            run.pool.shutdown()
        finally:
            if server is not None:
                server.stop()

    seconds = time.monotonic() - started
    table = report(run.figures, seconds)
    print(table)
    if args.figures:
        with open(args.figures, "w") as f:
            json.dump(
                {"mappings": run.figures.rows, "seconds": round(seconds, 1), "seed": args.seed},
                f,
                indent=1,
            )
        with open(os.path.splitext(args.figures)[0] + ".md", "w") as f:
            f.write(table + "\n")
    with open(os.path.join(out_dir, "failures.ndjson"), "w") as f:
        for miss in run.failures:
            f.write(json.dumps(miss, ensure_ascii=False) + "\n")
    if run.failures:
        print(
            f"\n{len(run.failures)} misses (all in {os.path.join(out_dir, 'failures.ndjson')}):",
            file=sys.stderr,
        )
        for miss in run.failures[:DETAILS_SHOWN]:
            print(f"  {miss['mapping']}, pair {miss['pair']}, {miss['message']}", file=sys.stderr)
            for k in ("old", "new", "members", "current", "plan", "after"):
                if k in miss:
                    print(
                        f"    {k}: {json.dumps(miss[k], ensure_ascii=False)[:600]}", file=sys.stderr
                    )
        return 1
    print("every pair converged in one plan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
