#!/usr/bin/env bash
# Regenerates the Swift code for the Open Inference Protocol's gRPC service from
# Protos/open_inference.proto into Sources/DMSGRPC/Generated (messages with swift-protobuf's
# protoc-gen-swift, the service with grpc-swift-protobuf's protoc-gen-grpc-swift-2).
#
#   scripts/generate-grpc.sh [--check]
#
# --check regenerates into a temporary folder and fails when the committed files differ.
#
# The generated files are committed and builds (CI included) only compile them. This script
# needs Debian's protobuf-compiler (installed when missing) and builds the two protoc plugins
# from the package's own pinned dependencies in .build-protogen (git-ignored; about a minute and
# a half the first time on two cores). It does not use the GRPCProtobufGenerator build plugin,
# which would build protoc from source on every clean build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUTPUT="$ROOT/Sources/DMSGRPC/Generated"
CHECK=false
for argument in "$@"; do
    case "$argument" in
        --check) CHECK=true ;;
        *) echo "usage: scripts/generate-grpc.sh [--check]" >&2; exit 2 ;;
    esac
done

if ! command -v protoc >/dev/null 2>&1; then
    echo "generate-grpc: installing protobuf-compiler"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends protobuf-compiler </dev/null >/dev/null
fi

SCRATCH="$ROOT/.build-protogen"
echo "generate-grpc: building protoc-gen-swift and protoc-gen-grpc-swift-2 (release, $SCRATCH)"
mkdir -p "$SCRATCH"
for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
    swift build -c release --scratch-path "$SCRATCH" --product "$product" >"$SCRATCH/plugin-build.log" 2>&1 ||
        { cat "$SCRATCH/plugin-build.log" >&2; echo "generate-grpc: building $product failed" >&2; exit 1; }
done
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"

TARGET="$OUTPUT"
if $CHECK; then
    TARGET="$(mktemp -d)"
    trap 'rm -rf "$TARGET"' EXIT
fi
mkdir -p "$TARGET"
# Internal visibility: the generated types stay inside DMSGRPC, which maps them to the domain.
protoc --proto_path="$ROOT/Protos" \
    --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" \
    --swift_out="$TARGET" --swift_opt=Visibility=Internal \
    --plugin=protoc-gen-grpc-swift-2="$BIN/protoc-gen-grpc-swift-2" \
    --grpc-swift-2_out="$TARGET" --grpc-swift-2_opt=Visibility=Internal,Server=true,Client=true \
    "$ROOT/Protos/open_inference.proto"

if $CHECK; then
    diff -r "$OUTPUT" "$TARGET" && echo "generate-grpc: the committed code is current"
else
    echo "generate-grpc: wrote $(ls "$OUTPUT" | tr '\n' ' ')"
fi
