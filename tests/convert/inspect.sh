#!/usr/bin/env bash
# `pocket inspect --json` on a synthetic model and a synthetic mmproj: tensor count and header fields
# equal the file's own header (read here with Python's struct), the tensor table's bytes add up to
# tensor_bytes and per_type, the tensors fill the data section (up to alignment padding), the memory
# estimate adds up; a non-GGUF file gives exactly one "pocket: error:" line and exit status 1.
set -euo pipefail
pocket="$1" work="$2" python="${3:-python3}"
rm -rf "$work"
mkdir -p "$work"
"$pocket" synth --variant e2b --size tiny --type q8_0 -q -o "$work/model.gguf"
"$pocket" synth-mmproj --variant e2b --size tiny --audio -q -o "$work/mmproj.gguf"

check() {  # check FILE CTX EXPECT_MODEL
  "$pocket" inspect "$1" --ctx "$2" --json >"$1.json"
  "$python" - "$1" "$1.json" "$2" "$3" <<'PY'
import json, struct, sys, os
path, js, ctx, want_model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
r = json.load(open(js))
with open(path, "rb") as f:
    magic, version, n_tensors, n_kv = struct.unpack("<4sIQQ", f.read(24))
assert magic == b"GGUF", magic
size = os.path.getsize(path)
assert r["version"] == version, (r["version"], version)
assert r["tensor_count"] == n_tensors == len(r["tensors"]), (r["tensor_count"], n_tensors)
assert r["metadata_count"] == n_kv == len(r["metadata"]), (r["metadata_count"], n_kv)
assert r["file_bytes"] == size
total = sum(t["bytes"] for t in r["tensors"])
assert total == r["tensor_bytes"], (total, r["tensor_bytes"])
assert sum(v["bytes"] for v in r["per_type"].values()) == total
assert sum(v["tensors"] for v in r["per_type"].values()) == n_tensors
data = size - r["data_offset"]
assert total <= data < total + n_tensors * r["alignment"], (total, data)
m = r["memory"]
assert m["weights_resident"] + m["weights_mapped"] == total
assert ("kv_cache" in m) == want_model
parts = m["weights_resident"] + m["weights_mapped"] + m.get("kv_cache", 0) + m.get("activations", 0)
assert m["total"] == parts
if want_model:
    assert m["n_ctx"] == ctx and m["kv_cache"] > 0 and m["activations"] > 0 and m["weights_mapped"] > 0
print(f"ok   {os.path.basename(path)}: {n_tensors} tensors, {total} bytes, memory {m['total']} bytes")
PY
}
check "$work/model.gguf" 4096 1
check "$work/mmproj.gguf" 0 0

# The KV cache grows with the context on global layers only: sliding layers stop at window + batch.
kv() { "$pocket" inspect "$work/model.gguf" --ctx "$1" --json --no-tensors | "$python" -c 'import json,sys; print(json.load(sys.stdin)["memory"]["kv_cache"])'; }
a=$(kv 4096) b=$(kv 8192)
[ "$b" -gt "$a" ] && [ "$b" -lt $((2 * a)) ] || { echo "FAIL kv cache 4096 -> $a, 8192 -> $b"; exit 1; }
echo "ok   kv cache 4096 -> $a bytes, 8192 -> $b bytes"

head -c 4096 /dev/zero >"$work/not.gguf"
status=0
"$pocket" inspect "$work/not.gguf" >/dev/null 2>"$work/not.err" || status=$?
if [ "$status" -ne 1 ] || [ "$(wc -l <"$work/not.err")" -ne 1 ] || ! grep -q '^pocket: error: .*not.gguf.*GGUF' "$work/not.err"; then
  echo "FAIL non-GGUF input (exit $status):"; cat "$work/not.err"; exit 1
fi
echo "ok   non-GGUF: $(cat "$work/not.err")"
