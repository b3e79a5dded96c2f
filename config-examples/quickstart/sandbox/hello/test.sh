#!/bin/sh
# The repository's tests: what pull-hello-test runs.
set -eu
. ./hello.sh

fail=0
check() {
	if [ "$1" = "$2" ]; then
		echo "ok   $3"
	else
		echo "FAIL $3: got '$1', want '$2'"
		fail=1
	fi
}

check "$(greet)" "Hello, world!" "greets the world by default"
check "$(greet bowline)" "Hello, bowline!" "greets by name"

mkdir -p "${ARTIFACTS:-_artifacts}"
echo "tests run: 2, failed: $fail" > "${ARTIFACTS:-_artifacts}/summary.txt"
exit $fail
