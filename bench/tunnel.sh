#!/usr/bin/env bash
# Compares `tlskit tunnel server` with stunnel4 in server mode (TLS in,
# plain out) on loopback, in the same run, with the same certificate, TLS
# 1.3 with the same suite and group on both, and the same target
# (bench/tunnelbench). Goals (issue 5): bulk throughput >= stunnel's,
# connections/s >= 1.5x stunnel's, < 64 KiB of memory per idle connection.
#
#   bench/tunnel.sh [SECONDS] [IDLE_CONNS]      (default 5 s per measurement, 1000 idle)
#
# Needs stunnel (Debian's stunnel4) and, for 1000 idle connections, a file
# limit above 4096 (raised here when allowed). The default run takes about
# a minute on two cores.
set -euo pipefail
secs=${1:-5}
idle_conns=${2:-1000}
cd "$(dirname "$0")/.."
command -v stunnel >/dev/null || { echo "bench/tunnel.sh: stunnel is not installed (apt-get install stunnel4)" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # wait until 127.0.0.1:$1 accepts
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "bench/tunnel.sh: nothing listens on 127.0.0.1:$1" >&2; return 1
}

go build -o "$work/tlskit" ./cmd/tlskit
go build -o "$work/tunnelbench" ./bench/tunnelbench
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=bench.tlskit.test -addext subjectAltName=DNS:bench.tlskit.test \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

target_port=$(free_port)
"$work/tunnelbench" target -listen "127.0.0.1:$target_port" >/dev/null &
pids+=($!)
wait_port "$target_port"

# stunnel: full handshakes like the client asks for, no per-connection
# notices (tlskit logs none at its default level either), no connection
# limit, TLS 1.3 with the suite crypto/tls picks (AES-128-GCM on AES-NI).
cat >"$work/stunnel.conf" <<EOF
foreground = yes
pid =
debug = warning
[svc]
accept = 127.0.0.1:PORT
connect = 127.0.0.1:$target_port
cert = $work/cert.pem
key = $work/key.pem
sslVersionMin = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256
curves = X25519
EOF

tunnel_pid=
start_tunnel() { # start_tunnel tlskit|stunnel: sets tunnel_port and tunnel_pid
  tunnel_port=$(free_port)
  case $1 in
  tlskit)
    "$work/tlskit" tunnel server --listen "127.0.0.1:$tunnel_port" --target "127.0.0.1:$target_port" \
      --cert "$work/cert.pem" --key "$work/key.pem" --max-conns 0 2>"$work/tlskit.log" &
    ;;
  stunnel)
    sed "s/PORT/$tunnel_port/" "$work/stunnel.conf" >"$work/stunnel-run.conf"
    stunnel "$work/stunnel-run.conf" 2>"$work/stunnel.log" &
    ;;
  esac
  tunnel_pid=$!
  pids+=("$tunnel_pid")
  wait_port "$tunnel_port"
}
stop_tunnel() { kill "$tunnel_pid" 2>/dev/null || true; wait "$tunnel_pid" 2>/dev/null || true; }
load() { # load MODE FLAGS…: prints the measured number
  local out
  out=$("$work/tunnelbench" "$1" -addr "127.0.0.1:$tunnel_port" -ca "$work/cert.pem" "${@:2}") || {
    echo "bench/tunnel.sh: tunnelbench $* failed against $current" >&2; exit 1; }
  echo "  $current: $out" >&2
  echo "$out" | awk '{print $2}'
}

declare -A r
for current in tlskit stunnel; do
  start_tunnel "$current"
  r[$current.bulk1]=$(load bulk -streams 1 -duration "${secs}s")
  r[$current.bulk16]=$(load bulk -streams 16 -duration "${secs}s")
  r[$current.down1]=$(load bulk -streams 1 -dir down -duration "${secs}s")
  r[$current.conns]=$(load conns -workers 8 -duration "${secs}s")
  stop_tunnel
  # Memory on a fresh process: bulk buffers and handshake garbage of the
  # runs above would hide part of the growth.
  start_tunnel "$current"
  r[$current.idle]=$(load idle -conns "$idle_conns" -pid "$tunnel_pid")
  stop_tunnel
done

printf '\nstunnel %s, %s, Go %s, %d cores, %s s per measurement\n' \
  "$(stunnel -version 2>&1 | awk '/^stunnel/{print $2}')" "$(openssl version | cut -d' ' -f1-2)" \
  "$(go env GOVERSION)" "$(nproc)" "$secs"
printf '%-34s %10s %10s %7s %-12s %s\n' metric tlskit stunnel ratio goal result
row() { # row NAME KEY UNIT GOAL_KIND GOAL_VALUE
  local t=${r[tlskit.$2]} s=${r[stunnel.$2]} ratio ok
  ratio=$(echo "$t / $s" | bc -l)
  case $4 in
  ratio) ok=$(echo "$ratio >= $5" | bc -l); goal=">= ${5}x" ;;
  max) ok=$(echo "$t < $5" | bc -l); goal="< $5 $3" ;;
  none) ok=; goal="-" ;;
  esac
  printf '%-34s %10s %10s %6.2fx %-12s %s\n' "$1 ($3)" "$t" "$s" "$ratio" "$goal" \
    "$( [ -z "$ok" ] && echo - || { [ "$ok" = 1 ] && echo pass || echo FAIL; })"
}
row "throughput, 1 stream up" bulk1 MB/s ratio 1
row "throughput, 16 streams up" bulk16 MB/s ratio 1
row "throughput, 1 stream down" down1 MB/s ratio 1
row "connections per second" conns conn/s ratio 1.5
row "memory per idle conn" idle KiB max 64
