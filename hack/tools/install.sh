#!/usr/bin/env bash
# install.sh NAME PACKAGE MODULE
#
# Builds PACKAGE from hack/tools' module into bin/NAME, unless bin/NAME was
# already built from the version of MODULE that hack/tools/go.mod pins. The
# control plane takes minutes to build cold, so it is rebuilt only when its
# version changes.
set -euo pipefail
name=$1 pkg=$2 module=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bin/$name"
cd "$root/hack/tools"
want=$(go list -m -f '{{.Version}}' "$module")
if [ -x "$out" ]; then
	have=$(go version -m "$out" 2>/dev/null | awk -v m="$module" '($1=="dep"||$1=="mod") && $2==m {print $3; exit}')
	if [ "$have" = "$want" ]; then
		exit 0
	fi
fi
echo "building $name ($module $want)"
mkdir -p "$root/bin"
go build -trimpath -o "$out.tmp" "$pkg"
mv "$out.tmp" "$out"
