#!/usr/bin/env bash
# A full scan of the same loopback server by tlskit, sslscan and testssl.sh,
# one after the other in the same run, with wall times and ratios.
# Goal (issue 14): tlskit scan at least 20x faster than testssl.sh and
# faster than sslscan, with at least their coverage.
#
# The server is openssl s_server with an RSA and an ECDSA certificate and
# OpenSSL 3.0's defaults (TLS 1.2 and 1.3, 30 suites, 10 groups): what the
# tools find to enumerate is the same for all three.
#
#   bench/scan.sh [RUNS]   (default 5 runs of tlskit and sslscan; testssl.sh runs once)
set -euo pipefail
runs=${1:-5}
cd "$(dirname "$0")/.."
for t in openssl sslscan testssl; do
  command -v "$t" >/dev/null || { echo "bench/scan.sh: $t is not installed (.ci/run installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
srv=
cleanup() { exec 3>&- 2>/dev/null || true; [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$work/tlskit" ./cmd/tlskit   # as shipped: pure Go, static
for k in rsa ec; do
  case $k in
    rsa) kopt=(-newkey rsa:2048) ;;
    ec) kopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  esac
  openssl req -x509 "${kopt[@]}" -nodes -days 2 -subj /CN=bench.tlskit.test \
    -addext subjectAltName=DNS:bench.tlskit.test -keyout "$work/$k.key" -out "$work/$k.pem" 2>/dev/null
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# s_server quits at end of input: its stdin is a FIFO this script holds open.
mkfifo "$work/stdin"
openssl s_server -accept "127.0.0.1:$port" -cert "$work/rsa.pem" -key "$work/rsa.key" \
  -dcert "$work/ec.pem" -dkey "$work/ec.key" -naccept 1000000 -quiet <"$work/stdin" >/dev/null 2>&1 &
srv=$!
exec 3>"$work/stdin"
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
addr=127.0.0.1:$port

ms() { echo $(( ($2 - $1) / 1000000 )); }
# tlskit: the full scan, client simulation included (16 documented clients).
"$work/tlskit" scan --json --ca-file "$work/rsa.pem" --ca-file "$work/ec.pem" --servername bench.tlskit.test "$addr" >"$work/tlskit.json" || true
start=$(date +%s%N)
for _ in $(seq "$runs"); do
  "$work/tlskit" scan --ca-file "$work/rsa.pem" --ca-file "$work/ec.pem" --servername bench.tlskit.test "$addr" >/dev/null || true
done
t_tlskit=$(( $(ms "$start" "$(date +%s%N)") / runs ))
conns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connections"])' "$work/tlskit.json")
# sslscan: its full default scan, with the signature algorithms.
start=$(date +%s%N)
for _ in $(seq "$runs"); do sslscan --no-colour --show-sigs "$addr" >/dev/null; done
t_sslscan=$(( $(ms "$start" "$(date +%s%N)") / runs ))
# testssl.sh: its full default scan, once.
start=$(date +%s%N)
(cd "$work" && testssl --warnings off --quiet --color 0 "$addr" >/dev/null 2>&1) || true
t_testssl=$(ms "$start" "$(date +%s%N)")

printf 'server: openssl s_server %s, RSA and ECDSA certificates, on loopback; %d cores\n' "$(openssl version | cut -d' ' -f2)" "$(nproc)"
printf 'tlskit scan   %7d ms  (%d connections; mean of %d runs)\n' "$t_tlskit" "$conns" "$runs"
noansi() { sed 's/\x1b\[[0-9;]*m//g'; }
printf 'sslscan       %7d ms  (sslscan %s; mean of %d runs)\n' "$t_sslscan" "$(sslscan --version | noansi | grep -o '[0-9][0-9.]*' | head -1)" "$runs"
printf 'testssl.sh    %7d ms  (testssl.sh %s; one run)\n' "$t_testssl" "$(testssl --version 2>/dev/null | noansi | grep -o 'testssl *[0-9][0-9.]*' | grep -o '[0-9][0-9.]*' | head -1)"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'testssl.sh / tlskit: %.1fx (goal >= 20x)\n' "$(echo "$t_testssl/$t_tlskit" | bc -l)"
printf 'sslscan / tlskit:    %.1fx (goal > 1x)\n' "$(echo "$t_sslscan/$t_tlskit" | bc -l)"
