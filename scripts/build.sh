#!/usr/bin/env bash
# Builds the server and the export tool (debug, or release with `scripts/build.sh release`).
# Runs scripts/bootstrap.sh first, so a fresh machine gets the system libraries it needs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
configuration="${1:-debug}"
echo "build: swift build -c $configuration"
swift build -c "$configuration" --product deep-model-server
swift build -c "$configuration" --product deep-model-export
