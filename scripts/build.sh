#!/usr/bin/env bash
# Builds the server and the export tool (debug, or release with `scripts/build.sh release`).
# Runs scripts/bootstrap.sh first, so a fresh machine gets the system libraries it needs.
#
# Release builds link the Swift runtime in (--static-swift-stdlib): the binaries then run on a
# machine, or in the container image, without a Swift toolchain. Every release build of the
# project (benchmarks, the image) passes the same flag; SwiftPM rebuilds everything when it changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
configuration="${1:-debug}"
flags=()
[[ "$configuration" == release ]] && flags=(--static-swift-stdlib)
echo "build: swift build -c $configuration ${flags[*]}"
swift build -c "$configuration" "${flags[@]}" --product deep-model-server
swift build -c "$configuration" "${flags[@]}" --product deep-model-export
