#!/usr/bin/env bash
# Times `tlskit check` against `openssl s_client -connect … </dev/null` on the
# same loopback openssl s_server, in the same run, and reports the ratio.
# Goal (issue 2): tlskit check takes at most 1.5× s_client's wall time.
#
#   bench/check.sh [RUNS]      (default 30 runs each)
set -euo pipefail
runs=${1:-30}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'pkill -P $$ sleep 2>/dev/null; kill $srv 2>/dev/null || true; rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -o "$work/tlskit" ./cmd/tlskit   # as shipped: pure Go, static
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=bench.tlskit.test -addext subjectAltName=DNS:bench.tlskit.test \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# s_server quits at end of input: keep its stdin open.
sleep 100000 | openssl s_server -accept "127.0.0.1:$port" -cert "$work/cert.pem" -key "$work/key.pem" -naccept 100000 -quiet >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

tlskit_cmd=("$work/tlskit" check --brief --ca-file "$work/cert.pem" --no-system-roots --servername bench.tlskit.test "127.0.0.1:$port")
sclient_cmd=(openssl s_client -connect "127.0.0.1:$port" -servername bench.tlskit.test -CAfile "$work/cert.pem")
"${tlskit_cmd[@]}" >/dev/null   # must succeed: a broken setup is not a benchmark

time_runs() { # prints mean milliseconds per run of "$@"
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" </dev/null >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo $(( (end - start) / runs / 1000 ))
}
t_tlskit=$(time_runs "${tlskit_cmd[@]}")
t_sclient=$(time_runs "${sclient_cmd[@]}")
printf 'runs: %d each, openssl %s\n' "$runs" "$(openssl version | cut -d' ' -f2)"
printf 'tlskit check     %8.2f ms/check\n' "$(echo "$t_tlskit/1000" | bc -l)"
printf 'openssl s_client %8.2f ms/check\n' "$(echo "$t_sclient/1000" | bc -l)"
printf 'ratio tlskit/s_client: %.2f (goal <= 1.5)\n' "$(echo "$t_tlskit/$t_sclient" | bc -l)"
