#!/bin/sh
# hello.sh NAME prints a greeting.
greet() {
	echo "Hello, ${1:-world}!"
}

if [ "${0##*/}" = "hello.sh" ]; then
	greet "$@"
fi
