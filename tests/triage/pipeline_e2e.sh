#!/usr/bin/env bash
# End-to-end `pocket triage` on the test inbox with a tiny random-weight model (real Gemma vocabulary)
# and a tiny synthetic mmproj (vision + audio towers). Labels are meaningless with random weights; this
# checks the pipeline: kill -9 at random points of --jobs 3 runs then rerun (finished records never
# redone, never duplicated, never lost), every file accounted for, schema-valid fields, the records
# identical to a --jobs 1 run's (results do not depend on --jobs), originals untouched, apply --copy, a
# changed file redone, shards + merge equal to one run.
set -euo pipefail
pocket="$1" model="$2" mmproj="$3" inbox="$4" work="$5" labels="$6"
here="$(cd "$(dirname "$0")" && pwd)"
py=/usr/bin/python3
rm -rf "$work"; mkdir -p "$work"
rep="$work/rep"
run() { "$pocket" triage "$@" --labels "$labels" -m "$model" --mmproj "$mmproj" --max-doc-tokens 256 -t 2 --no-progress; }

# 0. --jobs out of range: a clear error before anything is read.
for bad in 0 1000; do
  if "$pocket" triage "$inbox" --out "$work/bad" --labels "$labels" -m "$model" --jobs "$bad" 2> "$work/bad.log"; then
    echo "--jobs $bad was accepted"; exit 1
  fi
  grep -q -- "--jobs $bad: give 1 to 16 files in flight" "$work/bad.log" || { cat "$work/bad.log"; exit 1; }
done
echo "--jobs 0 and --jobs 1000 refused: $(head -n 1 "$work/bad.log")"

(cd "$inbox" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$work/originals.before"

# 1. kill -9 at random points of --jobs 3 runs, three times; after each kill, snapshot the finished records.
for i in 1 2 3; do
  # exec: $! is pocket itself, not a subshell (killing a subshell would leave pocket running).
  ( exec "$pocket" triage "$inbox" --out "$rep" --labels "$labels" -m "$model" --mmproj "$mmproj" \
      --max-doc-tokens 256 -t 2 --jobs 3 --no-progress 2> "$work/kill$i.log" ) &
  pid=$!
  delay=$(( (RANDOM % 12) + 3 ))
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  n=$(ls "$rep/records" 2>/dev/null | grep -c '\.json$' || true)
  echo "run $i killed after ${delay}s: $n records"
  $py "$here/check_records.py" snapshot "$rep" "$work/snap$i.json"
done
# 2. the rerun that finishes (--jobs 3), then a --jobs 1 run from scratch: the same records.
run "$inbox" --out "$rep" --jobs 3 2> "$work/final.log"
tail -n 1 "$work/final.log"
for i in 1 2 3; do $py "$here/check_records.py" unchanged "$rep" "$work/snap$i.json"; done
$py "$here/check_records.py" report "$rep" "$inbox" "$labels"
test -s "$rep/report.html"
test -s "$rep/triage.csv"
run "$inbox" --out "$work/rep-jobs1" --jobs 1 2> "$work/jobs1.log"
tail -n 1 "$work/jobs1.log"
$py "$here/check_records.py" identical "$rep" "$work/rep-jobs1"

# 3. originals untouched, then apply --copy files every labelled record by label.
"$pocket" triage apply "$rep" --to "$work/sorted" --copy 2> "$work/apply.log"
tail -n 1 "$work/apply.log"
$py "$here/check_records.py" applied "$rep" "$work/sorted"
(cd "$inbox" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$work/originals.after"
cmp "$work/originals.before" "$work/originals.after"
echo "originals unchanged ($(wc -l < "$work/originals.after") files)"

# 4. a small inbox: a changed file is redone, the others are not; shards + merge equal one run.
mini="$work/mini"; mkdir -p "$mini/sub"
for f in mail-ham-1.eml sotu-1790.md moby-dick-chapter-001.txt invoice-2024-0117.docx saved-message.txt lettre-latin1.txt; do
  cp "$inbox/$f" "$mini/" 2>/dev/null || true
done
echo "A short note about an unpaid bill of 30 EUR." > "$mini/sub/note.txt"
run "$mini" --out "$work/mini-rep" 2> "$work/mini1.log"
echo "Changed: the bill of 45 EUR was paid." > "$mini/sub/note.txt"
run "$mini" --out "$work/mini-rep" 2> "$work/mini2.log"
tail -n 1 "$work/mini2.log"
n_mini=$(find "$mini" -type f | wc -l)
grep -q "triage: $n_mini files ($((n_mini - 1)) from an earlier run" "$work/mini2.log"
$py "$here/check_records.py" report "$work/mini-rep" "$mini" "$labels"
find "$mini" -type f -printf '%P\n' | $py -c 'import json,sys; [print(json.dumps({"path": l.strip()})) for l in sys.stdin]' > "$work/list.jsonl"
run "$mini" --from-list "$work/list.jsonl" --shard 0/2 --out "$work/shard0" 2> "$work/shard0.log"
run "$mini" --from-list "$work/list.jsonl" --shard 1/2 --out "$work/shard1" 2> "$work/shard1.log"
"$pocket" triage merge "$work/merged" "$work/shard0" "$work/shard1" 2> "$work/merge.log"
tail -n 1 "$work/merge.log"
$py "$here/check_records.py" same "$work/mini-rep" "$work/merged"
echo "pipeline e2e: ok"
