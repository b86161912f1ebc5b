package probe

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/transcript"
)

// reportFacts are what a monitor reads of a report (verdict, what was
// negotiated, the chains, the OCSP status) and every finding whole.
func reportFacts(r *diagnose.Report) map[string]any {
	return map[string]any{"verdict": r.Verdict, "version": r.Version, "suite": r.CipherSuite, "alpn": r.ALPN, "name": r.ServerName,
		"trust": r.Trust, "profile": r.Profile, "chain": r.Chain, "verified": r.VerifiedPath, "ocsp": r.OCSP, "findings": r.Findings}
}

// decryptionSkipped reports whether the server's protected records were
// left undecrypted.
func decryptionSkipped(r *diagnose.Report) bool {
	for _, e := range r.Transcript {
		if e.From == transcript.Server && e.Encrypted && !e.Decrypted {
			return true
		}
	}
	return false
}

// serverAfterFinished reports whether a decrypted transcript has a record
// of the server after its Finished.
func serverAfterFinished(r *diagnose.Report) bool {
	fin := false
	for _, e := range r.Transcript {
		if e.From != transcript.Server {
			continue
		}
		if fin && e.Record > 0 {
			return true
		}
		fin = fin || e.Type == "finished"
	}
	return false
}

// TestDecryptIfNeededPeers checks Options.DecryptIfNeeded against real
// servers, as a monitor probes them (no wait after the handshake unless a
// client certificate was asked for): openssl s_server and gnutls-serv in
// TLS 1.3 (decryption skipped, the report the same as with it; GnuTLS's
// session tickets sent with its Finished are seen and decrypted), and where
// the encrypted part holds what the analysis reads (decrypted, as
// before): a client certificate asked for but optional (the
// client-cert.requested finding comes from the encrypted
// CertificateRequest), ALPN chosen (in EncryptedExtensions), an OCSP
// staple (in the Certificate entry), and TLS 1.2.
func TestDecryptIfNeededPeers(t *testing.T) {
	w := getWorld(t)
	name := "lazy.peer.test"
	leaf := w.leaf(t, name, lab.LeafOptions{})
	expired := w.leaf(t, name, lab.LeafOptions{NotAfter: w.pki.Now.Add(-time.Hour)})
	inter := []*x509.Certificate{w.pki.Intermediate}
	gnutls := func(t *testing.T, extra ...string) string {
		cert, key, chain := w.serverFiles(t, "lazy-g", leaf, inter...)
		full := filepath.Join(t.TempDir(), "fullchain.pem")
		a, _ := os.ReadFile(cert)
		b, _ := os.ReadFile(chain)
		if err := os.WriteFile(full, append(a, b...), 0o600); err != nil {
			t.Fatal(err)
		}
		return peertest.Start(t, "gnutls-serv", append([]string{"-p", "{port}", "--x509certfile", full, "--x509keyfile", key}, extra...)...).Addr
	}
	cases := []struct {
		name string
		addr func(t *testing.T) string
		alpn []string
		// skip: decryption is skipped; unlessAfter: unless the server's
		// records after its Finished came with its flight (GnuTLS sends
		// two session tickets right after its Finished, and they are
		// read with it or not, as the packets come).
		skip, unlessAfter bool
	}{
		{"openssl-tls13", func(t *testing.T) string { return w.openssl(t, "lazy", leaf, inter, "-tls1_3") }, nil, true, false},
		{"openssl-tls13-expired", func(t *testing.T) string { return w.openssl(t, "lazy", expired, inter, "-tls1_3") }, nil, true, false},
		{"openssl-tls13-no-intermediate", func(t *testing.T) string { return w.openssl(t, "lazy", leaf, nil, "-tls1_3") }, nil, true, false},
		{"openssl-tls13-hrr", func(t *testing.T) string { return w.openssl(t, "lazy", leaf, inter, "-tls1_3", "-groups", "P-384") }, nil, true, false},
		{"openssl-tls13-alpn-offered-not-chosen", func(t *testing.T) string { return w.openssl(t, "lazy", leaf, inter, "-tls1_3") }, []string{"h2"}, true, false},
		{"openssl-tls13-alpn", func(t *testing.T) string { return w.openssl(t, "lazy", leaf, inter, "-tls1_3", "-alpn", "h2") }, []string{"h2"}, false, false},
		{"openssl-tls13-client-cert-optional", func(t *testing.T) string {
			return w.openssl(t, "lazy", leaf, inter, "-tls1_3", "-verify", "1", "-CAfile", w.files.ClientCA)
		}, nil, false, false},
		{"openssl-tls12", func(t *testing.T) string { return w.openssl(t, "lazy", leaf, inter, "-tls1_2") }, nil, false, false},
		{"gnutls-tls13", func(t *testing.T) string {
			return gnutls(t, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "--disable-client-cert")
		}, nil, true, true},
		// gnutls-serv asks for a client certificate unless told not to.
		{"gnutls-tls13-client-cert-optional", func(t *testing.T) string { return gnutls(t, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3") }, nil, false, false},
		{"gnutls-tls12", func(t *testing.T) string {
			return gnutls(t, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "--disable-client-cert")
		}, nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := c.addr(t)
			run := func(lazy bool) *diagnose.Report {
				return w.check(t, addr, name, func(o *Options) {
					o.DecryptIfNeeded, o.LingerOnlyIfAsked, o.ALPN = lazy, true, c.alpn
				})
			}
			fast, full := run(true), run(false)
			if diff := cmp.Diff(reportFacts(full), reportFacts(fast)); diff != "" {
				t.Errorf("decrypted (-) and not (+) differ:\n%s", diff)
			}
			if decryptionSkipped(full) {
				t.Errorf("DecryptIfNeeded off, yet the transcript was not decrypted")
			}
			want := c.skip
			if c.unlessAfter && !decryptionSkipped(fast) {
				want = false
				if !serverAfterFinished(fast) {
					t.Errorf("decrypted, yet no record of the server came after its Finished")
				}
			}
			if decryptionSkipped(fast) != want {
				logReport(t, fast)
				t.Errorf("decryption skipped: %v, want %v", decryptionSkipped(fast), want)
			}
		})
	}
	t.Run("openssl-tls13-stapled", func(t *testing.T) {
		// The staple is in the leaf's Certificate entry: decrypted.
		t.Parallel()
		rep := w.check(t, w.openssl(t, "lazy", leaf, inter, "-tls1_3", "-status_file", w.staple(t, "lazy", leaf, "V")), name,
			func(o *Options) { o.DecryptIfNeeded, o.LingerOnlyIfAsked = true, true })
		if decryptionSkipped(rep) || rep.OCSP == nil {
			t.Errorf("a stapled handshake: decryption skipped %v, OCSP %+v", decryptionSkipped(rep), rep.OCSP)
		}
	})
}

// TestRecordsAfterFinished: the server's records that came after its
// Finished, and only those, open with its application traffic secret. A
// crypto/tls server sends a session ticket right after its Finished
// (before the client's, which it predicts) when the client can use one
// (a client with a session cache); a recording read until the server is
// quiet holds it. Without a session cache it sends none, and the
// recording holds only the handshake. A recording cut inside a record
// cannot tell.
func TestRecordsAfterFinished(t *testing.T) {
	w := getWorld(t)
	addr := peertest.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{w.leaf(t, "after.peer.test", lab.LeafOptions{})}}, func(c *tls.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Read(make([]byte, 1))
	})
	for _, tickets := range []bool{false, true} {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{Conn: raw}
		rec.allow(maxHandshakeBytes, "before the handshake ended")
		keys := &secrets{}
		cfg := &tls.Config{ServerName: "after.peer.test", InsecureSkipVerify: true, KeyLogWriter: keys, MinVersion: tls.VersionTLS13}
		if tickets {
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
		}
		conn := tls.Client(rec, cfg)
		if err := conn.Handshake(); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		conn.Read(make([]byte, 1)) // a ticket, if any, then the deadline
		conn.Close()
		secret, ok := keys.secret(keylog.ServerTrafficSecret0)
		if !ok {
			t.Fatal("no SERVER_TRAFFIC_SECRET_0 in the key log")
		}
		crs := keys.log().ClientRandoms()
		if want, _ := keys.log().Secret(keylog.ServerTrafficSecret0, crs[0]); len(crs) != 1 || string(want) != string(secret) {
			t.Fatalf("secrets.secret %x, the parsed key log %x", secret, want)
		}
		var reads [][]byte
		for _, c := range rec.chunks {
			if c.from == transcript.Server && c.msg == nil && len(c.data) > 0 {
				reads = append(reads, c.data)
			}
		}
		suite := conn.ConnectionState().CipherSuite
		if after, ok := recordsAfterFinished(reads, suite, secret); after != tickets || !ok {
			t.Errorf("session tickets %v: records after the Finished %v (ok %v)", tickets, after, ok)
		}
		// The same bytes in one read: every record is tried.
		var all []byte
		for _, r := range reads {
			all = append(all, r...)
		}
		if after, ok := recordsAfterFinished([][]byte{all}, suite, secret); after != tickets || !ok {
			t.Errorf("session tickets %v, in one read: records after the Finished %v (ok %v)", tickets, after, ok)
		}
		if _, ok := recordsAfterFinished([][]byte{all[:len(all)-1]}, suite, secret); ok {
			t.Errorf("bytes cut inside a record: told")
		}
	}
}
