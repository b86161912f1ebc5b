#!/usr/bin/env bash
# Verification speed, against the real peers, in the same run:
#
#  1. in-process, every x509-limbo case (the 9,697 whose certificates all
#     parse, pre-parsed): tlskit's verifier, findings and all, against
#     crypto/x509's Verify (BenchmarkLimboTlskit, BenchmarkLimboCryptoX509).
#     Goal (issue 11): tlskit at least 0.5x crypto/x509's cases/s.
#  2. per process, `tlskit verify` against `openssl verify` on the same
#     chain files (a good chain, and one refused for an expired leaf),
#     process start included; and with revocation checked against a
#     large CRL of the intermediate (100,000 entries) and the root's CRL.
#
#   bench/verify.sh [LIMBO_ROUNDS] [PROCESS_RUNS]   (default 5 and 50; 0 rounds: only 2.)
set -euo pipefail
rounds=${1:-5}
runs=${2:-50}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ "$rounds" = 0 ] || {
echo "== in-process, x509-limbo ($rounds rounds each)"
go test -run XXX -bench 'Limbo(Tlskit|CryptoX509)$' -benchtime "${rounds}x" -count 1 ./trust | tee "$work/bench.txt" | grep -E '^Benchmark'
t=$(awk '/BenchmarkLimboTlskit/ {for (i=1;i<=NF;i++) if ($(i+1)=="cases/s") print $i}' "$work/bench.txt")
g=$(awk '/BenchmarkLimboCryptoX509/ {for (i=1;i<=NF;i++) if ($(i+1)=="cases/s") print $i}' "$work/bench.txt")
printf 'tlskit %s cases/s, crypto/x509 %s cases/s: ratio %.2f (goal >= 0.5)\n\n' "$t" "$g" "$(echo "$t/$g" | bc -l)"
}

echo "== per process, tlskit verify vs openssl verify ($runs runs each)"
CGO_ENABLED=0 go build -o "$work/tlskit" ./cmd/tlskit   # as shipped: pure Go, static
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key "$work/root.key"; key "$work/inter.key"; key "$work/leaf.key"
openssl req -x509 -new -key "$work/root.key" -subj "/CN=Bench Root" -days 30 -out "$work/root.pem" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -key "$work/inter.key" -subj "/CN=Bench Intermediate" -out "$work/inter.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > "$work/ca.ext"
openssl x509 -req -in "$work/inter.csr" -CA "$work/root.pem" -CAkey "$work/root.key" -set_serial 2 -days 30 -extfile "$work/ca.ext" -out "$work/inter.pem" 2>/dev/null
leaf() { # leaf NAME DAYS_FROM DAYS
  openssl req -new -key "$work/leaf.key" -subj "/CN=bench.tlskit.test" -out "$work/$1.csr" 2>/dev/null
  printf 'subjectAltName=DNS:bench.tlskit.test\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > "$work/leaf.ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/inter.pem" -CAkey "$work/inter.key" -set_serial "$3" -days "$2" -extfile "$work/leaf.ext" -out "$work/$1.pem" 2>/dev/null
  cat "$work/$1.pem" "$work/inter.pem" > "$work/$1-chain.pem"
}
leaf good 10 3
leaf expired 1 4
# "expired": verify 5 days later, when the 1-day leaf has lapsed.
later=$(( $(date +%s) + 5*86400 ))
later_rfc=$(date -u -d "@$later" +%Y-%m-%dT%H:%M:%SZ)

time_runs() { # prints mean microseconds per run of "$@"
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo $(( (end - start) / runs / 1000 ))
}
row() { # row LABEL TLSKIT_US OPENSSL_US
  printf '%-22s tlskit verify %6.2f ms   openssl verify %6.2f ms   ratio %.2f\n' "$1" "$(echo "$2/1000" | bc -l)" "$(echo "$3/1000" | bc -l)" "$(echo "$2/$3" | bc -l)"
}
# Both must give the expected verdicts, or this is no benchmark.
"$work/tlskit" verify --ca-file "$work/root.pem" --servername bench.tlskit.test "$work/good-chain.pem" >/dev/null
openssl verify -CAfile "$work/root.pem" -untrusted "$work/inter.pem" -verify_hostname bench.tlskit.test "$work/good.pem" >/dev/null
! "$work/tlskit" verify --ca-file "$work/root.pem" --servername bench.tlskit.test --verify-time "$later_rfc" "$work/expired-chain.pem" >/dev/null
! openssl verify -CAfile "$work/root.pem" -untrusted "$work/inter.pem" -verify_hostname bench.tlskit.test -attime "$later" "$work/expired.pem" >/dev/null 2>&1

row "good chain" \
  "$(time_runs "$work/tlskit" verify --ca-file "$work/root.pem" --servername bench.tlskit.test "$work/good-chain.pem")" \
  "$(time_runs openssl verify -CAfile "$work/root.pem" -untrusted "$work/inter.pem" -verify_hostname bench.tlskit.test "$work/good.pem")"
row "expired leaf (refused)" \
  "$(time_runs "$work/tlskit" verify --ca-file "$work/root.pem" --servername bench.tlskit.test --verify-time "$later_rfc" "$work/expired-chain.pem")" \
  "$(time_runs openssl verify -CAfile "$work/root.pem" -untrusted "$work/inter.pem" -verify_hostname bench.tlskit.test -attime "$later" "$work/expired.pem")"
# With the system roots loaded too: tlskit reads them as Go does (the
# bundle, then the hashed directory); openssl gets the bundle plus the root.
cat /etc/ssl/certs/ca-certificates.crt "$work/root.pem" > "$work/bundle.pem"
row "plus system roots" \
  "$(time_runs "$work/tlskit" verify --trust system --trust "file:$work/root.pem" --servername bench.tlskit.test "$work/good-chain.pem")" \
  "$(time_runs openssl verify -CAfile "$work/bundle.pem" -untrusted "$work/inter.pem" -verify_hostname bench.tlskit.test "$work/good.pem")"
# Revocation: the intermediate's CRL lists 100,000 revoked serials (not
# the leaf's), made by openssl ca from an index of its own; the root's CRL
# covers the intermediate. Both tools check every certificate of the path.
crl() { # crl CA NAME ENTRIES
  local d="$work/ca-$2"; mkdir -p "$d"
  awk -v n="$3" 'BEGIN { for (i = 0; i < n; i++) printf "R\t301231000000Z\t240101000000Z\t%X\tunknown\t/CN=revoked %d\n", 1048576 + i, i }' > "$d/index.txt"
  echo 01 > "$d/crlnumber"
  printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/index.txt\ncrlnumber=%s/crlnumber\ndefault_md=sha256\ndefault_crl_days=7\ncrl_extensions=e\n[e]\nauthorityKeyIdentifier=keyid\n' "$d" "$d" > "$d/ca.cnf"
  openssl ca -batch -config "$d/ca.cnf" -gencrl -cert "$work/$1.pem" -keyfile "$work/$1.key" -out "$work/$2.crl" 2>/dev/null
}
crl inter inter 100000
crl root root 0
"$work/tlskit" verify --ca-file "$work/root.pem" --servername bench.tlskit.test --crl "$work/inter.crl" --crl "$work/root.crl" "$work/good-chain.pem" >/dev/null
openssl verify -CAfile "$work/root.pem" -untrusted "$work/inter.pem" -verify_hostname bench.tlskit.test -crl_check_all -CRLfile "$work/inter.crl" -CRLfile "$work/root.crl" "$work/good.pem" >/dev/null
row "CRLs (100,000 entries)" \
  "$(time_runs "$work/tlskit" verify --ca-file "$work/root.pem" --servername bench.tlskit.test --crl "$work/inter.crl" --crl "$work/root.crl" "$work/good-chain.pem")" \
  "$(time_runs openssl verify -CAfile "$work/root.pem" -untrusted "$work/inter.pem" -verify_hostname bench.tlskit.test -crl_check_all -CRLfile "$work/inter.crl" -CRLfile "$work/root.crl" "$work/good.pem")"
printf 'openssl %s, %d runs each\n' "$(openssl version | cut -d' ' -f2)" "$runs"
