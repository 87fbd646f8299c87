#!/usr/bin/env bash
# Builds, in release, every binary scripts/bench-gpu.sh runs (the GPU test binaries, the GPU
# benches and the adapters, enforce and mirror_tile examples), so that a machine without a
# Rust toolchain or network can run the GPU checks from prebuilt binaries.
#
#   scripts/build-gpu-bundle.sh [DEST]          (default .gpubin)
#     strips the binaries and packs them into DEST/bins.tar.xz (they share most of their
#     code, so xz packs ~120 MiB into ~10 MiB), with DEST/manifest.tsv (kind, name, file in
#     the archive, stripped bytes) and DEST/BUILD (commit, date, glibc needed). Fails if DEST
#     passes 60 MiB. Carry DEST (and .gl/, see bench-gpu.sh) with the tree and run
#     `scripts/bench-gpu.sh OUT_DIR` there; it unpacks the archive by itself.
#     DEST is not tracked: add `/.gpubin/` to .git/info/exclude (or .gitignore).
#
#   scripts/build-gpu-bundle.sh DEST --no-pack
#     builds and writes DEST/manifest.tsv pointing at the executables in the target folder
#     (what bench-gpu.sh does when cargo is there).
#
# The binaries link glibc dynamically: they need a glibc at least as new as this machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-.gpubin}"
pack=1
[ "${2:-}" = "--no-pack" ] && pack=0

tests=(parity reference_indices change_detection patch_gpu_label patch_gpu_morphology
  formula_reference formula_catalogue formula_change formula_semantics bad_input device_profile
  backend_choice)
benches=(kernels change patches_gpu gpu_resident)
examples=(adapters enforce mirror_tile)

# "kind name executable" for each compiler artifact of the wanted kind in cargo's JSON.
executables() {
  python3 -c '
import json, sys
kind = sys.argv[1]
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and kind in m["target"]["kind"]:
        if kind == "example" and m["profile"]["test"]:
            continue  # the unit-test build of an example, not the example
        print(kind, m["target"]["name"], m["executable"])
' "$1"
}

list=$(mktemp)
trap 'rm -f "$list"' EXIT
echo "building ${#tests[@]} test binaries, ${#benches[@]} benches, ${#examples[@]} examples (release)" >&2
cargo test --release --no-run --message-format=json "${tests[@]/#/--test=}" \
  | executables test >> "$list"
cargo bench --no-run --message-format=json "${benches[@]/#/--bench=}" \
  | executables bench >> "$list"
cargo build --release --message-format=json "${examples[@]/#/--example=}" \
  | executables example >> "$list"
want=$(( ${#tests[@]} + ${#benches[@]} + ${#examples[@]} ))
got=$(wc -l < "$list")
if [ "$got" -ne "$want" ]; then
  echo "expected $want executables, cargo reported $got:" >&2
  cat "$list" >&2
  exit 1
fi

mkdir -p "$dest"
if [ "$pack" -eq 0 ]; then
  while read -r kind name exe; do printf '%s\t%s\t%s\t%s\n' "$kind" "$name" "$exe" "$(stat -c %s "$exe")"; done \
    < "$list" > "$dest/manifest.tsv"
  echo "manifest of $got executables: $dest/manifest.tsv" >&2
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage" "$list"' EXIT
: > "$stage/manifest.tsv"
while read -r kind name exe; do
  case "$kind" in bench) dir=benches ;; *) dir=${kind}s ;; esac
  mkdir -p "$stage/$dir"
  strip -o "$stage/$dir/$name" "$exe"
  printf '%s\t%s\t%s\t%s\n' "$kind" "$name" "$dir/$name" "$(stat -c %s "$stage/$dir/$name")" \
    >> "$stage/manifest.tsv"
done < "$list"
glibc=$(for f in "$stage"/*/*; do objdump -T "$f"; done | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
raw=$(du -cb "$stage"/*/* | tail -1 | cut -f1)
echo "packing $got stripped executables ($(( raw >> 20 )) MiB) with xz -9e (about a minute)" >&2
rm -rf "$dest"
mkdir -p "$dest"
tar -C "$stage" -cf - tests benches examples | xz -9e -T1 > "$dest/bins.tar.xz"
cp "$stage/manifest.tsv" "$dest/manifest.tsv"
{
  echo "commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- . || echo ' (with uncommitted changes)')"
  echo "built: $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -m), rustc $(rustc --version | cut -d' ' -f2)"
  echo "needs: $glibc or newer"
  echo "unpacked: $raw bytes"
} > "$dest/BUILD"
size=$(du -sb "$dest" | cut -f1)
cat "$dest/BUILD" >&2
echo "bundle: $dest, $size bytes ($(( size >> 20 )) MiB)" >&2
if [ "$size" -gt $(( 60 << 20 )) ]; then
  echo "the bundle passes 60 MiB" >&2
  exit 1
fi
