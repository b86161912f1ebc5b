#!/usr/bin/env bash
# bench/pcap.sh: time `tlskit pcap --data` against tshark's full decryption
# on a loopback capture of ~200 MB of TLS traffic with its key log, and
# check that tlskit's peak memory does not grow with the capture's size.
#
# The capture is generated here (openssl s_server -WWW, curl downloads with
# SSLKEYLOGFILE, dumpcap on lo) and deleted afterwards; nothing is committed.
# Needs root or capture capabilities for dumpcap. Usage: bench/pcap.sh [MB]
# KEEP=DIR keeps the captures and the key log in DIR (for profiling).
#
# Loopback carries TCP segments of up to 64 KiB, so the capture has few,
# large frames (their number varies from run to run), and tshark's cost
# follows the number of frames. The same traffic is also measured as a
# link carries it: bench/pcapseg splits every segment into frames of at
# most 1448 bytes of payload (Ethernet with TCP timestamps), as a capture
# taken off the wire (a tap, a mirror port, a host without segmentation
# offload) holds it. Both are real captures; the README reports both.
set -euo pipefail
MB=${1:-200}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $srv $dc 2>/dev/null || true; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/tlskit" ./cmd/tlskit
go build -o "$work/pcapseg" ./bench/pcapseg

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" \
	-out "$work/cert.pem" -subj /CN=localhost -days 2 2>/dev/null
# A mix like real HTTPS downloads: half text (shown in full by --data), half
# binary (shown as a preview; --hex dumps it).
head -c $((MB / 8))M /dev/urandom >"$work/big.bin"
python3 -c "
import random, sys
random.seed(1)
words = 'tls record cipher handshake alert certificate chain trust verify key log capture stream segment'.split()
out = sys.stdout
n, limit = 0, $((MB / 8)) * 1024 * 1024
while n < limit:
    line = ' '.join(random.choice(words) for _ in range(12)) + '\n'
    out.write(line); n += len(line)
" >"$work/big.txt"
port=$((20000 + RANDOM % 20000))
(cd "$work" && exec openssl s_server -WWW -accept 127.0.0.1:$port -cert cert.pem -key key.pem -quiet) &
srv=$!

capture() { # capture FILE N: N downloads of big.bin, one per cipher family
	# A large capture buffer and a rate limit keep dumpcap from dropping
	# packets: a lossy capture would leave part of the traffic undecrypted.
	dumpcap -q -i lo -B 1024 -f "tcp port $port" -s 0 -w "$1" 2>/dev/null &
	dc=$!
	for _ in $(seq 50); do [ -s "$1" ] && break; sleep 0.1; done
	sleep 0.5
	local opts=("--tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256" "--tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256"
		"--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256" "--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA256")
	for i in $(seq 0 $(($2 - 1))); do
		for f in big.txt big.bin; do
			SSLKEYLOGFILE="$work/keys.log" curl -sk --limit-rate 150M ${opts[$((i % 4))]} "https://127.0.0.1:$port/$f" -o /dev/null
		done
	done
	sleep 1
	kill -INT $dc
	wait $dc || true
}

measure() { # measure LABEL CMD...: prints seconds and peak RSS in MB
	/usr/bin/time -f "%e %M" -o "$work/time" "${@:2}" >/dev/null 2>"$work/err" || true
	read -r secs kb < <(tail -1 "$work/time")
	printf '%-10s %8.2f s  %6d MB peak RSS\n' "$1" "$secs" $((kb / 1024)) >&2
	echo "$secs $kb"
}

capture "$work/small.pcapng" 1
capture "$work/big.pcapng" 4
size=$(du -m "$work/big.pcapng" | cut -f1)
echo "capture: $size MB, $(tshark -r "$work/big.pcapng" -T fields -e frame.number 2>/dev/null | wc -l) frames, $(grep -c CLIENT_RANDOM "$work/keys.log" || true) TLS 1.2 + $(grep -c CLIENT_TRAFFIC_SECRET_0 "$work/keys.log" || true) TLS 1.3 connections in the key log"

read -r t_small kb_small < <(measure "tlskit-1/4" "$work/tlskit" pcap --data --keylog "$work/keys.log" "$work/small.pcapng")
read -r t_ours kb_ours < <(measure tlskit "$work/tlskit" pcap --data --keylog "$work/keys.log" "$work/big.pcapng")
read -r t_tshark kb_tshark < <(measure tshark tshark -r "$work/big.pcapng" -o "tls.keylog_file:$work/keys.log" -q -z io,stat,0)
read -r t_hex kb_hex < <(measure tlskit-hex "$work/tlskit" pcap --data --hex --keylog "$work/keys.log" "$work/big.pcapng")
read -r t_tsx kb_tsx < <(measure tshark-x tshark -r "$work/big.pcapng" -o "tls.keylog_file:$work/keys.log" -x)
{ "$work/tlskit" pcap --keylog "$work/keys.log" "$work/big.pcapng" || true; } | grep -c '\[decrypted\]' | sed 's/^/decrypted events: /'
{ "$work/tlskit" pcap --keylog "$work/keys.log" "$work/big.pcapng" || true; } | { grep -c ' gap ' || true; } | sed 's/^/gaps (packets dumpcap lost): /'
"$work/pcapseg" -mss 1448 "$work/big.pcapng" "$work/wire.pcap" | sed 's/^/as a link carries it: /'
read -r t_wire kb_wire < <(measure tlskit-wire "$work/tlskit" pcap --data --keylog "$work/keys.log" "$work/wire.pcap")
read -r t_tswire kb_tswire < <(measure tshark-wire tshark -r "$work/wire.pcap" -o "tls.keylog_file:$work/keys.log" -q -z io,stat,0)
{ "$work/tlskit" pcap --keylog "$work/keys.log" "$work/wire.pcap" || true; } | grep -c '\[decrypted\]' | sed 's/^/decrypted events, as a link carries it: /'
awk -v a="$t_tshark" -v b="$t_ours" 'BEGIN { printf "tshark -z io,stat,0 / tlskit pcap --data: %.1fx (goal: >= 10x)\n", a / b }'
awk -v a="$t_tswire" -v b="$t_wire" 'BEGIN { printf "the same, as a link carries it (1448-byte segments): %.1fx\n", a / b }'
awk -v a="$t_tsx" -v b="$t_hex" 'BEGIN { printf "tshark -x / tlskit pcap --data --hex (both print every decrypted byte): %.1fx\n", a / b }'
awk -v s="$kb_small" -v b="$kb_ours" 'BEGIN { printf "tlskit peak RSS, 4x the capture: %.2fx (goal: flat)\n", b / s }'
if [ -n "${KEEP:-}" ]; then
	mkdir -p "$KEEP" && cp "$work/big.pcapng" "$work/wire.pcap" "$work/keys.log" "$KEEP/"
	echo "kept big.pcapng, wire.pcap and keys.log in $KEEP"
fi
