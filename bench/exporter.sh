#!/usr/bin/env bash
# Compares tlskit's exporter with blackbox_exporter (Debian's
# prometheus-blackbox-exporter, its tcp prober with TLS) probing the same
# lab server through the same /probe endpoint, one after the other in the
# same run. tlskit's exporter is measured twice: as `tlskit-exporter`, the
# exporter's own binary (what a deployment runs), and as `tlskit exporter`
# in the all-in-one binary (every command, gopacket's tables included).
# "floor" is a reference, not a product: the least a Go exporter can do
# for a probe (exporterbench floor: dial, a verified crypto/tls handshake,
# close, a one-line answer), so the ratios can be read against it;
# "handshake" is the floor without verifying the chain or the name (the
# bare crypto/tls handshake, which still checks the server's signature):
# the least any monitor that makes a handshake can cost. Each exporter is a fresh process pinned to CPU 0 with
# GOMAXPROCS=1 ("one core"); the lab and the load generator
# (bench/exporterbench) run on CPU 1. Every probe is for its own target,
# 127.a.b.c:PORT (10,000 distinct addresses, all reaching the lab's healthy
# TLS 1.3 server), trusts the lab's root and verifies the lab's name.
# Both offer one X25519 key share (tlskit X25519, P-256 and P-384,
# blackbox_exporter's Go 1.19 also P-521: seen with tshark) and verify the
# chain and the name. tlskit is built as shipped (CGO_ENABLED=0, static);
# Debian's blackbox_exporter is linked to libc. Requests come as
# Prometheus 2.42 sends them (its Accept header, gzip asked for:
# blackbox_exporter gzips its answer, tlskit does not).
# Goals (issue 15): 10,000 targets a minute on one core; >= 2x
# blackbox_exporter's probes per CPU-second; <= its memory.
#
#   bench/exporter.sh [SECONDS] [ROUNDS]   (default 20 s per measurement, 1 round)
#   RTT=20ms bench/exporter.sh ...        (the server 20 ms away: see below)
#
# The exporters are measured in the same stretch of time (exporterbench
# paired): all five run, and the load goes to one at a time for 2 s, in
# turn, the order rotating every round, so that each sees the machine as
# the others do. (This machine's speed drifts by a factor of two over
# minutes; measured one after the other, minutes apart, an exporter's
# ratio to blackbox_exporter moved with it, from 1.4x to 2.8x in one run.)
# An exporter waiting for its turn is idle. CPU is the sum of its threads'
# time on the CPU (/proc/PID/task/*/schedstat); the paired run also prints
# each exporter's ratio to blackbox_exporter round by round.
#
# Two measurements per exporter: the required load (10,000 targets a
# minute, 166.7 probes/s, for SECONDS in all) and saturation (64 probes in
# flight, as fast as the exporter answers), each with fresh exporters.
# About 11 x SECONDS a round. With ROUNDS > 1, compare medians.
#
# On loopback a probe takes a millisecond or two, so at the steady rate
# each probe runs alone and every exporter wakes from idle for each step
# of it. With RTT set, the lab is reached through exporterbench's proxy,
# which delivers every chunk RTT/2 after it was sent in each direction
# (this machine's kernel has no netem qdisc): probes overlap, as they do
# when the targets are across a network.
set -euo pipefail
secs=${1:-20}
rounds=${2:-1}
cd "$(dirname "$0")/.."
command -v prometheus-blackbox-exporter >/dev/null || { echo "bench/exporter.sh: prometheus-blackbox-exporter is not installed (apt-get install prometheus-blackbox-exporter)" >&2; exit 2; }
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
wait_port() {
  for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "bench/exporter.sh: nothing listens on 127.0.0.1:$1" >&2; return 1
}

CGO_ENABLED=0 go build -o "$work/tlskit" ./cmd/tlskit   # as shipped: pure Go, static
CGO_ENABLED=0 go build -o "$work/tlskit-exporter" ./cmd/tlskit-exporter
go build -o "$work/exporterbench" ./bench/exporterbench
taskset -c 1 "$work/exporterbench" lab ${RTT:+-rtt "$RTT"} "$work/lab" >"$work/lab.out" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/lab.out" ] && break; sleep 0.05; done
read -r lab_port root <"$work/lab.out"
name=good.lab.tlskit.test

cat >"$work/tlskit.json" <<JSON
{"modules": {"lab": {"trust": ["file:$root"], "server_name": "$name", "timeout": "5s"}}}
JSON
cat >"$work/blackbox.yml" <<YAML
modules:
  lab:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: $root
        server_name: $name
YAML

# start LABEL METRIC PATH COMMAND...: a fresh exporter on a free port
# ({port} in COMMAND), pinned to CPU 0 with GOMAXPROCS=1, added to the
# paired run's -exporter flags.
start() {
  local label=$1 metric=$2 path=$3; shift 3
  local p; p=$(free_port)
  GOMAXPROCS=1 taskset -c 0 "${@//\{port\}/$p}" >"$work/$label.log" 2>&1 &
  local pid=$!
  ex_pids+=("$pid"); pids+=("$pid")
  wait_port "$p"
  ex_args+=(-exporter "$label,$pid,$metric,http://127.0.0.1:$p$path")
}

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)${RTT:+; the server $RTT away}"
for round in $(seq "$rounds"); do
  for mode in load saturation; do
    ex_args=(); ex_pids=()
    start tlskit-exporter tlskit_probe_success "/probe?module=lab&target=" \
      "$work/tlskit-exporter" --listen "127.0.0.1:{port}" --config "$work/tlskit.json"
    start tlskit-all-in-one tlskit_probe_success "/probe?module=lab&target=" \
      "$work/tlskit" exporter --listen "127.0.0.1:{port}" --config "$work/tlskit.json"
    start floor probe_success "/probe?target=" \
      "$work/exporterbench" floor -listen "127.0.0.1:{port}" -root "$root" -name "$name"
    start handshake probe_success "/probe?target=" \
      "$work/exporterbench" floor -listen "127.0.0.1:{port}" -root "$root" -name "$name" -verify=false
    start blackbox probe_success "/probe?module=lab&target=" \
      prometheus-blackbox-exporter --config.file "$work/blackbox.yml" --web.listen-address "127.0.0.1:{port}" --log.level=warn
    args=(-rate 166.667 -inflight 1024)
    [ "$mode" = saturation ] && args=(-inflight 64)
    taskset -c 1 "$work/exporterbench" paired -mode "$mode" -port "$lab_port" -duration "${secs}s" "${args[@]}" "${ex_args[@]}" | tee "$work/paired.out"
    grep -v '÷' "$work/paired.out" >>"$work/results"
    for p in "${ex_pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians over the rounds, and each tlskit binary against blackbox_exporter.
echo
echo "medians over $rounds round(s): probes per CPU-second, peak memory (VmHWM)"
awk '
  { label = $1; mode = $2; sub(":", "", mode)
    for (i = 1; i <= NF; i++) {
      if ($i == "probes" && $(i+1) == "per" && $(i+2) == "CPU-second;") pps[label, mode] = pps[label, mode] " " $(i-1)
      if ($i == "VmHWM") mem[label, mode] = mem[label, mode] " " $(i+1)
    }
    if (!(label in seen)) { seen[label] = 1; order[++n] = label } }
  function median(list,   a, k, j, t) {
    k = split(list, a, " ")
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
  }
  END {
    for (m = 1; m <= 2; m++) {
      mode = m == 1 ? "load" : "saturation"
      bp = median(pps["blackbox", mode]); bm = median(mem["blackbox", mode])
      for (l = 1; l <= n; l++) {
        p = median(pps[order[l], mode]); q = median(mem[order[l], mode])
        printf "  %-10s %-18s %6.0f probes/CPU-s (%.2fx blackbox)  %5.1f MiB (%.2fx blackbox)\n", mode, order[l], p, p / bp, q, q / bm
      }
    }
  }' "$work/results"
echo "($(prometheus-blackbox-exporter --version 2>&1 | head -1); $(go version | cut -d' ' -f3); $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
