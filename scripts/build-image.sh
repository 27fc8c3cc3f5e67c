#!/usr/bin/env bash
# Builds Deep Model Server's container image with podman, on a machine where no Docker daemon runs
# and no image registry is reachable (CI's kind), from Debian's packages and PyPI's wheels alone.
#
#   scripts/build-image.sh [--tag IMAGE] [--stage-only] [--no-cache]
#
#   --tag IMAGE    the image's name (default: localhost/deep-model-server:latest, or $DMS_IMAGE)
#   --stage-only   only build the binary and stage the build context in build/container/, for
#                  `docker build -t deep-model-server build/container` on a machine with Docker
#   --no-cache     rebuild every layer of the image (podman caches them), which also fetches
#                  Debian's latest updates
#
# Steps, each skipped when its result is already there (a second run takes seconds):
#   1. The release binaries (scripts/build.sh release, which runs scripts/bootstrap.sh), with the
#      Swift runtime linked in (--static-swift-stdlib), so the image needs no Swift toolchain.
#   2. Stages build/container/: container/Containerfile (also as Dockerfile), the stripped binary
#      and the entry point, libonnxruntime.so from the pinned onnxruntime wheel with its licence
#      and notices, the pinned mxnet, numpy and pillow wheels (downloaded once into
#      .runtime/wheels/), the Python service runtime (python/dms, python/mms) and the example
#      models (examples/*.model and the ONNX digits folder).
#   3. apt: podman, runc and debootstrap when their commands are missing (never removing a
#      package: Docker's containerd.io conflicts with Debian's runc). Podman runs with
#      container/containers.conf (through $CONTAINERS_CONF): runc, ulimits the host allows.
#   4. The base image localhost/dms-debian-base:bookworm: `debootstrap --variant=minbase bookworm`
#      from the machine's Debian mirror, with the updates and security suites in its sources and
#      the host's hostname and resolver left out, then `podman import` (about 70 s, once).
#   5. `podman build` (docker format, which keeps the HEALTHCHECK), prints the image's size and
#      removes the image the tag named before.
#
# Runs as root (apt, debootstrap and rootful podman; --stage-only does not need it); needs
# Debian's mirrors and PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONTEXT="$ROOT/build/container"
WHEELS="$ROOT/.runtime/wheels"
BASE_IMAGE="localhost/dms-debian-base:bookworm"
TAG="${DMS_IMAGE:-localhost/deep-model-server:latest}"
STAGE_ONLY=false
NO_CACHE=()
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
        --no-cache) NO_CACHE=(--no-cache); shift ;;
        *) printf 'build-image: ERROR: unknown argument %s (usage: scripts/build-image.sh [--tag IMAGE] [--stage-only] [--no-cache])\n' "$1" >&2; exit 2 ;;
    esac
done
START_SECONDS=$SECONDS
cd "$ROOT"
$STAGE_ONLY || [[ $(id -u) -eq 0 ]] || die "run as root: apt, debootstrap and this podman setup (rootful, runc) need it (--stage-only does not)"
mkdir -p "$ROOT/build"
# One build at a time: a second would remove the context the first is building from.
exec 9>"$ROOT/build/.build-image.lock"
flock 9

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
for package in mxnet numpy pillow; do
    version="$(pinned "$package")"
    if compgen -G "$WHEELS/$package-$version-*.whl" >/dev/null; then
        log "wheels: $package $version already in .runtime/wheels"
    else
        log "wheels: downloading $package $version"
        # For the image's interpreter (Debian 12's CPython 3.11, glibc 2.36), whatever runs this
        # script.
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$ROOT/.runtime/venv/bin/python" -m pip download --quiet --no-input \
            --progress-bar off --only-binary=:all: --no-deps --python-version 3.11 --implementation cp --abi cp311 \
            --platform "manylinux2014_$(uname -m)" --platform "manylinux_2_28_$(uname -m)" --dest "$WHEELS" "$package==$version" </dev/null
    fi
done

rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"/{bin,lib,licenses/onnxruntime,wheels,python,models}
cp "$ROOT/container/Containerfile" "$CONTEXT/Containerfile"
cp "$ROOT/container/Containerfile" "$CONTEXT/Dockerfile"
cp "$BINARY" "$CONTEXT/bin/deep-model-server"
strip "$CONTEXT/bin/deep-model-server"
cp "$ROOT/container/dms-container-entrypoint" "$CONTEXT/bin/"
onnxruntime_library="$(realpath "$ROOT/.runtime/lib/libonnxruntime.so")"
cp "$onnxruntime_library" "$CONTEXT/lib/libonnxruntime.so"
cp "$(dirname "$onnxruntime_library")"/../{LICENSE,ThirdPartyNotices.txt} "$CONTEXT/licenses/onnxruntime/"
for package in mxnet numpy pillow; do
    cp "$WHEELS/$package-$(pinned "$package")"-*.whl "$CONTEXT/wheels/"
done
tar -C "$ROOT/python" --exclude=__pycache__ --exclude='*.pyc' -c dms mms | tar -C "$CONTEXT/python" -x
cp "$ROOT"/examples/*.model "$CONTEXT/models/"
cp -r "$ROOT/examples/digits-cnn-onnx" "$CONTEXT/models/"
log "staged $CONTEXT ($(du -sh "$CONTEXT" | cut -f1))"

if $STAGE_ONLY; then
    log "done in $((SECONDS - START_SECONDS)) s; with Docker: docker build -t deep-model-server $CONTEXT"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# 3. Podman
# ---------------------------------------------------------------------------------------------
missing=()
for command in podman runc debootstrap; do
    command -v "$command" >/dev/null || missing+=("$command")
done
if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}" </dev/null >/dev/null
    for command in "${missing[@]}"; do
        command -v "$command" >/dev/null || die "apt installed $command, yet there is no $command command"
    done
else
    log "apt: podman, runc and debootstrap present"
fi

# ---------------------------------------------------------------------------------------------
# 4. The base image
# ---------------------------------------------------------------------------------------------
debian_mirror() { # the machine's Debian mirror (deb822 or one-line sources), or deb.debian.org
    local uri
    uri="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)" || true
    [[ -n "$uri" ]] || uri="$(sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]]\{1,\}bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)" || true
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
if podman image exists "$BASE_IMAGE"; then
    log "base: $BASE_IMAGE exists"
else
    mirror="${DMS_DEBIAN_MIRROR:-$(debian_mirror)}"
    security="${DMS_DEBIAN_SECURITY_MIRROR:-${mirror%/debian}/debian-security}"
    rootfs="$ROOT/build/debian-rootfs"
    rm -rf --one-file-system "$rootfs"
    trap 'rm -rf --one-file-system "$rootfs"' EXIT
    log "base: debootstrap --variant=minbase bookworm from $mirror (about 70 s)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
        die "debootstrap failed; its log: $(tail -5 "$rootfs.log")"
    rm -f "$rootfs.log"
    cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES
    # debootstrap copies the host's; a container gets its own from the runtime.
    rm -f "$rootfs/etc/hostname"
    : >"$rootfs/etc/resolv.conf"
    rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
    find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
    tar -C "$rootfs" --numeric-owner -c . |
        podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf --one-file-system "$rootfs"
    trap - EXIT
    log "base: imported $BASE_IMAGE"
fi

# ---------------------------------------------------------------------------------------------
# 5. The image
# ---------------------------------------------------------------------------------------------
log "podman build -t $TAG"
previous="$(podman image inspect --format '{{.Id}}' "$TAG" 2>/dev/null)" || previous=""
podman build --quiet --format docker --isolation chroot --layers "${NO_CACHE[@]}" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$TAG" -f "$CONTEXT/Containerfile" "$CONTEXT" >/dev/null
# The image this tag named before, unless another tag or a container still uses it. (Not
# `podman image prune`: that would also drop the build stage's image, the layer cache of the
# next build.)
if [[ -n "$previous" && "$previous" != "$(podman image inspect --format '{{.Id}}' "$TAG")" ]]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
fi
size="$(podman image inspect --format '{{.Size}}' "$TAG")"
log "built $TAG: $((size / 1000000)) MB ($(podman image inspect --format '{{.Id}}' "$TAG" | cut -c1-12)) in $((SECONDS - START_SECONDS)) s"
log "run it: CONTAINERS_CONF=$CONTAINERS_CONF podman run --rm -p 127.0.0.1:8080:8080 $TAG"
