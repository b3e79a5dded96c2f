#!/usr/bin/env bash
# Lists every fuzz target in the module as ./package:FuzzName, one per line.
set -euo pipefail
cd "$(dirname "$0")/.."
git grep -E '^func Fuzz[A-Za-z0-9_]*\(' -- '*_test.go' |
	sed -E 's|^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*|./\1:\2|' |
	sort -u
