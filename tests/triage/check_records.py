"""Checks for tests/triage/pipeline_e2e.sh (run with /usr/bin/python3; standard library only)."""
import hashlib, json, os, sys


def records_dir(rep):
    out = {}
    d = os.path.join(rep, "records")
    if not os.path.isdir(d):
        return out
    for name in os.listdir(d):
        assert name.endswith(".json"), f"leftover non-record file {name} in {d}"
        with open(os.path.join(d, name), encoding="utf-8") as f:
            r = json.load(f)  # a torn record would fail here
        assert r["path"] not in out, f"two records for {r['path']}"
        out[r["path"]] = r
    return out


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def parse_labels(path):
    # The test labels file is simple enough to read without a YAML library: names, field names/types, flags.
    cats, flags, cur = {}, [], None
    for line in open(path, encoding="utf-8"):
        s = line.strip()
        if s.startswith("- name:"):
            cur = s.split(":", 1)[1].strip()
            cats[cur] = {}
        elif s.startswith("- {name:") and cur is not None:
            body = s[3:-1]
            kv = dict(p.split(":", 1) for p in body.split(", ") if ":" in p)
            cats[cur][kv["name"].strip()] = kv.get("type", "string").strip()
        elif s.startswith("flags:"):
            flags = [x.strip() for x in s.split("[", 1)[1].rstrip("]").split(",")]
    return cats, flags


def check_field(value, typ, where):
    if value is None:
        return
    if typ == "number":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}: {value!r} not a number"
    elif typ == "boolean":
        assert isinstance(value, bool), f"{where}: {value!r} not a boolean"
    elif typ == "date":
        assert isinstance(value, str) and len(value) == 10, f"{where}: {value!r} not a 10-character date"
    else:
        assert isinstance(value, str) and len(value) <= 100, f"{where}: {value!r} not a string ≤ 100"


def report(rep, inbox, labels):
    cats, flags = parse_labels(labels)
    recs = read_jsonl(os.path.join(rep, "triage.jsonl"))
    paths = [r["path"] for r in recs]
    assert len(paths) == len(set(paths)), "duplicate records in triage.jsonl"
    files = sorted(os.path.relpath(os.path.join(d, f), inbox) for d, _, fs in os.walk(inbox) for f in fs)
    assert sorted(paths) == files, f"records {sorted(set(paths) ^ set(files))} differ from the inbox"
    assert set(records_dir(rep)) >= set(paths)
    n_ok = n_err = 0
    for r in recs:
        where = r["path"]
        if r["error"] is not None:
            assert isinstance(r["error"], str) and r["error"], f"{where}: empty error"
            assert r["label"] is None
            n_err += 1
            continue
        n_ok += 1
        assert r["sha256"] == sha(os.path.join(inbox, r["path"])), f"{where}: sha256"
        assert r["label"] in cats, f"{where}: label {r['label']!r}"
        assert set(r["label_scores"]) == set(cats), f"{where}: label_scores keys"
        total = sum(r["label_scores"].values())
        assert abs(total - 1) < 1e-6, f"{where}: scores sum to {total}"
        assert abs(r["confidence"] - max(r["label_scores"].values())) < 1e-12
        assert r["label_scores"][r["label"]] == r["confidence"]
        assert isinstance(r["summary"], str)
        fields = r["fields"]
        assert isinstance(fields, dict) and set(fields) == set(cats[r["label"]]), f"{where}: fields {fields}"
        for k, v in fields.items():
            check_field(v, cats[r["label"]][k], f"{where}: fields.{k}")
        assert isinstance(r["flags"], list) and len(r["flags"]) <= 8 and all(f in flags for f in r["flags"]), \
            f"{where}: flags {r['flags']}"
        assert r["prompt_tokens"] > 0 and r["kind"] in ("text", "image", "audio")
    print(f"{len(recs)} records: {n_ok} labelled (fields schema-valid), {n_err} with a reason; no duplicates")


def main():
    cmd = sys.argv[1]
    if cmd == "snapshot":
        json.dump(records_dir(sys.argv[2]), open(sys.argv[3], "w"))
    elif cmd == "unchanged":
        now = records_dir(sys.argv[2])
        snap = json.load(open(sys.argv[3]))
        for p, r in snap.items():
            assert now.get(p) == r, f"{p}: a record finished before the kill was redone or lost"
        print(f"{len(snap)} records finished before a kill are kept as they were")
    elif cmd == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "applied":
        recs = read_jsonl(os.path.join(sys.argv[2], "triage.jsonl"))
        n = 0
        for r in recs:
            dest = os.path.join(sys.argv[3], r["label"] or "", r["path"])
            if r["error"] is None:
                assert os.path.isfile(dest) and sha(dest) == r["sha256"], f"{dest}: missing or different"
                n += 1
        print(f"apply --copy: {n} files under their labels")
    elif cmd == "same":
        a = {r["path"]: r for r in read_jsonl(os.path.join(sys.argv[2], "triage.jsonl"))}
        b = {r["path"]: r for r in read_jsonl(os.path.join(sys.argv[3], "triage.jsonl"))}
        assert set(a) == set(b), f"merged paths differ: {set(a) ^ set(b)}"
        for p in a:
            assert a[p]["sha256"] == b[p]["sha256"] and a[p]["label"] == b[p]["label"], f"{p}: label differs"
            if a[p]["confidence"] is not None:
                assert abs(a[p]["confidence"] - b[p]["confidence"]) < 1e-3, f"{p}: confidence differs"
        print(f"shards merged: {len(b)} records, labels equal to the single run")
    elif cmd == "identical":
        # Every field equal (scores bit for bit) except the timings: results must not depend on --jobs.
        timing = ("seconds", "finished_at")
        a = {r["path"]: r for r in read_jsonl(os.path.join(sys.argv[2], "triage.jsonl"))}
        b = {r["path"]: r for r in read_jsonl(os.path.join(sys.argv[3], "triage.jsonl"))}
        assert set(a) == set(b), f"paths differ: {set(a) ^ set(b)}"
        for p in sorted(a):
            ka, kb = set(a[p]) - set(timing), set(b[p]) - set(timing)
            assert ka == kb, f"{p}: fields differ: {ka ^ kb}"
            for k in sorted(ka):
                assert a[p][k] == b[p][k], f"{p}: {k} differs: {a[p][k]!r} vs {b[p][k]!r}"
        n = sum(r["error"] is None for r in a.values())
        print(f"{len(a)} records identical apart from timings ({n} labelled)")


main()
