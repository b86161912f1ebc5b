package dn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestAsOpenSSL holds String to what `openssl x509 -nameopt
// RFC2253,-esc_msb` prints for every distinct name (subject and issuer)
// of the conformance corpora (x509-limbo, BetterTLS, badssl), the hash
// vectors, this machine's roots, certificates openssl req made with every
// attribute type of the table, and names built here for the corners
// (string types, escapes, controls, multi-valued RDNs, values that are not
// text, types without a name). Where this package is deliberately
// different (see the package doc), the name is listed with the reason and
// the difference is allowed.
func TestAsOpenSSL(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	dir := t.TempDir()
	// The corpora hold some 30,000 distinct names, mostly alike (x509-limbo
	// names each case's certificates); openssl is asked about one
	// certificate of each shape of name (see shape), which covers every
	// form of them in some 60 runs instead of 20,000 (eight minutes here;
	// TLSKIT_DN_ALL=1 asks about every distinct name).
	all := os.Getenv("TLSKIT_DN_ALL") == "1"
	names := map[string]bool{}  // the distinct names, DER
	shapes := map[string]bool{} // their shapes
	var certs [][]byte          // certificates that hold every shape
	add := func(der []byte) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			// crypto/x509 refuses it, and tlskit never describes a
			// certificate it could not parse.
			return
		}
		names[string(c.RawSubject)], names[string(c.RawIssuer)] = true, true
		s, i := shape(c.RawSubject), shape(c.RawIssuer)
		if all {
			s, i = string(c.RawSubject), string(c.RawIssuer)
		}
		if shapes[s] && shapes[i] {
			return
		}
		shapes[s], shapes[i] = true, true
		certs = append(certs, der)
	}
	addPEM := func(b []byte) {
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				return
			}
			if blk.Type == "CERTIFICATE" {
				add(blk.Bytes)
			}
		}
	}

	var limbo struct {
		Testcases []struct {
			Peer          string   `json:"peer_certificate"`
			Trusted       []string `json:"trusted_certs"`
			Intermediates []string `json:"untrusted_intermediates"`
		} `json:"testcases"`
	}
	peertest.CorpusJSON(t, "x509-limbo/limbo.json.gz", &limbo)
	for _, tc := range limbo.Testcases {
		for _, p := range append(append([]string{tc.Peer}, tc.Trusted...), tc.Intermediates...) {
			addPEM([]byte(p))
		}
	}
	var better struct {
		TrustRoot string `json:"trustRoot"`
		Suites    map[string]struct {
			TestCases []struct {
				Certificates []string `json:"certificates"`
			} `json:"testCases"`
		} `json:"suites"`
	}
	peertest.CorpusJSON(t, "bettertls/bettertls-tests.json.gz", &better)
	for _, s := range better.Suites {
		for _, tc := range s.TestCases {
			for _, b := range tc.Certificates {
				der, _ := base64.StdEncoding.DecodeString(b)
				add(der)
			}
		}
	}
	for _, root := range []string{peertest.Corpus(t, "badssl"), peertest.Corpus(t, "hash-vectors")} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pem") || strings.HasSuffix(p, ".crt")) {
				if b, err := os.ReadFile(p); err == nil {
					addPEM(b)
				}
			}
			return nil
		})
	}
	if b, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		addPEM(b)
	} else {
		peertest.Skip(t, "this machine's roots: %v", err)
	}
	fromCorpora, corporaShapes := len(names), len(shapes)

	// Every attribute type of the table, made by openssl req.
	var subj strings.Builder
	for n := 3; n <= 100; n++ {
		if x520(n) != "" {
			fmt.Fprintf(&subj, "/2.5.4.%d=v%d", n, n)
		}
	}
	for n := 1; n <= 60; n++ {
		if pilot(n) != "" {
			fmt.Fprintf(&subj, "/0.9.2342.19200300.100.1.%d=p%d", n, n)
		}
	}
	subj.WriteString("/1.2.840.113549.1.9.1=e@x.test/1.2.840.113549.1.9.2=un/1.2.840.113549.1.9.8=ua")
	subj.WriteString("/1.3.6.1.4.1.311.60.2.1.1=jl/1.3.6.1.4.1.311.60.2.1.2=jst/1.3.6.1.4.1.311.60.2.1.3=DE")
	for i, s := range []string{
		strings.Replace(subj.String(), "/2.5.4.6=v6", "/2.5.4.6=DE", 1),
		`/DC=test/DC=example/C=DE/ST=Baden-Württemberg/O=Ü, Inc. "q" <x>;/OU=a+OU=b/CN=#lead \+plus\/slash\\back =eq /emailAddress=ops@example.test/UID=u1/serialNumber=42`,
	} {
		s = strings.NewReplacer("/2.5.4.98=v98", "/2.5.4.98=DEU", "/2.5.4.99=v99", "/2.5.4.99=276").Replace(s)
		cert := filepath.Join(dir, fmt.Sprintf("req%d.pem", i))
		out, err := exec.Command(openssl, "req", "-x509", "-nodes", "-days", "2", "-utf8", "-multivalue-rdn",
			"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", filepath.Join(dir, "key.pem"),
			"-out", cert, "-subj", s).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl req: %v\n%s", err, out)
		}
		b, _ := os.ReadFile(cert)
		addPEM(b)
	}
	// The corners, built here.
	for _, rdns := range corners {
		add(selfSigned(t, rdns))
	}

	// Ask openssl, two at a time.
	type answer struct {
		der   []byte
		lines string
		err   error
	}
	answers := make([]answer, len(certs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, der := range certs {
		f := filepath.Join(dir, fmt.Sprintf("c%d.der", i))
		if err := os.WriteFile(f, der, 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := exec.Command(openssl, "x509", "-inform", "DER", "-in", f, "-noout", "-subject", "-issuer",
				"-nameopt", "RFC2253,-esc_msb").Output()
			answers[i] = answer{der, string(out), err}
		})
	}
	wg.Wait()

	checked, allowed := 0, 0
	for _, a := range answers {
		if a.err != nil {
			t.Errorf("openssl x509: %v", a.err)
			continue
		}
		c, _ := x509.ParseCertificate(a.der)
		subject, issuer, ok := strings.Cut(strings.TrimSuffix(a.lines, "\n"), "\nissuer=")
		if !ok || !strings.HasPrefix(subject, "subject=") {
			t.Errorf("openssl printed %q", a.lines)
			continue
		}
		for _, n := range []struct {
			raw  []byte
			want string
		}{{c.RawSubject, strings.TrimPrefix(subject, "subject=")}, {c.RawIssuer, issuer}} {
			got := String(n.raw)
			checked++
			if got == n.want {
				continue
			}
			if why := deliberate(n.raw); why != "" {
				allowed++
				t.Logf("deliberately different (%s):\n  tlskit  %q\n  openssl %q", why, got, n.want)
				continue
			}
			t.Errorf("name %X:\n  tlskit  %q\n  openssl %q", n.raw, got, n.want)
		}
	}
	t.Logf("%d distinct names (%d from the corpora and this machine's roots) of %d shapes (%d from them), %d certificates, %d names compared, %d deliberately different",
		len(names), fromCorpora, len(shapes), corporaShapes, len(certs), checked, allowed)
	if fromCorpora < 10000 || corporaShapes < 50 {
		t.Errorf("only %d distinct names of %d shapes in the corpora", fromCorpora, corporaShapes)
	}
}

// shape is what tells names apart for printing: the types of each RDN,
// with their values' tags and the kinds of character in the values that
// printing treats differently (none, specials, a leading '#', spaces at
// either end, controls, beyond ASCII).
func shape(der []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdns); err != nil {
		return fmt.Sprintf("unparsed %X", der)
	}
	vals := rawValues(der)
	var b strings.Builder
	k := 0
	for _, rdn := range rdns {
		b.WriteString("/")
		for _, a := range rdn {
			fmt.Fprintf(&b, "+%s:", a.Type)
			if k < len(vals) {
				v := vals[k]
				fmt.Fprintf(&b, "%d", v.Tag)
				s := string(v.Bytes)
				switch {
				case s == "":
					b.WriteString("empty")
				case s[0] == '#':
					b.WriteString("#")
				}
				if strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
					b.WriteString("sp")
				}
				if strings.ContainsAny(s, `,+"\<>;`) {
					b.WriteString("esc")
				}
				if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
					b.WriteString("ctl")
				}
				if strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) >= 0 {
					b.WriteString("hi")
				}
			}
			k++
		}
	}
	return b.String()
}

// deliberate says why String writes the name der otherwise than OpenSSL,
// or "" when it should not (see the package doc).
func deliberate(der []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdns); err != nil {
		return ""
	}
	for _, rdn := range rdns {
		for _, a := range rdn {
			if o, err := asn1.Marshal(a.Type); err != nil || shortName(o[2:]) == "" {
				return "a type outside the table: " + a.Type.String()
			}
			if s, ok := a.Value.(string); ok && s == "#" {
				return "a value of one '#', escaped as RFC 4514 asks"
			}
		}
	}
	// Values that are not valid in their string type.
	for _, v := range rawValues(der) {
		switch v.Tag {
		case 12:
			if !utf8.Valid(v.Bytes) {
				return "a UTF8String that is not UTF-8"
			}
		case 30:
			if len(v.Bytes)%2 != 0 {
				return "a BMPString of odd length"
			}
			for i := 0; i+1 < len(v.Bytes); i += 2 {
				if r := rune(v.Bytes[i])<<8 | rune(v.Bytes[i+1]); r >= 0xd800 && r < 0xe000 {
					return "a BMPString with a surrogate"
				}
			}
		case 28:
			if len(v.Bytes)%4 != 0 {
				return "a UniversalString whose length is not a multiple of 4"
			}
			for i := 0; i+3 < len(v.Bytes); i += 4 {
				if r := rune(v.Bytes[i])<<24 | rune(v.Bytes[i+1])<<16 | rune(v.Bytes[i+2])<<8 | rune(v.Bytes[i+3]); !utf8.ValidRune(r) {
					return "a UniversalString beyond Unicode"
				}
			}
		}
	}
	return ""
}

// isName reports whether der is a Name in structure: a SEQUENCE of SETs
// of SEQUENCEs of an OID and one element, nothing after any of them. A
// value's tag in the high-tag-number form (31 and above, which no string
// type has) makes the name unreadable, as cryptobyte reads it.
func isName(der []byte) bool {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 || seq.Class != 0 || seq.Tag != 16 || !seq.IsCompound {
		return false
	}
	for in := seq.Bytes; len(in) > 0; {
		var set asn1.RawValue
		var err error
		if in, err = asn1.Unmarshal(in, &set); err != nil || set.Class != 0 || set.Tag != 17 || !set.IsCompound {
			return false
		}
		for atvs := set.Bytes; len(atvs) > 0; {
			var atv asn1.RawValue
			if atvs, err = asn1.Unmarshal(atvs, &atv); err != nil || atv.Class != 0 || atv.Tag != 16 || !atv.IsCompound {
				return false
			}
			var oid asn1.ObjectIdentifier
			rest, err := asn1.Unmarshal(atv.Bytes, &oid)
			if err != nil {
				return false
			}
			var v asn1.RawValue
			if rest, err = asn1.Unmarshal(rest, &v); err != nil || len(rest) > 0 || v.Tag >= 31 {
				return false
			}
		}
	}
	return true
}

// rawValues are the attribute values of the name der, undecoded.
func rawValues(der []byte) []asn1.RawValue {
	var rdns []asn1.RawValue
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return nil
	}
	rest := seq.Bytes
	for len(rest) > 0 {
		var set asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &set); err != nil {
			return nil
		}
		in := set.Bytes
		for len(in) > 0 {
			var atv struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}
			if in, err = asn1.Unmarshal(in, &atv); err != nil {
				return nil
			}
			rdns = append(rdns, atv.Value)
		}
	}
	return rdns
}

// An rdn is a relative distinguished name: attribute types (dotted) and
// their values as DER elements.
type rdn []struct {
	typ   string
	value []byte
}

// el is a DER element of a universal tag with short contents.
func el(tag byte, content string) []byte {
	return append([]byte{tag, byte(len(content))}, content...)
}

// corners are names no corpus holds but a certificate can.
var corners = [][]rdn{
	// Every string type crypto/x509 reads, bytes above 0x7F included.
	{{{"2.5.4.3", el(19, "Printable")}}, {{"2.5.4.10", el(20, "T61 caf\xe9")}}, {{"2.5.4.11", el(22, "ia5\x01bell")}},
		{{"2.5.4.8", el(18, "0123")}}, {{"2.5.4.9", el(30, "\x00B\x00M\x00P\x00\xe9\x4e\x2d")}},
		{{"2.5.4.13", el(12, "utf8 \u00e9\u202e")}}},
	// Escapes: first and last spaces, a leading '#', each special
	// character, controls, DEL, '=' and '/' (not escaped), an empty value.
	{{{"2.5.4.3", el(12, " lead and trail ")}}, {{"2.5.4.10", el(12, "#hash#")}}, {{"2.5.4.11", el(12, `a,b+c"d\e<f>g;h=i/j`)}},
		{{"2.5.4.7", el(12, "nul\x00tab\tdel\x7f")}}, {{"2.5.4.8", el(12, "")}}, {{"2.5.4.9", el(12, " ")}}, {{"2.5.4.17", el(12, "  ")}}},
	// A multi-valued RDN, and separate RDNs of one type; a type without
	// a name, and one OpenSSL names but the table does not.
	{{{"2.5.4.11", el(12, "b")}, {"2.5.4.11", el(12, "a")}, {"2.5.4.3", el(12, "c")}}, {{"2.5.4.11", el(12, "x")}}, {{"2.5.4.11", el(12, "y")}},
		{{"1.2.3.4", el(12, "unknown")}}},
	{{{"1.2.840.113549.1.9.7", el(12, "challengePassword: named by OpenSSL only")}}},
	// Deliberately different: a lone '#'.
	{{{"2.5.4.3", el(12, "#")}}},
}

// nameOf is the DER of the name rdns.
func nameOf(rdns []rdn) []byte {
	var sets []byte
	for _, r := range rdns {
		var atvs []byte
		for _, a := range r {
			var oid asn1.ObjectIdentifier
			for _, f := range strings.Split(a.typ, ".") {
				n, _ := strconv.Atoi(f)
				oid = append(oid, n)
			}
			o, _ := asn1.Marshal(oid)
			atvs = append(atvs, tlv(0x30, append(o, a.value...))...)
		}
		sets = append(sets, tlv(0x31, atvs)...)
	}
	return tlv(0x30, sets)
}

// selfSigned is a certificate whose subject and issuer are the name rdns.
func selfSigned(t *testing.T, rdns []rdn) []byte {
	t.Helper()
	name := nameOf(rdns)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), RawSubject: name, RawIssuer: name,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := x509.ParseCertificate(der); err != nil || !bytes.Equal(c.RawSubject, name) {
		// crypto/x509 refuses it, and tlskit never describes it.
		t.Logf("not a corner: %X: %v", name, err)
		return nil
	}
	return der
}

// tlv is a DER element (lengths below 64 KiB).
func tlv(tag byte, content []byte) []byte {
	n := len(content)
	switch {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, content...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, content...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, content...)
	}
}

// FuzzString: any bytes give text and never a panic; bytes that are not a
// Name (isName, read by encoding/asn1) are written as '#' and their hex,
// and a Name's text never starts so.
func FuzzString(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	name, err := asn1.Marshal(pkix.Name{CommonName: "x", Organization: []string{"o, inc."}}.ToRDNSequence())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(name)
	for _, rdns := range corners {
		f.Add(nameOf(rdns))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		s := String(der)
		if isName(der) == strings.HasPrefix(s, "#") {
			t.Errorf("%X: a Name: %v; reads %q", der, isName(der), s)
		}
	})
}

// BenchmarkString writes an intermediate's name (C, O, CN), as a report
// names each certificate several times.
func BenchmarkString(b *testing.B) {
	name, err := asn1.Marshal(pkix.Name{Country: []string{"US"}, Organization: []string{"Let's Encrypt"}, CommonName: "R11"}.ToRDNSequence())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		String(name)
	}
}

// TestNamesThatDifferReadDifferently: names that differ in the order of
// their RDNs, or in whether two values share an RDN, are different names
// (a certificate whose issuer is one does not chain to a CA whose subject
// is the other), and read differently; crypto/x509's Name.String reads
// each pair the same.
func TestNamesThatDifferReadDifferently(t *testing.T) {
	c, o, cn := rdn{{"2.5.4.6", el(19, "DE")}}, rdn{{"2.5.4.10", el(12, "Org")}}, rdn{{"2.5.4.3", el(12, "CA")}}
	ouA, ouB := rdn{{"2.5.4.11", el(12, "a")}}, rdn{{"2.5.4.11", el(12, "b")}}
	both := rdn{ouA[0], ouB[0]}
	for _, pair := range [][2][]rdn{
		{{c, o, cn}, {o, c, cn}},
		{{o, ouA, ouB, cn}, {o, both, cn}},
	} {
		a, b := nameOf(pair[0]), nameOf(pair[1])
		if String(a) == String(b) {
			t.Errorf("%X and %X both read %q", a, b, String(a))
		}
		var na, nb pkix.RDNSequence
		asn1.Unmarshal(a, &na)
		asn1.Unmarshal(b, &nb)
		var pa, pb pkix.Name
		pa.FillFromRDNSequence(&na)
		pb.FillFromRDNSequence(&nb)
		t.Logf("tlskit %q / %q; pkix.Name.String %q / %q", String(a), String(b), pa.String(), pb.String())
	}
}
