#!/usr/bin/env bash
# Builds Deep Model Server's container image with podman, on a machine where no Docker daemon runs
# and no image registry is reachable (CI's kind), from Debian's packages and PyPI's wheels alone.
#
#   scripts/build-image.sh [--tag IMAGE] [--stage-only]
#
#   --tag IMAGE    the image's name (default: localhost/deep-model-server:latest, or $DMS_IMAGE)
#   --stage-only   only build the binary and stage the build context in build/container/, for
#                  `docker build -t deep-model-server build/container` on a machine with Docker
#
# Steps, each skipped when its result is already there (a second run takes seconds):
#   1. The release binaries (scripts/build.sh release, which runs scripts/bootstrap.sh), with the
#      Swift runtime linked in (--static-swift-stdlib), so the image needs no Swift toolchain.
#   2. Stages build/container/: container/Containerfile, the stripped binary and the entry point,
#      libonnxruntime.so from the pinned onnxruntime wheel, the pinned mxnet and numpy wheels
#      (downloaded once into .runtime/wheels/), the Python service runtime (python/dms,
#      python/mms) and the example models (examples/*.model).
#   3. apt: podman, runc and debootstrap when missing. Podman runs with container/containers.conf
#      (through $CONTAINERS_CONF): runc as the runtime and ulimits the host allows.
#   4. The base image localhost/dms-debian-base:bookworm: `debootstrap --variant=minbase bookworm`
#      from the machine's Debian mirror, then `podman import` (about 90 s, once).
#   5. `podman build` (docker format, which keeps the HEALTHCHECK) and prints the image's size.
#
# Runs as root (apt, debootstrap and rootful podman); needs Debian's mirror and PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONTEXT="$ROOT/build/container"
WHEELS="$ROOT/.runtime/wheels"
BASE_IMAGE="localhost/dms-debian-base:bookworm"
TAG="${DMS_IMAGE:-localhost/deep-model-server:latest}"
STAGE_ONLY=false
export CONTAINERS_CONF="${CONTAINERS_CONF:-$ROOT/container/containers.conf}"

log() { printf 'build-image: %s\n' "$*"; }
die() {
    printf 'build-image: ERROR: %s\n' "$*" >&2
    exit 1
}
trap 'die "command failed (exit $?) at scripts/build-image.sh line $LINENO: $BASH_COMMAND"' ERR

while (($#)); do
    case "$1" in
        --tag) (($# >= 2)) || die "--tag needs an image name"; TAG="$2"; shift 2 ;;
        --stage-only) STAGE_ONLY=true; shift ;;
        *) printf 'build-image: ERROR: unknown argument %s (usage: scripts/build-image.sh [--tag IMAGE] [--stage-only])\n' "$1" >&2; exit 2 ;;
    esac
done
START_SECONDS=$SECONDS
cd "$ROOT"

# ---------------------------------------------------------------------------------------------
# 1. The release binary
# ---------------------------------------------------------------------------------------------
"$ROOT/scripts/build.sh" release
BINARY="$(swift build -c release --show-bin-path)/deep-model-server"

# ---------------------------------------------------------------------------------------------
# 2. The build context
# ---------------------------------------------------------------------------------------------
pinned() { # pinned PACKAGE: its version in python/constraints.txt
    sed -n "s/^$1==\\(.*\\)\$/\\1/p" "$ROOT/python/constraints.txt" | grep . ||
        die "python/constraints.txt pins no version of $1"
}
mkdir -p "$WHEELS"
for package in mxnet numpy; do
    version="$(pinned "$package")"
    if compgen -G "$WHEELS/$package-$version-*.whl" >/dev/null; then
        log "wheels: $package $version already in .runtime/wheels"
    else
        log "wheels: downloading $package $version"
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$ROOT/.runtime/venv/bin/python" -m pip download --quiet --no-input \
            --progress-bar off --only-binary=:all: --no-deps --dest "$WHEELS" "$package==$version" </dev/null
    fi
done

rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"/{bin,lib,wheels,python,models}
cp "$ROOT/container/Containerfile" "$CONTEXT/Containerfile"
cp "$BINARY" "$CONTEXT/bin/deep-model-server"
strip "$CONTEXT/bin/deep-model-server"
cp "$ROOT/container/dms-container-entrypoint" "$CONTEXT/bin/"
cp "$(realpath "$ROOT/.runtime/lib/libonnxruntime.so")" "$CONTEXT/lib/libonnxruntime.so"
for package in mxnet numpy; do
    cp "$WHEELS/$package-$(pinned "$package")"-*.whl "$CONTEXT/wheels/"
done
tar -C "$ROOT/python" --exclude=__pycache__ --exclude='*.pyc' -c dms mms | tar -C "$CONTEXT/python" -x
cp "$ROOT"/examples/*.model "$CONTEXT/models/"
log "staged $CONTEXT ($(du -sh "$CONTEXT" | cut -f1))"

if $STAGE_ONLY; then
    log "done in $((SECONDS - START_SECONDS)) s; with Docker: docker build -t deep-model-server $CONTEXT"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# 3. Podman
# ---------------------------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "run as root: debootstrap and this podman setup (rootful, runc) need it"
missing=()
for pkg in podman runc debootstrap; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
else
    log "apt: podman, runc and debootstrap present"
fi

# ---------------------------------------------------------------------------------------------
# 4. The base image
# ---------------------------------------------------------------------------------------------
debian_mirror() { # the machine's Debian mirror (deb822 or one-line sources), or deb.debian.org
    local uri
    uri="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
    [[ -n "$uri" ]] || uri="$(sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]]\{1,\}bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)"
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
if podman image exists "$BASE_IMAGE"; then
    log "base: $BASE_IMAGE exists"
else
    mirror="${DMS_DEBIAN_MIRROR:-$(debian_mirror)}"
    rootfs="$(mktemp -d /tmp/dms-rootfs.XXXXXX)"
    trap 'rm -rf "$rootfs"' EXIT
    log "base: debootstrap --variant=minbase bookworm from $mirror (about 90 s)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
        die "debootstrap failed; its log: $(tail -5 "$rootfs.log")"
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
    tar -C "$rootfs" --numeric-owner -c . |
        podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
    log "base: imported $BASE_IMAGE"
fi

# ---------------------------------------------------------------------------------------------
# 5. The image
# ---------------------------------------------------------------------------------------------
log "podman build -t $TAG"
podman build --quiet --format docker --isolation chroot --layers \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$TAG" "$CONTEXT" >/dev/null
size="$(podman image inspect --format '{{.Size}}' "$TAG")"
log "built $TAG: $((size / 1000000)) MB ($(podman image inspect --format '{{.Id}}' "$TAG" | cut -c1-12)) in $((SECONDS - START_SECONDS)) s"
log "run it: CONTAINERS_CONF=$CONTAINERS_CONF podman run --rm -p 127.0.0.1:8080:8080 $TAG"
