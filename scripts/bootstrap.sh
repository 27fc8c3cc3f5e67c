#!/usr/bin/env bash
# Prepares a checkout of Deep Model Server for building, testing and running, on Debian 12 (or CI).
#
#   scripts/bootstrap.sh [--with-browser] [--with-clients]
#
# --with-browser also installs Debian's chromium and chromium-driver, which the playground's
# end-to-end tests drive (scripts/test.sh passes it; serving does not need a browser).
# --with-clients also makes .runtime/clients-venv with the Open Inference Protocol's Python
# clients (tritonclient's gRPC client, KServe's SDK) from python/clients-requirements.txt under
# python/clients-constraints.txt, for the end-to-end tests (scripts/test.sh passes it).
#
# What it does, each step only when needed (a second run finishes in well under a second):
#   1. apt: installs the system packages the build and the engines need (libjpeg-turbo, libpng and
#      zlib headers, pkg-config, curl, libgomp1 for libmxnet, python3-venv when `python3 -m venv` cannot
#      work, a Java runtime for --gen-api's openapi-generator when there is no java). `apt-get update` runs only when something is missing.
#   2. .runtime/venv: a Python virtual environment with python/requirements.txt installed under the
#      exact pins of python/constraints.txt. A stamp records the sha256 of both files (and the
#      interpreter); pip runs again only when they change.
#   3. .runtime/lib/libmxnet.so and .runtime/lib/libonnxruntime.so: symlinks to the engine
#      libraries inside the venv's mxnet and onnxruntime wheels, the libraries the server dlopens
#      (DMS_MXNET_LIBRARY and DMS_ONNXRUNTIME_LIBRARY may point elsewhere).
#
# Environment:
#   DMS_PYTHON  interpreter used to create the venv (default: python3; must be CPython 3.11:
#               numpy 1.23, the last numpy that mxnet 1.9.1 works with, stops at 3.11, and
#               onnxruntime 1.32 starts there).
#
# Runs as root (or with passwordless sudo for the apt step), needs no standard input.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNTIME="$ROOT/.runtime"
VENV="$RUNTIME/venv"
REQUIREMENTS="$ROOT/python/requirements.txt"
CONSTRAINTS="$ROOT/python/constraints.txt"
STAMP="$VENV/.dms-requirements.sha256"
PYTHON="${DMS_PYTHON:-python3}"
APT_PACKAGES=(libturbojpeg0-dev libpng-dev zlib1g-dev pkg-config curl libgomp1)
WITH_CLIENTS=false
for argument in "$@"; do
    case "$argument" in
        --with-browser) APT_PACKAGES+=(chromium chromium-driver fonts-liberation) ;;
        --with-clients) WITH_CLIENTS=true ;;
        *) printf 'bootstrap: ERROR: unknown argument %s (usage: scripts/bootstrap.sh [--with-browser] [--with-clients])\n' "$argument" >&2; exit 2 ;;
    esac
done

log() { printf 'bootstrap: %s\n' "$*"; }
die() {
    printf 'bootstrap: ERROR: %s\n' "$*" >&2
    exit 1
}
trap 'die "command failed (exit $?) at scripts/bootstrap.sh line $LINENO: $BASH_COMMAND"' ERR

START_SECONDS=$SECONDS

[[ -f "$REQUIREMENTS" ]] || die "missing $REQUIREMENTS"
[[ -f "$CONSTRAINTS" ]] || die "missing $CONSTRAINTS"
mkdir -p "$RUNTIME/lib"

# Serialise concurrent runs (a developer's shell and a test runner, say).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$RUNTIME/.bootstrap.lock"
    flock 9
fi

# ---------------------------------------------------------------------------------------------
# 1. System packages
# ---------------------------------------------------------------------------------------------
is_installed() {
    # Not `dpkg -s | grep -q`: grep's early exit can fail dpkg with SIGPIPE under pipefail. One
    # line per installed architecture; "ii" is installed.
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}\n' "$1" 2>/dev/null)" == ii* ]]
}

python_can_venv() {
    command -v "$PYTHON" >/dev/null 2>&1 &&
        "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1
}

missing=()
if command -v dpkg >/dev/null 2>&1; then
    for pkg in "${APT_PACKAGES[@]}"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    # Java runs openapi-generator for --gen-api (any JRE 11+; the machine's Java is used when present).
    if ! command -v java >/dev/null 2>&1; then
        is_installed openjdk-17-jre-headless || missing+=(openjdk-17-jre-headless)
    fi
    if ! python_can_venv; then
        if [[ -n "${DMS_PYTHON:-}" ]]; then
            die "DMS_PYTHON=$PYTHON cannot create a venv (missing, or no venv/ensurepip module)"
        fi
        # Debian's python3 needs python3-venv for ensurepip; a machine without python3 needs both.
        is_installed python3 || missing+=(python3)
        missing+=(python3-venv)
    fi
else
    log "dpkg not found: skipping system packages (install libturbojpeg, libpng, zlib, pkg-config, curl, libgomp yourself)"
fi

if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install ${missing[*]}"
        SUDO=(sudo -n)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq </dev/null ||
        die "apt-get update failed"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null ||
        die "apt-get install ${missing[*]} failed"
    for pkg in "${missing[@]}"; do
        is_installed "$pkg" || die "apt package $pkg is still not installed"
    done
else
    log "apt: all system packages present"
fi

python_can_venv || die "$PYTHON cannot create virtual environments even after installing python3-venv"

# ---------------------------------------------------------------------------------------------
# 2. Python virtual environment
# ---------------------------------------------------------------------------------------------
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' ||
    die "$PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); CPython 3.11 is needed: mxnet 1.9.1 needs numpy 1.23 (which stops at 3.11) and onnxruntime 1.32 starts at 3.11 (set DMS_PYTHON)"

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    if [[ -e "$VENV" ]]; then
        log "venv: $VENV is broken (its interpreter does not run); recreating it"
        rm -rf "$VENV"
    fi
    log "venv: creating $VENV with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    "$PYTHON" -m venv "$VENV" </dev/null || die "could not create the virtual environment $VENV"
fi

# pip_install VENV REQUIREMENTS CONSTRAINTS: installs the requirements at the constraints' exact
# pins (wheels only) into VENV, then checks that they hold together.
pip_install() {
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$1/bin/python" -m pip install \
        --quiet --no-input --progress-bar off --only-binary=:all: \
        -r "$2" -c "$3" </dev/null ||
        die "pip install -r $2 failed (see the messages above); network to PyPI and CPython 3.11 are needed"
    "$1/bin/python" -m pip check >/dev/null ||
        die "pip check reports inconsistent packages in $1: $("$1/bin/python" -m pip check 2>&1 | head -5)"
}

venv_tag="$("$VENV/bin/python" -c 'import sys; print(sys.implementation.name, *sys.version_info[:3])')"
wanted_stamp="$(
    cd "$ROOT"
    sha256sum python/requirements.txt python/constraints.txt
    echo "interpreter $venv_tag"
)"

# Where a wheel put an engine library: engine_lib PACKAGE GLOB prints the first file in the
# package folder matching GLOB (find_spec locates the package without importing it).
engine_lib() {
    "$VENV/bin/python" - "$1" "$2" <<'PY'
import glob, importlib.util, os, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
matches = sorted(glob.glob(os.path.join(list(spec.submodule_search_locations)[0], sys.argv[2])))
if not matches:
    sys.exit(1)
print(matches[0])
PY
}
mxnet_lib() { engine_lib mxnet libmxnet.so; }
onnxruntime_lib() { engine_lib onnxruntime 'capi/libonnxruntime.so.*'; }

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$wanted_stamp" ]] && mxnet_lib >/dev/null && onnxruntime_lib >/dev/null; then
    log "pip: requirements unchanged (stamp matches), skipping"
else
    log "pip: installing python/requirements.txt with python/constraints.txt (takes a few minutes the first time)"
    rm -f "$STAMP"
    pip_install "$VENV" "$REQUIREMENTS" "$CONSTRAINTS"
    version="$(cd "$RUNTIME" && "$VENV/bin/python" -c 'import mxnet, numpy; print("mxnet", mxnet.__version__, "numpy", numpy.__version__)' 2>&1 | tail -1)" ||
        die "the venv cannot import mxnet: $version"
    log "pip: done ($version)"
    printf '%s\n' "$wanted_stamp" >"$STAMP"
fi

# ---------------------------------------------------------------------------------------------
# 2b. .runtime/clients-venv: the protocol clients of the end-to-end tests (--with-clients)
# ---------------------------------------------------------------------------------------------
if $WITH_CLIENTS; then
    CLIENTS_VENV="$RUNTIME/clients-venv"
    CLIENTS_STAMP="$CLIENTS_VENV/.dms-requirements.sha256"
    if ! "$CLIENTS_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        rm -rf "$CLIENTS_VENV"
        log "clients venv: creating $CLIENTS_VENV"
        "$PYTHON" -m venv "$CLIENTS_VENV" </dev/null || die "could not create the virtual environment $CLIENTS_VENV"
    fi
    wanted_clients_stamp="$(
        cd "$ROOT"
        sha256sum python/clients-requirements.txt python/clients-constraints.txt
        echo "interpreter $("$CLIENTS_VENV/bin/python" -c 'import sys; print(sys.implementation.name, *sys.version_info[:3])')"
    )"
    if [[ -f "$CLIENTS_STAMP" && "$(cat "$CLIENTS_STAMP")" == "$wanted_clients_stamp" ]]; then
        log "clients venv: requirements unchanged (stamp matches), skipping"
    else
        log "clients venv: installing python/clients-requirements.txt with python/clients-constraints.txt"
        rm -f "$CLIENTS_STAMP"
        pip_install "$CLIENTS_VENV" "$ROOT/python/clients-requirements.txt" "$ROOT/python/clients-constraints.txt"
        printf '%s\n' "$wanted_clients_stamp" >"$CLIENTS_STAMP"
        log "clients venv: done"
    fi
fi

# ---------------------------------------------------------------------------------------------
# 3. .runtime/lib: links to the engine libraries inside the wheels
# ---------------------------------------------------------------------------------------------
link_engine() { # link_engine NAME LIBRARY
    local name="$1" lib="$2" target link
    [[ -f "$lib" ]] || die "the wheel has no $lib"
    # A relative link keeps working if the checkout is moved together with .runtime.
    target="$(realpath --relative-to="$RUNTIME/lib" "$lib")"
    link="$RUNTIME/lib/$name"
    if [[ -L "$link" && "$(readlink "$link")" == "$target" ]]; then
        log "lib: .runtime/lib/$name already links to the wheel's library"
    else
        ln -sfn "$target" "$link"
        log "lib: .runtime/lib/$name -> $target"
    fi
    [[ -f "$link" ]] || die "$link does not resolve to a file"
}
link_engine libmxnet.so "$(mxnet_lib)" || die "mxnet is not installed in $VENV"
link_engine libonnxruntime.so "$(onnxruntime_lib)" || die "onnxruntime is not installed in $VENV"

log "ready in $((SECONDS - START_SECONDS)) s: python $VENV/bin/python, engines in $RUNTIME/lib"
