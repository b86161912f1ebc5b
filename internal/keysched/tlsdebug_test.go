package keysched

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/wire"
)

// The tls-debug oracles are tshark `-o tls.debug_file:` traces of the
// Wireshark test captures (testdata/tls-debug/README.md): for every
// connection they print the master secret, the key expansion seed (server
// and client randoms), the key block, and for every record the ciphertext
// and Wireshark's plaintext.

// debugRecord is one decrypted record of a trace.
type debugRecord struct {
	fromServer  bool
	contentType uint8
	ciphertext  []byte
	plaintext   []byte // Wireshark's decryption (CBC: with MAC and padding)
	finalLen    int    // CBC: length after removing padding, -1 for AEADs
	ok          bool   // Wireshark's MAC or tag check passed
}

// debugSession is one connection of a trace.
type debugSession struct {
	suite        uint16
	version      uint16
	preMaster    []byte
	masterSecret []byte
	clientRandom []byte
	serverRandom []byte
	keys         map[string][]byte // "Client Write key", "Server MAC key"…
	records      []*debugRecord
}

// parseDebugTrace reads a gzipped tls-debug trace.
func parseDebugTrace(t *testing.T, path string) []*debugSession {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sessions := map[string]*debugSession{}
	var order []*debugSession
	var cur *debugSession
	var fromServer bool
	var contentType uint8
	var rec *debugRecord

	var dumpName string
	var dump []byte
	finishDump := func() {
		if dumpName == "" || cur == nil {
			dumpName = ""
			return
		}
		b := dump
		switch {
		case dumpName == "(pre-)master secret" || dumpName == "master secret":
			cur.masterSecret = b
		case dumpName == "pre master secret":
			cur.preMaster = b
		case dumpName == "tls_hash: hash seed" && bytes.HasPrefix(b, []byte("key expansion")) && len(b) == 77:
			cur.serverRandom, cur.clientRandom = b[13:45], b[45:77]
		case strings.HasPrefix(dumpName, "Client ") || strings.HasPrefix(dumpName, "Server "):
			cur.keys[dumpName] = b
		case dumpName == "Ciphertext":
			rec = &debugRecord{fromServer: fromServer, contentType: contentType, ciphertext: b, finalLen: -1}
			cur.records = append(cur.records, rec)
		case dumpName == "Plaintext" && rec != nil:
			rec.plaintext = b
		case dumpName == "auth_tag(OK)" && rec != nil:
			rec.ok = true
		}
		dumpName = ""
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "| ") && dumpName != "" {
			// "| 14 00 00 0c … |ascii|": hex bytes between the first two bars.
			fields := strings.Fields(line[2:min(len(line), 2+16*3)])
			for _, h := range fields {
				v, err := strconv.ParseUint(h, 16, 8)
				if err != nil {
					break
				}
				dump = append(dump, byte(v))
			}
			continue
		}
		finishDump()
		switch {
		case strings.HasPrefix(line, "  conversation = "):
			id := strings.Fields(line)[2]
			if sessions[id] == nil {
				sessions[id] = &debugSession{keys: map[string][]byte{}}
				order = append(order, sessions[id])
			}
			cur = sessions[id]
		case strings.HasPrefix(line, "packet_from_server: is from server - "):
			fromServer = strings.HasSuffix(line, "TRUE")
		case strings.HasPrefix(line, "dissect_ssl3_record: content_type "):
			v, _ := strconv.Atoi(strings.Fields(line)[2])
			contentType = uint8(v)
		case strings.HasPrefix(line, "ssl_set_cipher found CIPHER 0x") && cur != nil:
			v, _ := strconv.ParseUint(strings.Fields(line)[3][2:], 16, 16)
			cur.suite = uint16(v)
		case strings.HasPrefix(line, "ssl_try_set_version found version 0x") && cur != nil:
			v, _ := strconv.ParseUint(strings.Fields(line)[3][2:], 16, 16)
			cur.version = uint16(v)
		case strings.HasPrefix(line, "ssl_decrypt_record found padding") && rec != nil:
			f := strings.Fields(line)
			rec.finalLen, _ = strconv.Atoi(f[len(f)-1])
		case line == "ssl_decrypt_record: mac ok" && rec != nil:
			rec.ok = true
		case strings.HasSuffix(line, "]:") && strings.Contains(line, "["):
			dumpName = line[:strings.LastIndex(line, "[")]
			dump = nil
		}
	}
	finishDump()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return order
}

// TestWiresharkOracles derives every key block of the Wireshark TLS 1.0 and
// 1.2 test captures from the logged master secret and opens every record
// Wireshark decrypted, comparing with Wireshark's plaintext.
func TestWiresharkOracles(t *testing.T) {
	files, err := filepath.Glob("testdata/tls-debug/*.txt.gz")
	if err != nil || len(files) < 6 {
		t.Fatalf("want the tls-debug oracles in testdata, got %v (%v)", files, err)
	}
	ciphers := map[wire.Cipher]int{}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			sessions := parseDebugTrace(t, path)
			total := 0
			for i, s := range sessions {
				if s.masterSecret == nil || len(s.records) == 0 {
					continue
				}
				suite, ok := LookupSuite(s.suite)
				if !ok {
					t.Fatalf("connection %d: suite 0x%04x unknown", i, s.suite)
				}
				if s.preMaster != nil {
					ms, err := MasterSecret(s.version, s.suite, s.preMaster, s.clientRandom, s.serverRandom)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(ms, s.masterSecret) {
						t.Errorf("connection %d: master secret %x, want %x", i, ms, s.masterSecret)
					}
				}
				kb, err := expandKeys(s.version, suite, s.masterSecret, s.clientRandom, s.serverRandom)
				if err != nil {
					t.Fatal(err)
				}
				for name, got := range map[string][]byte{
					"Client Write key": kb.clientKey, "Server Write key": kb.serverKey,
					"Client MAC key": kb.clientMAC, "Server MAC key": kb.serverMAC,
					"Client Write IV": kb.clientIV, "Server Write IV": kb.serverIV,
				} {
					want, ok := s.keys[name]
					if !ok || (len(got) == 0 && s.version >= VersionTLS11 && !suite.Cipher.AEAD()) {
						continue // TLS 1.1+ CBC IVs travel with each record; Wireshark derives unused ones
					}
					if !bytes.Equal(got, want) {
						t.Errorf("connection %d (%s): %s = %x, want %x", i, suite.Name, name, got, want)
					}
				}
				client, server, err := NewTLS12Openers(s.suite, s.version, s.masterSecret, s.clientRandom, s.serverRandom, false)
				if err != nil {
					t.Fatal(err)
				}
				for j, r := range s.records {
					if !r.ok {
						t.Fatalf("connection %d record %d: Wireshark could not decrypt it either", i, j)
					}
					o := client
					if r.fromServer {
						o = server
					}
					hdr := []byte{r.contentType, byte(s.version >> 8), byte(s.version), byte(len(r.ciphertext) >> 8), byte(len(r.ciphertext))}
					pt, typ, err := o.Open(hdr, r.ciphertext)
					if err != nil {
						t.Fatalf("connection %d (%s) record %d: %v", i, suite.Name, j, err)
					}
					want := r.plaintext
					if r.finalLen >= 0 {
						want = want[:r.finalLen-suite.MACLen]
					}
					if typ != r.contentType || !bytes.Equal(pt, want) {
						t.Errorf("connection %d record %d: got type %d %x\nwant type %d %x", i, j, typ, pt, r.contentType, want)
					}
					total++
				}
				ciphers[suite.Cipher]++
			}
			if total == 0 {
				t.Fatal("no records opened")
			}
			t.Logf("opened %d records", total)
		})
	}
	for _, c := range []wire.Cipher{wire.CipherAESGCM, wire.CipherChaCha20Poly1305, wire.CipherAESCCM, wire.CipherAESCBC} {
		if ciphers[c] == 0 {
			t.Errorf("no connection used %v", c)
		}
	}
}
