#!/usr/bin/env bash
# Records what testssl.sh reports for each server of scan's
# TestAgainstPeers (scan/peers_test.go): the servers are started as in the
# test, testssl.sh -p -E -P -f runs against each (about a minute each,
# one after the other: testssl is too slow for CI), and the findings the
# comparison reads are written to NAME.json here, with the testssl and
# OpenSSL versions. Rerun it when a case changes or the packages update.
set -euo pipefail
cd "$(dirname "$0")/../../.."
TLSKIT_REGEN_TESTSSL=1 go test ./scan -run 'TestAgainstPeers' -count=1 -timeout 60m -v "$@" | grep -E '^(---|=== RUN|ok|FAIL)|testssl' || true
