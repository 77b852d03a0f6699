#!/usr/bin/env bash
# Runs every test herd has: formatting and vet checks, unit tests, integration
# tests against an in-process server, and end-to-end tests that build the
# binary and drive it with the real kubectl. Needs Go, gcc and kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null; then
	echo "hack/test.sh: kubectl is required for the end-to-end tests" >&2
	exit 1
fi

# The external-etcd end-to-end test runs Debian's etcd-server.
if ! command -v etcd >/dev/null; then
	echo "== installing etcd-server (external etcd test)"
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y -qq etcd-server >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq etcd-server >/dev/null; }
	else
		sudo apt-get install -y -qq etcd-server >/dev/null
	fi
fi
# Tests that need etcd, root or cgroups skip themselves under a plain `go
# test` on a machine without them; here they must run.
export HERD_REQUIRE_ALL=1

# The seeds' pi Job runs `perl -Mbignum=bpi -wle 'print bpi(2000)'` on the
# host; Debian 12's bundled Math::BigInt fails on it, its newer package works.
if ! perl -Mbignum=bpi -wle 'print bpi(2000)' >/dev/null 2>&1; then
	echo "== installing libmath-bigint-perl (the pi Job's perl)"
	apt-get install -y -qq libmath-bigint-perl >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libmath-bigint-perl >/dev/null; }
fi

echo "== gofmt"
unformatted=$(gofmt -l cmd pkg test)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test"
go test -count=1 -timeout 40m "$@" ./...
