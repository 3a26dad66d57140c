#!/usr/bin/env bash
# Triage throughput: files per minute of `pocket triage` on the tests' 200-file inbox, with and without
# the shared instruction prefix, and with several files in flight (--jobs).
#
#   bench/triage_bench.sh [--build DIR] [-m MODEL] [--mmproj P] [--files N] [--kinds text|all]
#                         [--jobs "1 2"] [-t THREADS] [--max-doc-tokens 512] [--work DIR]
#
# Default model: the full-size random-weight E2B Q4_0 that `pocket bench --synthetic e2b --type q4_0`
# keeps in ${XDG_CACHE_HOME:-~/.cache}/pocket/synthetic (written once, 2.6 GB, if missing). Random weights
# make every answer run to its token limit, so the figures are an upper bound on the work per file.
# --kinds text (default without --mmproj): only the inbox's text files (mails, notes, PDFs, docx); all:
# every file (images and recordings need --mmproj, else they are recorded as unsupported at once).
# --files N: the first N of those files (a quick check, e.g. --files 10 with a tiny model).
# Runs, each from an empty report folder: prefix reuse with every --jobs value, then --no-prefix-reuse
# with --jobs 1. Prints wall time, files/min and peak RSS per run, and checks that the records of the
# --jobs runs are identical (apart from timings).
# Time: the inbox has 130 text files; at ~7 files/min per run (full-size E2B Q4_0, 2 threads) the three
# default runs take about 55 minutes (--files 40: about 17).
# Checked on a 10-file inbox with the tests' tiny model:
#   bench/triage_bench.sh -m build/triage/e2b-tiny-f32-gemma-vocab.gguf --files 10 --jobs "1 2 3"
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build" model="" mmproj="" files=0 kinds="" jobs_list="1 2" threads=2 max_doc=512 work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    -m|--model) model="$2"; shift 2 ;;
    --mmproj) mmproj="$2"; shift 2 ;;
    --files) files="$2"; shift 2 ;;
    --kinds) kinds="$2"; shift 2 ;;
    --jobs) jobs_list="$2"; shift 2 ;;
    -t|--threads) threads="$2"; shift 2 ;;
    --max-doc-tokens) max_doc="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "triage_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
pocket="$build/pocket" make_inbox="$build/pocket_triage_make_inbox"
py=/usr/bin/python3
[ -x "$pocket" ] && [ -x "$make_inbox" ] || {
  echo "triage_bench: build pocket and pocket_triage_make_inbox first (cmake --build $build --target pocket pocket_triage_make_inbox)" >&2
  exit 2
}
[ -n "$kinds" ] || { [ -n "$mmproj" ] && kinds=all || kinds=text; }
work="${work:-$build/triage/bench}"
mkdir -p "$work"
labels="$root/tests/triage/labels.yaml"

# The 200-file inbox (the same as ctest's fixture triage.inbox200), built once.
inbox="$build/triage/inbox200" manifest="$build/triage/inbox200.manifest.json"
if [ ! -s "$manifest" ]; then
  echo "building the 200-file inbox in $inbox" >&2
  "$make_inbox" --out "$inbox" --manifest "$manifest" --count 200 \
    --stdlib "$root/tests/tokenizer/node_modules/@stdlib" --photos "$root/tests/media/node_modules/@stdlib" \
    --librivox /usr/share/pocketsphinx/test/data/librivox >&2
fi

# The model: the path `pocket bench --synthetic e2b --type q4_0` uses, written by it when missing.
if [ -z "$model" ]; then
  cache="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/pocket/synthetic"
  [ -n "${XDG_CACHE_HOME:-}${HOME:-}" ] || cache=/tmp/pocket-synthetic
  model="$cache/gemma4-e2b-q4_0.gguf"
  [ -s "$model" ] || "$pocket" bench --synthetic e2b --type q4_0 -p 8 -n 2 -r 1 -t "$threads" >&2
fi
[ -s "$model" ] || { echo "triage_bench: no model at $model" >&2; exit 2; }

# The files of the run, as a --from-list.
list="$work/files.jsonl"
$py - "$manifest" "$kinds" "$files" > "$list" <<'PY'
import json, sys
manifest, kinds, n = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
names = sorted(p for p, m in manifest.items() if kinds == "all" or m["kind"] == "text")
for p in names[: n or None]:
    print(json.dumps({"path": p}))
PY
n_files=$(wc -l < "$list")
echo "model: $model" >&2
echo "inbox: $inbox ($n_files files, kinds: $kinds), -t $threads, --max-doc-tokens $max_doc" >&2

run() {  # name, extra flags...
  local name="$1"; shift
  local out="$work/rep-$name"
  rm -rf "$out"
  local mm=(); [ -n "$mmproj" ] && mm=(--mmproj "$mmproj")
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss-$name" "$pocket" triage "$inbox" --from-list "$list" --out "$out" \
    --labels "$labels" -m "$model" "${mm[@]}" -t "$threads" --max-doc-tokens "$max_doc" --no-progress "$@" \
    2> "$work/log-$name"
  t1=$(date +%s.%N)
  $py - "$name" "$t0" "$t1" "$out/triage.jsonl" "$(cat "$work/rss-$name")" <<'PY'
import json, sys
name, t0, t1, path, rss_kib = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
recs = [json.loads(l) for l in open(path) if l.strip()]
wall = t1 - t0
labelled = sum(r["error"] is None for r in recs)
print(f"| {name} | {len(recs)} | {labelled} | {wall:.1f} s | {len(recs) / wall * 60:.2f} | "
      f"{labelled / wall * 60:.2f} | {rss_kib / 1048576:.2f} GiB |")
PY
}

echo "| run | files | labelled | wall time | files/min | labelled files/min | peak RSS |"
echo "|---|---|---|---|---|---|---|"
for j in $jobs_list; do run "reuse-jobs$j" --jobs "$j"; done
run "no-reuse-jobs1" --no-prefix-reuse --jobs 1

# Results must not depend on --jobs: compare the --jobs runs with the first. (--no-prefix-reuse
# evaluates the instruction and the file in other slices, so its scores may differ in the last bits.)
first=""
for j in $jobs_list; do
  name="reuse-jobs$j"
  if [ -z "$first" ]; then first="$name"; continue; fi
  if $py "$root/tests/triage/check_records.py" identical "$work/rep-$first" "$work/rep-$name" > "$work/same-$name" 2>&1; then
    echo "records of $name identical to $first's: $(cat "$work/same-$name")"
  else
    echo "records of $name DIFFER from $first's: $(tail -n 1 "$work/same-$name")"
  fi
done
