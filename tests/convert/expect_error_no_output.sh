# Shared by the convert/quantize/imatrix bad-input scripts; source it after setting $work and fails=0.
# expect NAME EXPECTED_SUBSTRING COMMAND...: the command must exit 1 with exactly one stderr line
# "pocket: error: ..." containing EXPECTED_SUBSTRING, write no $work/NAME.gguf and leave no .partial file.
expect() {
  local name="$1" want="$2"; shift 2
  local out="$work/$name.gguf" status=0
  "$@" 2>"$work/$name.err" >/dev/null || status=$?
  local lines; lines=$(wc -l <"$work/$name.err")
  if [ "$status" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$work/$name.err" ||
     ! grep -q '^pocket: error: ' "$work/$name.err" || ls "$work" | grep -q '\.partial$' || [ -e "$out" ]; then
    echo "FAIL $name (exit $status, $lines line(s)):"; cat "$work/$name.err"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cat "$work/$name.err")"
  fi
}
