#!/usr/bin/env bash
# Times `tlskit check --starttls smtp` against `openssl s_client -starttls
# smtp … </dev/null` on the same local Postfix, in the same run, and reports
# the ratio. Goal (issue 13): tlskit takes at most 1.5× s_client's wall time.
#
# Postfix runs from its Debian package (apt-get install postfix), configured
# in a temporary directory on a free loopback port; it must be started as
# root (it drops to the postfix user itself).
#
#   bench/starttls.sh [RUNS]      (default 30 runs each)
set -euo pipefail
runs=${1:-30}
cd "$(dirname "$0")/.."
command -v postfix >/dev/null || { echo "bench: postfix is not installed (apt-get install postfix)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: Postfix must be started as root" >&2; exit 1; }
work=$(mktemp -d)
chmod 755 "$work"   # the postfix user reaches its data directory through it
conf=$work/conf
cleanup() { postfix -c "$conf" abort >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$work/tlskit" ./cmd/tlskit   # as shipped: pure Go, static
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=bench.tlskit.test -addext subjectAltName=DNS:bench.tlskit.test \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

mkdir -p "$conf" "$work/queue" "$work/data"
chown postfix "$work/data"
cat > "$conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $work/queue
data_directory = $work/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = bench.tlskit.test
mydestination =
alias_maps =
alias_database =
notify_classes =
maillog_file_prefixes = /var, /dev/stdout, $work
maillog_file = $work/maillog
multi_instance_directories =
smtpd_tls_cert_file = $work/cert.pem
smtpd_tls_key_file = $work/key.pem
smtpd_tls_security_level = may
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
CF
cat > "$conf/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
tlsmgr unix - - n 1000? 1 tlsmgr
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
rewrite unix - - n - - trivial-rewrite
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
pickup unix n - n 60 1 pickup
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
CF
postfix -c "$conf" start >"$work/start.log" 2>&1 || { cat "$work/start.log" >&2; exit 1; }
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

tlskit_cmd=("$work/tlskit" check --brief --starttls smtp --ca-file "$work/cert.pem" --no-system-roots --servername bench.tlskit.test "127.0.0.1:$port")
sclient_cmd=(openssl s_client -starttls smtp -connect "127.0.0.1:$port" -servername bench.tlskit.test -CAfile "$work/cert.pem" -verify_return_error)
"${tlskit_cmd[@]}" >"$work/check.txt" || { cat "$work/check.txt" >&2; exit 1; }   # must succeed: a broken setup is not a benchmark
"${sclient_cmd[@]}" </dev/null >/dev/null 2>&1 || { echo "bench: openssl s_client -starttls smtp failed" >&2; exit 1; }

time_runs() { # prints mean microseconds per run of "$@"
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" </dev/null >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo $(( (end - start) / runs / 1000 ))
}
t_tlskit=$(time_runs "${tlskit_cmd[@]}")
t_sclient=$(time_runs "${sclient_cmd[@]}")
printf 'runs: %d each, openssl %s, postfix %s\n' "$runs" "$(openssl version | cut -d' ' -f2)" "$(postconf -d -h mail_version)"
printf 'tlskit check --starttls smtp     %8.2f ms/check\n' "$(echo "$t_tlskit/1000" | bc -l)"
printf 'openssl s_client -starttls smtp  %8.2f ms/check\n' "$(echo "$t_sclient/1000" | bc -l)"
printf 'ratio tlskit/s_client: %.2f (goal <= 1.5)\n' "$(echo "$t_tlskit/$t_sclient" | bc -l)"
