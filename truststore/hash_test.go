package truststore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// vector is one row of testdata/hash-vectors/vectors.txt.
type vector struct {
	file, hash, old, sha256, canon string
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/hash-vectors/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "    canon="):
			vs[len(vs)-1].canon = strings.TrimPrefix(line, "    canon=")
		case strings.HasPrefix(line, "    "):
		default:
			parts := strings.Split(line, " | ")
			if len(parts) != 4 {
				t.Fatalf("bad vector line %q", line)
			}
			vs = append(vs, vector{file: parts[0], hash: parts[1], old: parts[2], sha256: strings.ToLower(parts[3])})
		}
	}
	if len(vs) != 13 {
		t.Fatalf("read %d vectors, want 13", len(vs))
	}
	return vs
}

func loadPEM(t testing.TB, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBundle(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(b.Certs) != 1 {
		t.Fatalf("%s: %d certificates, want 1", file, len(b.Certs))
	}
	return b.Certs[0]
}

func TestSubjectHashVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(v.file, func(t *testing.T) {
			c := loadPEM(t, filepath.Join("testdata/hash-vectors", v.file))
			sum := sha256.Sum256(c.Raw)
			if got := hex.EncodeToString(sum[:]); got != v.sha256 {
				t.Fatalf("sha256 = %s, want %s (wrong file?)", got, v.sha256)
			}
			canon, err := CanonicalName(c.RawSubject)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(canon); got != v.canon {
				t.Errorf("canonical encoding\n got %s\nwant %s", got, v.canon)
			}
			h, err := SubjectHash(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := formatHash(h); got != v.hash {
				t.Errorf("SubjectHash = %s, want %s", got, v.hash)
			}
			if got := formatHash(SubjectHashOld(c)); got != v.old {
				t.Errorf("SubjectHashOld = %s, want %s", got, v.old)
			}
		})
	}
}

// TestSubjectHashSystemLinks checks every HASH.N link in this machine's
// /etc/ssl/certs, which update-ca-certificates made with `openssl rehash`:
// the certificate a link names must hash to the link's name.
func TestSubjectHashSystemLinks(t *testing.T) {
	ents, err := os.ReadDir("/etc/ssl/certs")
	if err != nil {
		peertest.Skip(t, "no /etc/ssl/certs: %v", err)
	}
	n := 0
	for _, e := range ents {
		h, _, ok := hashName(e.Name())
		if !ok {
			continue
		}
		c := loadPEM(t, filepath.Join("/etc/ssl/certs", e.Name()))
		got, err := SubjectHash(c)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if got != h {
			t.Errorf("%s: SubjectHash = %08x (subject %s)", e.Name(), got, c.Subject)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("checked only %d hash links in /etc/ssl/certs; expected a full Debian store", n)
	}
	t.Logf("checked %d hash links", n)
}

// TestSubjectHashOpenSSLSample compares both hashes with `openssl x509
// -subject_hash -subject_hash_old` for 20 of this machine's roots and every
// vector file (one openssl process per certificate).
func TestSubjectHashOpenSSLSample(t *testing.T) {
	peertest.Need(t, "openssl")
	files, _ := filepath.Glob("/etc/ssl/certs/*.pem")
	vecs, _ := filepath.Glob("testdata/hash-vectors/*.pem")
	if len(files) > 20 {
		step := len(files) / 20
		var sample []string
		for i := 0; i < len(files) && len(sample) < 20; i += step {
			sample = append(sample, files[i])
		}
		files = sample
	}
	for _, f := range append(files, vecs...) {
		out, err := exec.Command("openssl", "x509", "-noout", "-subject_hash", "-subject_hash_old", "-in", f).Output()
		if err != nil {
			t.Fatalf("openssl x509 %s: %v", f, err)
		}
		want := strings.Fields(string(out))
		c := loadPEM(t, f)
		h, err := SubjectHash(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := []string{formatHash(h), formatHash(SubjectHashOld(c))}; got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: got %v, openssl says %v", f, got, want)
		}
	}
}

func TestCanonicalNameErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		der  []byte
	}{
		{"empty", nil},
		{"not a sequence", []byte{0x31, 0x00}},
		{"truncated", []byte{0x30, 0x05, 0x31}},
		{"trailing", []byte{0x30, 0x00, 0x00}},
		{"huge length", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}},
		{"indefinite", []byte{0x30, 0x80, 0x00, 0x00}},
		{"RDN not a set", []byte{0x30, 0x02, 0x30, 0x00}},
		{"bad utf8", []byte{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 0xff}},
		{"odd BMP", []byte{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x01, 0x41}},
		{"surrogate BMP", []byte{0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x02, 0xd8, 0x00}},
		{"non-minimal length", []byte{0x30, 0x81, 0x00}},
	} {
		if _, err := SubjectHashDER(tc.der); err == nil {
			t.Errorf("%s: no error for % x", tc.name, tc.der)
		}
	}
	// A whole certificate instead of its subject names the mistake.
	c := loadPEM(t, "testdata/hash-vectors/sys-1-ISRG_Root_X1.pem")
	if _, err := SubjectHashDER(c.Raw); err == nil {
		t.Error("SubjectHashDER accepted a whole certificate")
	}
}

func TestCanonicalStringTypes(t *testing.T) {
	// CN as BMPString "AB" and as T61String with a Latin-1 byte: both are
	// re-encoded as lower-cased UTF8String.
	cn := func(tag byte, val []byte) []byte {
		atv := appendTLV(nil, tagOID, []byte{0x55, 0x04, 0x03})
		atv = appendTLV(atv, tag, val)
		return appendTLV(nil, tagSequence, appendTLV(nil, tagSet, appendTLV(nil, tagSequence, atv)))
	}
	bmp, err := CanonicalName(cn(tagBMPString, []byte{0, 'A', 0, 'B'}))
	if err != nil {
		t.Fatal(err)
	}
	utf, _ := CanonicalName(cn(tagUTF8String, []byte(" ab ")))
	if !bytes.Equal(bmp, utf) {
		t.Errorf("BMPString AB and UTF8String ' ab ' differ: % x vs % x", bmp, utf)
	}
	t61, _ := CanonicalName(cn(tagT61String, []byte{'X', 0xd6}))
	if want := "0c03" + "78c396"; !strings.Contains(hex.EncodeToString(t61), want) {
		t.Errorf("T61String canon %x lacks %s (Latin-1 Ö kept upper-case)", t61, want)
	}
	num, _ := CanonicalName(cn(0x12, []byte("12 34")))
	if !strings.Contains(hex.EncodeToString(num), "120531322033") {
		t.Errorf("NumericString was changed: %x", num)
	}
}

func TestParseBundleErrors(t *testing.T) {
	c := loadPEM(t, "testdata/hash-vectors/sys-1-ISRG_Root_X1.pem")
	key := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"der", c.Raw, "DER certificate"},
		{"key", key, "PRIVATE KEY"},
		{"junk", []byte{0, 1, 2, 0xff, 0xfe}, "neither PEM nor DER"},
		{"text", []byte("hello\n"), "text without PEM"},
		{"truncated", []byte("-----BEGIN CERTIFICATE-----\nMIIB"), "BEGIN line"},
	} {
		_, err := ParseBundle(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	// TRUSTED CERTIFICATE blocks are noted, and do not hide real ones.
	mixed := append(pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: c.Raw}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	b, err := ParseBundle(mixed)
	if err != nil || len(b.Certs) != 1 || len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0], "TRUSTED CERTIFICATE") {
		t.Errorf("mixed bundle: %v, %+v", err, b)
	}
}
