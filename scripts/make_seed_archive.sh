#!/usr/bin/env bash
# Builds a model archive with the seed-era tool, `mxnet-model-export` from mxnet-model-server 0.1.5,
# the way a seed user made one, for the compatibility tests.
#
#   make_seed_archive.sh VENV MODEL_DIR NAME OUTPUT
#
#   VENV       virtual environment for the tool (created if missing; reused, and pip skipped, while its
#              stamp matches requirements-seed.txt and the interpreter). Keep it out of git, e.g. under
#              .runtime/.
#   MODEL_DIR  folder with signature.json, one *-symbol.json, one *.params (synset.txt optional). It is
#              not modified: the tool writes MANIFEST.json into the folder it packs, so it packs a copy.
#   NAME       model name: the archive is NAME.model.
#   OUTPUT     a folder (created if missing) to copy NAME.model into, or a file path ending in .model.
#              An existing file there is replaced.
#
# Prints the archive's path on standard output (progress goes to standard error).
#
# Environment:
#   SEED_PYTHON        interpreter that creates the venv (default python3; CPython 3.8-3.11: the tool
#                      imports `imp` and mxnet 1.9.1 uses distutils, both gone in 3.12).
#   SEED_REQUIREMENTS  pins file (default: python/requirements-seed.txt).
set -euo pipefail

log() { printf 'make_seed_archive: %s\n' "$*" >&2; }
die() {
    printf 'make_seed_archive: ERROR: %s\n' "$*" >&2
    exit 1
}

(($# == 4)) || die "usage: $0 VENV MODEL_DIR NAME OUTPUT"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$(realpath -m "$1")"
MODEL_DIR="$2"
NAME="$3"
OUTPUT="$4"
PYTHON="${SEED_PYTHON:-python3}"
REQUIREMENTS="$(realpath "${SEED_REQUIREMENTS:-$HERE/../python/requirements-seed.txt}")"
STAMP="$VENV/.seed-requirements.sha256"

[[ -f "$REQUIREMENTS" ]] || die "missing $REQUIREMENTS"
[[ -d "$MODEL_DIR" ]] || die "model folder $MODEL_DIR does not exist"
[[ -n "$NAME" && "$NAME" != *[/\\]* && "$NAME" != . && "$NAME" != .. ]] || die "bad model name '$NAME'"
MODEL_DIR="$(realpath "$MODEL_DIR")"
if [[ "$OUTPUT" == *.model ]]; then
    TARGET="$(realpath -m "$OUTPUT")"
else
    TARGET="$(realpath -m "$OUTPUT")/$NAME.model"
fi

# ---------------------------------------------------------------------------------------------
# 1. The venv (serialised: pytest workers or a developer's shell may run this at the same time)
# ---------------------------------------------------------------------------------------------
mkdir -p "$(dirname "$VENV")"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV.lock"
    flock 9
fi

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    if [[ -e "$VENV" ]]; then
        # Only ever delete a folder that is a (broken) venv, never some other folder given by mistake.
        [[ -f "$VENV/pyvenv.cfg" ]] || die "$VENV exists and is not a virtual environment"
        log "venv: $VENV is broken; recreating it"
        rm -rf "$VENV"
    fi
    "$PYTHON" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 11) else 1)' ||
        die "$PYTHON is not CPython 3.8-3.11 (mxnet-model-server 0.1.5 imports 'imp'; mxnet 1.9.1 needs numpy 1.23); set SEED_PYTHON"
    log "venv: creating $VENV"
    "$PYTHON" -m venv "$VENV" </dev/null
fi

wanted_stamp="$(
    sha256sum <"$REQUIREMENTS"
    "$VENV/bin/python" -c 'import sys; print("interpreter", sys.implementation.name, *sys.version_info[:3])'
)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$wanted_stamp" && -x "$VENV/bin/mxnet-model-export" ]]; then
    log "pip: pins unchanged (stamp matches), skipping"
else
    log "pip: installing $(basename "$REQUIREMENTS") into $VENV"
    rm -f "$STAMP"
    # --no-deps: the file is the complete closure; `pip check` then proves nothing is missing.
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install \
        --quiet --no-input --progress-bar off --only-binary=:all: --no-deps \
        -r "$REQUIREMENTS" </dev/null ||
        die "pip install failed (network to PyPI and CPython 3.8-3.11 are needed)"
    "$VENV/bin/python" -m pip check >&2 || die "pip check reports inconsistent packages in $VENV"
    [[ -x "$VENV/bin/mxnet-model-export" ]] || die "mxnet-model-export was not installed into $VENV"
    printf '%s\n' "$wanted_stamp" >"$STAMP"
fi

# ---------------------------------------------------------------------------------------------
# 2. The export, in a temporary folder
# ---------------------------------------------------------------------------------------------
# The tool packs MODEL_PATH/* (top level only), writes MANIFEST.json into MODEL_PATH, and writes
# NAME.model into the current folder, refusing an existing one: so both live in a fresh folder.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/seed-archive.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/out"
cp -R "$MODEL_DIR" "$WORK/model"
rm -f "$WORK/model/MANIFEST.json" # the tool writes its own; never pack a stale one

log "export: mxnet-model-export --model-name $NAME --model-path $MODEL_DIR (a copy)"
(cd "$WORK/out" && "$VENV/bin/mxnet-model-export" --model-name "$NAME" --model-path "$WORK/model" </dev/null >&2) ||
    die "mxnet-model-export failed for $MODEL_DIR"
[[ -f "$WORK/out/$NAME.model" ]] || die "mxnet-model-export wrote no $NAME.model"

mkdir -p "$(dirname "$TARGET")"
cp "$WORK/out/$NAME.model" "$TARGET.tmp.$$"
mv -f "$TARGET.tmp.$$" "$TARGET"
log "wrote $TARGET"
printf '%s\n' "$TARGET"
