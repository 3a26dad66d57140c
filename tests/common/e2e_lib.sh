# Shell helpers for the end-to-end test scripts; source it (`. "$root/tests/common/e2e_lib.sh"`).

# expect_error NEEDLE COMMAND...: bad input must give exit status 1 (no crash) and exactly one line on
# stderr containing NEEDLE; otherwise prints what came and exits 1. Uses $work for the captured stderr.
expect_error() {
  local want="$1"
  shift
  set +e
  "$@" >/dev/null 2>"$work/err.txt"
  local rc=$?
  set -e
  if [ "$rc" -ne 1 ] || ! grep -q -- "$want" "$work/err.txt" || [ "$(wc -l <"$work/err.txt")" -ne 1 ]; then
    echo "expected exit 1 and one line containing '$want' from: $*"
    echo "got exit $rc:"
    cat "$work/err.txt"
    exit 1
  fi
  echo "error ok: $(cat "$work/err.txt")"
}
