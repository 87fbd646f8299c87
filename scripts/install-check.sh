#!/usr/bin/env bash
# The command as a user installs it: `cargo install --path .` into a private root, then
# `landwatch --version`, the enforcement job and an index from outside the repository with
# XDG_RUNTIME_DIR unset (nothing may reach stderr: no driver noise), and the demo from the
# data compiled into the command. Then `cargo package`, which builds the packaged crate.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# The release artifacts of `cargo build --release` are reused (same profile and features).
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target} cargo install --quiet --path . --root "$root/install"
bin=$root/install/bin/landwatch
data=$PWD/data
fail() { echo "install-check: $*" >&2; exit 1; }

"$bin" --version | grep -qx "landwatch $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)" \
  || fail "--version does not print the crate's version"
mkdir -p "$root/elsewhere"
cd "$root/elsewhere"
env -u XDG_RUNTIME_DIR "$bin" enforce --before="$data/landsat_taizhou/Taizhou_t1.tif" \
  --after="$data/landsat_taizhou/Taizhou_t2.tif" --sensor=landsat-dn --out=job \
  >job.stdout 2>job.stderr || fail "enforce failed: $(cat job.stderr)"
[[ ! -s job.stderr ]] || fail "enforce wrote to stderr: $(cat job.stderr)"
grep -q '^[0-9]* patches, ' job.stdout || fail "enforce printed no patch count"
[[ -s job/summary.json ]] || fail "enforce wrote no summary.json"
env -u XDG_RUNTIME_DIR "$bin" index --input="$data/landsat_taizhou/Taizhou_t1.tif" \
  --sensor=landsat-dn --name=NDVI --out=ndvi.tif >index.stdout 2>index.stderr \
  || fail "index failed: $(cat index.stderr)"
[[ ! -s index.stderr ]] || fail "index wrote to stderr: $(cat index.stderr)"
[[ -s ndvi.tif ]] || fail "index wrote no ndvi.tif"
# No data folder here: the demo runs from the copy compiled into the command.
env -u XDG_RUNTIME_DIR LANDWATCH_DATA="$root/none" "$bin" -q enforce >demo.stdout 2>demo.stderr \
  || fail "the demo failed: $(cat demo.stderr)"
[[ ! -s demo.stdout && ! -s demo.stderr ]] || fail "-q printed: $(cat demo.stdout demo.stderr)"
[[ -s out/enforce/summary.json ]] || fail "the demo wrote no out/enforce/summary.json"
"$bin" index --input >/dev/null 2>&1 && fail "a missing value was accepted"
[[ $? == 2 ]] || fail "a missing value did not exit 2"
cd - >/dev/null
echo "install-check: cargo install, --version, enforce, index and the demo from an installed command: ok"
cargo package --quiet --allow-dirty
echo "install-check: cargo package: ok"
