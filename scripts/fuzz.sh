#!/usr/bin/env bash
# Runs every Fuzz target in the module for a short time (FUZZTIME, default 10s, as in the Makefile)
# on top of its committed seed corpus, which `go test` already replays.
set -euo pipefail
FUZZTIME=${FUZZTIME:-10s}
fail=0
for pkg in $(go list ./...); do
	for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $f ($FUZZTIME)"
		if ! go test -run='^$' -fuzz="^${f}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=2s "$pkg" >/tmp/vggo-fuzz.log 2>&1; then
			cat /tmp/vggo-fuzz.log
			fail=1
		fi
	done
done
exit $fail
