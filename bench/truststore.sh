#!/bin/sh
# truststore.sh: time a full `tlskit truststore` audit of this machine
# (BenchmarkAuditEtcSSLCerts: Discover with Root "/") next to
# `openssl rehash -n` on a copy of /etc/ssl/certs, and print the ratio.
# Usage: bench/truststore.sh [runs]   (run from anywhere inside the repo)
set -eu
runs=${1:-20}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a /etc/ssl/certs "$tmp/certs"
# Keep openssl on its arguments only, not on this machine's overrides.
unset SSL_CERT_DIR SSL_CERT_FILE

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine --warmup 3 --runs "$runs" --export-json "$tmp/h.json" \
		"openssl rehash -n $tmp/certs" >/dev/null
	rehash_ns=$(sed -n 's/.*"mean": *\([0-9.e+-]*\).*/\1/p' "$tmp/h.json" | head -1 |
		awk '{ printf "%d", $1 * 1e9 }')
else
	openssl rehash -n "$tmp/certs" 2>/dev/null # warm the page cache
	start=$(date +%s%N)
	i=0
	while [ "$i" -lt "$runs" ]; do
		openssl rehash -n "$tmp/certs" 2>/dev/null
		i=$((i + 1))
	done
	end=$(date +%s%N)
	rehash_ns=$(((end - start) / runs))
fi

audit_ns=$(go test -run '^$' -bench BenchmarkAuditEtcSSLCerts -benchtime "${runs}x" ./truststore |
	awk '/^BenchmarkAuditEtcSSLCerts/ { for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") print int($i) }')

entries=$(ls "$tmp/certs" | wc -l)
awk -v a="$audit_ns" -v r="$rehash_ns" -v n="$entries" -v runs="$runs" 'BEGIN {
	printf "/etc/ssl/certs: %d entries, %d runs each\n", n, runs
	printf "openssl rehash -n (copy):        %8.2f ms\n", r / 1e6
	printf "tlskit truststore audit (/):     %8.2f ms  (budget 100 ms)\n", a / 1e6
	printf "ratio audit / rehash:            %8.2fx\n", a / r
}'
