package keysched

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/keylog"

	"github.com/tlskit/tlskit/internal/peertest"
)

// These tests run real peers on loopback: openssl s_server in -rev mode
// (it answers each line reversed) and either a Go crypto/tls client with a
// KeyLogWriter, or openssl s_client behind a recording TCP proxy (for what
// Go does not speak: encrypt-then-MAC and the SHA-384 CBC suites). The raw
// bytes of both directions are split into records and every encrypted
// record is opened with keys derived from the key log.

// recorder collects the raw bytes of both directions.
type recorder struct {
	mu       sync.Mutex
	c2s, s2c bytes.Buffer
}

func (r *recorder) add(toServer bool, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if toServer {
		r.c2s.Write(p)
	} else {
		r.s2c.Write(p)
	}
}

func (r *recorder) snapshot() (c2s, s2c []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.c2s.Bytes()), bytes.Clone(r.s2c.Bytes())
}

// recordingConn is a client-side net.Conn that records what it carries.
type recordingConn struct {
	net.Conn
	rec *recorder
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.rec.add(false, p[:n])
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.rec.add(true, p[:n])
	return n, err
}

// writeCert writes a self-signed RSA certificate and key for s_server.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// startServer runs openssl s_server for one connection and returns its
// address and key log file.
func startServer(t *testing.T, ctx context.Context, dir, cert, key string, args ...string) (addr, keylogFile string) {
	t.Helper()
	keylogFile = filepath.Join(dir, "server.keys")
	all := append([]string{"s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key,
		"-rev", "-naccept", "1", "-keylogfile", keylogFile}, args...)
	cmd := exec.CommandContext(ctx, "openssl", all...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
			go io.Copy(io.Discard, out)
			return a, keylogFile
		}
	}
	t.Fatalf("openssl s_server did not start (%v)", sc.Err())
	return "", ""
}

const liveLine = "hello tlskit\n"

// runGoClient connects a crypto/tls client, sends liveLine and reads the
// reversed answer.
func runGoClient(t *testing.T, addr string, cfg *tls.Config) (*recorder, *keylog.Log) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rec := new(recorder)
	col := keylog.NewCollector(nil)
	cfg.KeyLogWriter = col
	cfg.InsecureSkipVerify = true // a throwaway self-signed certificate; the records are the point
	conn := tls.Client(&recordingConn{Conn: raw, rec: rec}, cfg)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(liveLine)); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := "tikslt olleh\n"; got != want {
		t.Fatalf("server answered %q, want %q", got, want)
	}
	return rec, col.Log()
}

// runOpenSSLClient runs openssl s_client through a recording proxy until
// the server's first application data record has passed.
func runOpenSSLClient(t *testing.T, ctx context.Context, dir, addr string, args ...string) (*recorder, *keylog.Log) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rec := new(recorder)
	go proxy(ln, addr, rec)
	keys := filepath.Join(dir, "client.keys")
	all := append([]string{"s_client", "-connect", ln.Addr().String(), "-keylogfile", keys, "-ign_eof"}, args...)
	cmd := exec.CommandContext(ctx, "openssl", all...)
	cmd.Stdin = strings.NewReader(liveLine)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// Wait for the application secrets in the key log, then for both
	// directions to be quiet for 300 ms (the reversed line has arrived).
	deadline := time.Now().Add(10 * time.Second)
	var lastLen int
	quietSince := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		c2s, s2c := rec.snapshot()
		if n := len(c2s) + len(s2c); n != lastLen {
			lastLen, quietSince = n, time.Now()
			continue
		}
		b, _ := os.ReadFile(keys)
		ready := bytes.Contains(b, []byte(keylog.ClientRandom+" ")) || bytes.Contains(b, []byte(keylog.ServerTrafficSecret0+" "))
		if ready && countType(s2c, TypeApplicationData) > 0 && time.Since(quietSince) > 300*time.Millisecond {
			break
		}
	}
	kl, err := keylog.ParseFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	return rec, kl
}

// proxy forwards one connection from ln to addr, recording both directions.
func proxy(ln net.Listener, addr string, rec *recorder) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	s, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer s.Close()
	pipe := func(dst, src net.Conn, toServer bool) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				rec.add(toServer, buf[:n])
				dst.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(s, c, true)
	pipe(c, s, false)
}

// splitRecords cuts a byte stream into TLS records, ignoring a torn tail.
func splitRecords(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 5 {
		n := 5 + int(binary.BigEndian.Uint16(b[3:5]))
		if len(b) < n {
			break
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func countType(b []byte, typ uint8) int {
	n := 0
	for _, r := range splitRecords(b) {
		if r[0] == typ {
			n++
		}
	}
	return n
}

// hello holds what the test needs from the plaintext hellos.
type hello struct {
	clientRandom, serverRandom []byte
	suite, version             uint16
	etm                        bool
}

// parseHellos reads the randoms, suite, version and encrypt_then_mac from
// the first record of each direction.
func parseHellos(t *testing.T, c2s, s2c [][]byte) hello {
	t.Helper()
	var h hello
	ch, sh := c2s[0][5:], s2c[0][5:]
	if c2s[0][0] != TypeHandshake || ch[0] != 1 || sh[0] != 2 {
		t.Fatal("first records are not ClientHello and ServerHello")
	}
	h.clientRandom, h.serverRandom = ch[6:38], sh[6:38]
	p := 38
	p += 1 + int(sh[p])
	h.suite = binary.BigEndian.Uint16(sh[p:])
	h.version = binary.BigEndian.Uint16(sh[4:])
	p += 3
	end := 4 + (int(sh[1])<<16 | int(sh[2])<<8 | int(sh[3]))
	if p+2 <= end {
		p += 2
		for p+4 <= end {
			typ, n := binary.BigEndian.Uint16(sh[p:]), int(binary.BigEndian.Uint16(sh[p+2:]))
			switch typ {
			case 0x002b: // supported_versions
				h.version = binary.BigEndian.Uint16(sh[p+4:])
			case 0x0016: // encrypt_then_mac
				h.etm = true
			}
			p += 4 + n
		}
	}
	return h
}

// direction opens one direction's records, switching TLS 1.3 keys after
// the Finished message.
type direction struct {
	name       string
	opener     *Opener
	next       []byte // TLS 1.3 application traffic secret, installed after Finished
	suite      uint16
	hs         []byte // TLS 1.3 handshake message buffer
	app        []byte
	opened     int
	afterCCS   bool
	keyUpdates int
}

func (d *direction) open(t *testing.T, r []byte, tls13 bool) {
	t.Helper()
	if r[0] == TypeChangeCipherSpec {
		d.afterCCS = true
		return
	}
	if tls13 && r[0] != TypeApplicationData || !tls13 && !d.afterCCS {
		return // plaintext
	}
	pt, typ, err := d.opener.Open(r[:5], r[5:])
	if err != nil {
		t.Fatalf("%s record %d: %v", d.name, d.opener.Seq(), err)
	}
	d.opened++
	switch typ {
	case TypeApplicationData:
		d.app = append(d.app, pt...)
	case TypeHandshake:
		if tls13 && d.next == nil && hasHandshake(pt, 24) {
			// KeyUpdate (RFC 8446 §4.6.3): later records use the next secret.
			if err := d.opener.KeyUpdate(); err != nil {
				t.Fatal(err)
			}
			d.keyUpdates++
		}
		if !tls13 || d.next == nil {
			return
		}
		d.hs = append(d.hs, pt...)
		for len(d.hs) >= 4 {
			n := 4 + (int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3]))
			if len(d.hs) < n {
				break
			}
			fin := d.hs[0] == 20
			d.hs = d.hs[n:]
			if fin {
				o, err := NewTLS13Opener(d.suite, d.next)
				if err != nil {
					t.Fatal(err)
				}
				d.opener, d.next = o, nil
				break
			}
		}
	}
}

// decryptCapture opens every encrypted record of both directions and
// returns the application data each side sent.
func decryptCapture(t *testing.T, rec *recorder, kl *keylog.Log) (h hello, c, s *direction) {
	t.Helper()
	rc, rs := rec.snapshot()
	c2s, s2c := splitRecords(rc), splitRecords(rs)
	h = parseHellos(t, c2s, s2c)
	secret := func(label string) []byte {
		b, ok := kl.Secret(label, h.clientRandom)
		if !ok {
			t.Fatalf("key log lacks %s for this connection", label)
		}
		return b
	}
	c, s = &direction{name: "client", suite: h.suite}, &direction{name: "server", suite: h.suite}
	var err error
	tls13 := h.version == VersionTLS13
	if tls13 {
		if c.opener, err = NewTLS13Opener(h.suite, secret(keylog.ClientHandshakeTrafficSecret)); err != nil {
			t.Fatal(err)
		}
		if s.opener, err = NewTLS13Opener(h.suite, secret(keylog.ServerHandshakeTrafficSecret)); err != nil {
			t.Fatal(err)
		}
		c.next, s.next = secret(keylog.ClientTrafficSecret0), secret(keylog.ServerTrafficSecret0)
	} else {
		c.opener, s.opener, err = NewTLS12Openers(h.suite, h.version, secret(keylog.ClientRandom), h.clientRandom, h.serverRandom, h.etm)
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range c2s {
		c.open(t, r, tls13)
	}
	for _, r := range s2c {
		s.open(t, r, tls13)
	}
	return h, c, s
}

func TestLiveOpenSSL(t *testing.T) {
	peertest.Need(t, "openssl")
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	for _, tc := range []struct {
		name       string
		serverArgs []string
		goClient   *tls.Config // nil: openssl s_client with clientArgs
		clientArgs []string
		suite      uint16
		etm        bool
	}{
		{name: "TLS13-AES128GCM", serverArgs: []string{"-ciphersuites", "TLS_AES_128_GCM_SHA256"},
			goClient: &tls.Config{MinVersion: tls.VersionTLS13}, suite: 0x1301},
		{name: "TLS13-AES256GCM", serverArgs: []string{"-ciphersuites", "TLS_AES_256_GCM_SHA384"},
			goClient: &tls.Config{MinVersion: tls.VersionTLS13}, suite: 0x1302},
		{name: "TLS13-CHACHA20", serverArgs: []string{"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"},
			goClient: &tls.Config{MinVersion: tls.VersionTLS13}, suite: 0x1303},
		{name: "TLS13-AES128CCM-openssl", serverArgs: []string{"-ciphersuites", "TLS_AES_128_CCM_SHA256"},
			clientArgs: []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"}, suite: 0x1304},
		{name: "TLS12-ECDHE-RSA-AES128-GCM", serverArgs: []string{"-cipher", "ECDHE-RSA-AES128-GCM-SHA256"},
			goClient: &tls.Config{MaxVersion: tls.VersionTLS12}, suite: 0xC02F},
		{name: "TLS12-ECDHE-RSA-CHACHA20", serverArgs: []string{"-cipher", "ECDHE-RSA-CHACHA20-POLY1305"},
			goClient: &tls.Config{MaxVersion: tls.VersionTLS12}, suite: 0xCCA8},
		{name: "TLS12-ECDHE-RSA-AES128-SHA256", serverArgs: []string{"-cipher", "ECDHE-RSA-AES128-SHA256"},
			goClient: &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}}, suite: 0xC027},
		{name: "TLS12-ECDHE-RSA-AES128-SHA256-EtM-openssl", serverArgs: []string{"-cipher", "ECDHE-RSA-AES128-SHA256"},
			clientArgs: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"}, suite: 0xC027, etm: true},
		{name: "TLS12-ECDHE-RSA-AES128-SHA256-noEtM-openssl", serverArgs: []string{"-cipher", "ECDHE-RSA-AES128-SHA256", "-no_etm"},
			clientArgs: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"}, suite: 0xC027},
		{name: "TLS12-ECDHE-RSA-AES256-SHA384-openssl", serverArgs: []string{"-cipher", "ECDHE-RSA-AES256-SHA384"},
			clientArgs: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384"}, suite: 0xC028, etm: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			sdir := t.TempDir()
			addr, serverKeys := startServer(t, ctx, sdir, cert, key, tc.serverArgs...)
			var rec *recorder
			var kl *keylog.Log
			if tc.goClient != nil {
				rec, kl = runGoClient(t, addr, tc.goClient)
			} else {
				rec, kl = runOpenSSLClient(t, ctx, sdir, addr, tc.clientArgs...)
			}
			h, c, s := decryptCapture(t, rec, kl)
			if h.suite != tc.suite || h.etm != tc.etm {
				t.Fatalf("negotiated suite 0x%04x etm %v, want 0x%04x etm %v", h.suite, h.etm, tc.suite, tc.etm)
			}
			if string(c.app) != liveLine {
				t.Errorf("client application data = %q, want %q", c.app, liveLine)
			}
			if !strings.HasPrefix(string(s.app), "tikslt olleh\n") {
				t.Errorf("server application data = %q, want the reversed line", s.app)
			}
			if c.opened < 2 || s.opened < 2 {
				t.Errorf("opened %d client and %d server records, want at least 2 each", c.opened, s.opened)
			}
			// The server's key log agrees with the client's.
			skl, err := keylog.ParseFile(serverKeys)
			if err != nil {
				t.Fatal(err)
			}
			label := keylog.ClientRandom
			if h.version == VersionTLS13 {
				label = keylog.ServerTrafficSecret0
			}
			a, _ := kl.Secret(label, h.clientRandom)
			b, ok := skl.Secret(label, h.clientRandom)
			if !ok || !bytes.Equal(a, b) {
				t.Errorf("server key log %s = %x, client's = %x", label, b, a)
			}
		})
	}
}

// TestLiveExtendedMasterSecret checks ExtendedMasterSecret (RFC 7627)
// against OpenSSL: a TLS 1.2 plain-PSK connection (so the test knows the
// pre-master secret) with extended_master_secret, whose master secret
// s_client writes to its key log.
func TestLiveExtendedMasterSecret(t *testing.T) {
	peertest.Need(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	const pskHex = "ca19e028a8a372ad2d325f950fcaceed"
	addr, _ := startServer(t, ctx, dir, cert, key, "-psk", pskHex, "-cipher", "PSK-AES128-GCM-SHA256", "-nocert")
	rec, kl := runOpenSSLClient(t, ctx, dir, addr, "-tls1_2", "-psk", pskHex, "-cipher", "PSK-AES128-GCM-SHA256")
	rc, rs := rec.snapshot()
	c2s, s2c := splitRecords(rc), splitRecords(rs)
	h := parseHellos(t, c2s, s2c)
	if h.suite != 0x00A8 {
		t.Fatalf("negotiated 0x%04x, want PSK_WITH_AES_128_GCM_SHA256", h.suite)
	}
	// extended_master_secret (type 0x0017) in the ServerHello.
	if !bytes.Contains(s2c[0][5:], []byte{0x00, 0x17, 0x00, 0x00}) {
		t.Fatal("server did not negotiate extended_master_secret")
	}
	// Session hash: every handshake message before ClientKeyExchange's end,
	// in order: ClientHello, the server's first flight, ClientKeyExchange.
	plainHandshake := func(recs [][]byte) []byte {
		var b []byte
		for _, r := range recs {
			if r[0] == TypeChangeCipherSpec {
				break
			}
			if r[0] == TypeHandshake {
				b = append(b, r[5:]...)
			}
		}
		return b
	}
	c, s := plainHandshake(c2s), plainHandshake(s2c)
	chLen := 4 + (int(c[1])<<16 | int(c[2])<<8 | int(c[3]))
	// The server's flight ends with ServerHelloDone; a NewSessionTicket
	// may follow before its ChangeCipherSpec, after ClientKeyExchange.
	for p := 0; p+4 <= len(s); {
		typ := s[p]
		p += 4 + (int(s[p+1])<<16 | int(s[p+2])<<8 | int(s[p+3]))
		if typ == 14 && p <= len(s) {
			s = s[:p]
			break
		}
	}
	transcript := append(append(append([]byte(nil), c[:chLen]...), s...), c[chLen:]...)
	sessionHash := sha256.Sum256(transcript)

	psk := unhex(t, pskHex)
	// RFC 4279 §2: uint16 N, N zero bytes, uint16 N, the PSK.
	pms := binary.BigEndian.AppendUint16(nil, uint16(len(psk)))
	pms = append(pms, make([]byte, len(psk))...)
	pms = binary.BigEndian.AppendUint16(pms, uint16(len(psk)))
	pms = append(pms, psk...)
	ems, err := ExtendedMasterSecret(VersionTLS12, h.suite, pms, sessionHash[:])
	if err != nil {
		t.Fatal(err)
	}
	want, ok := kl.Secret(keylog.ClientRandom, h.clientRandom)
	if !ok || !bytes.Equal(ems, want) {
		t.Fatalf("extended master secret = %x, key log says %x", ems, want)
	}
	plain, err := MasterSecret(VersionTLS12, h.suite, pms, h.clientRandom, h.serverRandom)
	if err != nil || bytes.Equal(plain, want) {
		t.Errorf("the non-EMS master secret matched too: %x, %v", plain, err)
	}
	_, cd, sd := decryptCapture(t, rec, kl)
	if string(cd.app) != liveLine || !strings.HasPrefix(string(sd.app), "tikslt olleh") {
		t.Errorf("application data %q / %q", cd.app, sd.app)
	}
}

// TestLiveKeyUpdate has openssl s_client send a KeyUpdate that requests
// the server's ("K" on its command line), and follows both directions
// into their next traffic secrets.
func TestLiveKeyUpdate(t *testing.T) {
	peertest.Need(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	addr, _ := startServer(t, ctx, dir, cert, key, "-ciphersuites", "TLS_AES_256_GCM_SHA384")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rec := new(recorder)
	go proxy(ln, addr, rec)
	keys := filepath.Join(dir, "client.keys")
	cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", ln.Addr().String(), "-tls1_3", "-keylogfile", keys)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitGrowth := func() {
		_, before := rec.snapshot()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, now := rec.snapshot(); len(now) > len(before) {
				time.Sleep(100 * time.Millisecond)
				return
			}
		}
		t.Fatalf("server did not answer (%d bytes from the server so far)", len(before))
	}
	time.Sleep(300 * time.Millisecond) // handshake and tickets
	for _, line := range []string{"hello tlskit\n", "K\n", "second line\n"} {
		io.WriteString(stdin, line)
		if line == "K\n" {
			// OpenSSL answers the KeyUpdate with its own only when it next writes.
			time.Sleep(200 * time.Millisecond)
			continue
		}
		waitGrowth()
	}
	kl, err := keylog.ParseFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	_, c, s := decryptCapture(t, rec, kl)
	// OpenSSL logs the updated secrets as *_TRAFFIC_SECRET_N.
	for _, labels := range [][2]string{{keylog.ClientTrafficSecret0, keylog.ClientTrafficSecretN}, {keylog.ServerTrafficSecret0, keylog.ServerTrafficSecretN}} {
		cr := kl.ClientRandoms()[0]
		s0, _ := kl.Secret(labels[0], cr)
		sn, ok := kl.Secret(labels[1], cr)
		next, err := NextTrafficSecret(0x1302, s0)
		if err != nil || !ok || !bytes.Equal(next, sn) {
			t.Errorf("NextTrafficSecret(%s) = %x, OpenSSL logged %s %x", labels[0], next, labels[1], sn)
		}
	}
	if c.keyUpdates != 1 || s.keyUpdates != 1 {
		t.Errorf("KeyUpdates: client %d, server %d; want 1 each", c.keyUpdates, s.keyUpdates)
	}
	if string(c.app) != "hello tlskit\nsecond line\n" {
		t.Errorf("client application data = %q", c.app)
	}
	if !strings.Contains(string(s.app), "enil dnoces") {
		t.Errorf("server application data = %q, want the reversed second line", s.app)
	}
}
