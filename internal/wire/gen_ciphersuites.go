//go:build ignore

// gen_ciphersuites writes ciphersuites.go, the cipher suite table of package
// wire, from two CSV files in the IANA registry's format (Value, Description,
// DTLS-OK, Recommended, Reference):
//
//   - testdata/iana/tls-parameters-4.csv: the IANA TLS Cipher Suites
//     registry (see testdata/README.md for where this copy comes from);
//   - testdata/iana/unregistered-cipher-suites.csv: the code points outside
//     the registry that tlskit names too, as Wireshark does (drafts and
//     vendor suites seen in real traffic).
//
// Every name starting with TLS_ is taken. Its facts (key exchange,
// authentication, cipher, sizes, MAC, PRF hash) follow from the parts of
// the name, looked up in the tables below, which say what the RFCs say of
// each part; a name with a part the tables do not know stops the generator,
// so a new registry brings new parts deliberately. Run by go generate in
// this directory:
//
//	go run gen_ciphersuites.go [-o ciphersuites.go]
package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const (
	registry     = "testdata/iana/tls-parameters-4.csv"
	unregistered = "testdata/iana/unregistered-cipher-suites.csv"
)

// suite is one row of the generated table; the string fields hold Go
// identifiers of package wire.
type suite struct {
	id                              uint16
	name, reference                 string
	registered, recommended, dtlsOK bool
	signaling, tls13, export        bool
	kx, auth, cipher, mac, prf      string
	keyBits, keyLen, ivLen, tagLen  int
	macLen                          int
}

// kxPart is the key exchange part of a name (before _WITH_).
type kxPart struct {
	kx, auth string
	export   bool
}

var kxParts = map[string]kxPart{
	"RSA":                {"KxRSA", "AuthRSA", false},
	"RSA_EXPORT":         {"KxRSA", "AuthRSA", true},
	"RSA_EXPORT1024":     {"KxRSA", "AuthRSA", true},
	"DH_DSS":             {"KxDH", "AuthDSS", false},
	"DH_DSS_EXPORT":      {"KxDH", "AuthDSS", true},
	"DH_RSA":             {"KxDH", "AuthRSA", false},
	"DH_RSA_EXPORT":      {"KxDH", "AuthRSA", true},
	"DHE_DSS":            {"KxDHE", "AuthDSS", false},
	"DHE_DSS_EXPORT":     {"KxDHE", "AuthDSS", true},
	"DHE_DSS_EXPORT1024": {"KxDHE", "AuthDSS", true},
	"DHE_RSA":            {"KxDHE", "AuthRSA", false},
	"DHE_RSA_EXPORT":     {"KxDHE", "AuthRSA", true},
	"DH_anon":            {"KxDHE", "AuthAnon", false}, // ephemeral, unauthenticated (RFC 5246 §7.4.3)
	"DH_anon_EXPORT":     {"KxDHE", "AuthAnon", true},
	"KRB5":               {"KxKRB5", "AuthKRB5", false},
	"KRB5_EXPORT":        {"KxKRB5", "AuthKRB5", true},
	"PSK":                {"KxPSK", "AuthPSK", false},
	"DHE_PSK":            {"KxDHEPSK", "AuthPSK", false},
	"PSK_DHE":            {"KxDHEPSK", "AuthPSK", false}, // RFC 6655 §4: the DHE_PSK key exchange
	"RSA_PSK":            {"KxRSAPSK", "AuthRSA", false},
	"ECDHE_PSK":          {"KxECDHEPSK", "AuthPSK", false},
	"ECDH_ECDSA":         {"KxECDH", "AuthECDSA", false},
	"ECDHE_ECDSA":        {"KxECDHE", "AuthECDSA", false},
	"ECDH_RSA":           {"KxECDH", "AuthRSA", false},
	"ECDHE_RSA":          {"KxECDHE", "AuthRSA", false},
	"ECDH_anon":          {"KxECDHE", "AuthAnon", false}, // ephemeral, unauthenticated (RFC 8422 §2.3)
	"SRP_SHA":            {"KxSRP", "AuthSRP", false},
	"SRP_SHA_RSA":        {"KxSRP", "AuthRSA", false},
	"SRP_SHA_DSS":        {"KxSRP", "AuthDSS", false},
	"ECCPWD":             {"KxECCPWD", "AuthECCPWD", false},
	"ECJPAKE":            {"KxECJPAKE", "AuthECJPAKE", false},
	"GOSTR341094":        {"KxGOST", "AuthGOST", false},
	"GOSTR341001":        {"KxGOST", "AuthGOST", false},
	"GOSTR341112_256":    {"KxGOST", "AuthGOST", false},
}

// cipherPart is the cipher part of a name (after _WITH_, before the MAC or
// hash). The sizes are RFC 2246 Appendix C's (and RFC 4346, RFC 2712 and
// the 56-bit draft's for their ciphers), RFC 5288/6655/7905 for AEADs in
// TLS 1.2 (IV: the implicit part of the nonce) and RFC 8446 §5.3 in TLS 1.3
// (IV: the whole 12-byte nonce, set in suiteFacts). Zero: not recorded.
type cipherPart struct {
	cipher                        string
	keyBits, keyLen, ivLen, tagLn int
	tls13                         bool // a TLS 1.3 cipher in a name with _WITH_ (RFC 9367)
}

var cipherParts = map[string]cipherPart{
	"NULL":              {"CipherNULL", 0, 0, 0, 0, false},
	"RC4_40":            {"CipherRC4", 40, 5, 0, 0, false},
	"RC4_56":            {"CipherRC4", 56, 7, 0, 0, false},
	"RC4_128":           {"CipherRC4", 128, 16, 0, 0, false},
	"RC2_CBC_40":        {"CipherRC2CBC", 40, 5, 8, 0, false},
	"RC2_CBC_56":        {"CipherRC2CBC", 56, 7, 8, 0, false},
	"IDEA_CBC":          {"CipherIDEACBC", 128, 16, 8, 0, false},
	"DES40_CBC":         {"CipherDESCBC", 40, 5, 8, 0, false},
	"DES_CBC_40":        {"CipherDESCBC", 40, 5, 8, 0, false},
	"DES_CBC":           {"CipherDESCBC", 56, 8, 8, 0, false},
	"3DES_EDE_CBC":      {"Cipher3DESCBC", 168, 24, 8, 0, false},
	"AES_128_CBC":       {"CipherAESCBC", 128, 16, 16, 0, false},
	"AES_256_CBC":       {"CipherAESCBC", 256, 32, 16, 0, false},
	"AES_128_GCM":       {"CipherAESGCM", 128, 16, 4, 16, false},
	"AES_256_GCM":       {"CipherAESGCM", 256, 32, 4, 16, false},
	"AES_128_CCM":       {"CipherAESCCM", 128, 16, 4, 16, false},
	"AES_256_CCM":       {"CipherAESCCM", 256, 32, 4, 16, false},
	"AES_128_CCM_8":     {"CipherAESCCM8", 128, 16, 4, 8, false},
	"AES_256_CCM_8":     {"CipherAESCCM8", 256, 32, 4, 8, false},
	"CAMELLIA_128_CBC":  {"CipherCamelliaCBC", 128, 16, 16, 0, false},
	"CAMELLIA_256_CBC":  {"CipherCamelliaCBC", 256, 32, 16, 0, false},
	"CAMELLIA_128_GCM":  {"CipherCamelliaGCM", 128, 16, 4, 16, false},
	"CAMELLIA_256_GCM":  {"CipherCamelliaGCM", 256, 32, 4, 16, false},
	"ARIA_128_CBC":      {"CipherARIACBC", 128, 16, 16, 0, false},
	"ARIA_256_CBC":      {"CipherARIACBC", 256, 32, 16, 0, false},
	"ARIA_128_GCM":      {"CipherARIAGCM", 128, 16, 4, 16, false},
	"ARIA_256_GCM":      {"CipherARIAGCM", 256, 32, 4, 16, false},
	"SEED_CBC":          {"CipherSEEDCBC", 128, 16, 16, 0, false},
	"CHACHA20_POLY1305": {"CipherChaCha20Poly1305", 256, 32, 12, 16, false},
	"SALSA20":           {"CipherSalsa20", 0, 0, 0, 0, false},
	"ESTREAM_SALSA20":   {"CipherESTREAMSalsa20", 0, 0, 0, 0, false},
	"28147_CNT":         {"CipherGOST28147CNT", 256, 32, 0, 0, false},
	"KUZNYECHIK_CTR":    {"CipherKuznyechikCTR", 256, 32, 0, 0, false},
	"MAGMA_CTR":         {"CipherMagmaCTR", 256, 32, 0, 0, false},
	"KUZNYECHIK_MGM":    {"CipherKuznyechikMGM", 256, 32, 0, 0, true},
	"MAGMA_MGM":         {"CipherMagmaMGM", 256, 32, 0, 0, true},
}

// tls13Suites are the TLS 1.3 names without _WITH_ (RFC 8446 §B.4, RFC
// 8998, RFC 9150, draft-irtf-cfrg-aegis-aead): the AEAD (or, for the
// integrity-only suites, the MAC) and the hash.
var tls13Suites = map[string]struct {
	cipher cipherPart
	mac    string
	macLen int
	prf    string
}{
	"AES_128_GCM_SHA256":       {cipherPart{"CipherAESGCM", 128, 16, 12, 16, true}, "MACAEAD", 0, "HashSHA256"},
	"AES_256_GCM_SHA384":       {cipherPart{"CipherAESGCM", 256, 32, 12, 16, true}, "MACAEAD", 0, "HashSHA384"},
	"CHACHA20_POLY1305_SHA256": {cipherPart{"CipherChaCha20Poly1305", 256, 32, 12, 16, true}, "MACAEAD", 0, "HashSHA256"},
	"AES_128_CCM_SHA256":       {cipherPart{"CipherAESCCM", 128, 16, 12, 16, true}, "MACAEAD", 0, "HashSHA256"},
	"AES_128_CCM_8_SHA256":     {cipherPart{"CipherAESCCM8", 128, 16, 12, 8, true}, "MACAEAD", 0, "HashSHA256"},
	"SM4_GCM_SM3":              {cipherPart{"CipherSM4GCM", 128, 16, 12, 16, true}, "MACAEAD", 0, "HashSM3"},
	"SM4_CCM_SM3":              {cipherPart{"CipherSM4CCM", 128, 16, 12, 16, true}, "MACAEAD", 0, "HashSM3"},
	"AEGIS_256_SHA384":         {cipherPart{"CipherAEGIS256", 256, 32, 0, 0, true}, "MACAEAD", 0, "HashSHA384"},
	"AEGIS_128L_SHA256":        {cipherPart{"CipherAEGIS128L", 128, 16, 0, 0, true}, "MACAEAD", 0, "HashSHA256"},
	"SHA256_SHA256":            {cipherPart{"CipherNULL", 0, 0, 0, 0, true}, "MACSHA256", 32, "HashSHA256"},
	"SHA384_SHA384":            {cipherPart{"CipherNULL", 0, 0, 0, 0, true}, "MACSHA384", 48, "HashSHA384"},
}

// macParts are the MAC (or, for AEADs, hash) ends of TLS 1.2 names.
var macParts = []struct {
	suffix, mac string
	macLen      int
	hash        string // the hash of a PRF named by this part
}{
	{"_SHA384", "MACSHA384", 48, "HashSHA384"},
	{"_SHA256", "MACSHA256", 32, "HashSHA256"},
	{"_SHA1", "MACSHA1", 0, ""}, // only the Salsa20 draft's names: MAC length not recorded
	{"_SHA", "MACSHA1", 20, ""},
	{"_MD5", "MACMD5", 16, ""},
	{"_GOSTR3411", "MACGOSTR3411", 32, ""},
	{"_IMIT", "MACIMIT", 0, ""},
	{"_OMAC", "MACOMAC", 0, ""},
	{"_L", "MACAEAD", 0, ""}, // RFC 9367 MGM_L and MGM_S: key update limits, not MACs
	{"_S", "MACAEAD", 0, ""},
}

// suiteFacts derives the facts of a named suite.
func suiteFacts(name string) (suite, error) {
	s := suite{name: name}
	rest, ok := strings.CutPrefix(name, "TLS_")
	if !ok {
		return s, fmt.Errorf("%s: not a TLS_ name", name)
	}
	switch {
	case strings.HasSuffix(rest, "_SCSV"):
		s.signaling = true
		s.kx, s.auth, s.cipher, s.mac, s.prf = "KxNone", "AuthNone", "CipherNone", "MACNone", "HashNone"
		return s, nil
	case rest == "NULL_WITH_NULL_NULL":
		s.kx, s.auth, s.cipher, s.mac, s.prf = "KxNone", "AuthNone", "CipherNULL", "MACNone", "HashNone"
		return s, nil
	}
	kx, alg, ok := strings.Cut(rest, "_WITH_")
	if !ok {
		t, ok := tls13Suites[rest]
		if !ok {
			return s, fmt.Errorf("%s: unknown TLS 1.3 suite", name)
		}
		s.tls13 = true
		s.kx, s.auth = "KxAny", "AuthAny"
		s.setCipher(t.cipher)
		s.mac, s.macLen, s.prf = t.mac, t.macLen, t.prf
		return s, nil
	}
	k, ok := kxParts[kx]
	if !ok {
		return s, fmt.Errorf("%s: unknown key exchange %s", name, kx)
	}
	s.kx, s.auth, s.export = k.kx, k.auth, k.export
	cipher, mac := alg, ""
	for _, m := range macParts {
		if c, ok := strings.CutSuffix(alg, m.suffix); ok {
			cipher = c
			mac = m.suffix
			s.mac, s.macLen, s.prf = m.mac, m.macLen, m.hash
			break
		}
	}
	c, ok := cipherParts[cipher]
	if !ok {
		return s, fmt.Errorf("%s: unknown cipher %s", name, cipher)
	}
	s.setCipher(c)
	if c.tls13 {
		s.tls13 = true
		s.kx, s.auth = "KxAny", "AuthAny"
	}
	aead := c.tagLn > 0 || c.tls13
	switch {
	case aead:
		// The name's hash is the PRF's (RFC 5288 §3); CCM names without
		// one use SHA-256 (RFC 6655 §3).
		s.mac, s.macLen = "MACAEAD", 0
		if s.prf == "" && mac != "" && mac != "_L" && mac != "_S" {
			return s, fmt.Errorf("%s: AEAD with MAC %s", name, mac)
		}
	case mac == "" || mac == "_L" || mac == "_S":
		return s, fmt.Errorf("%s: no MAC", name)
	}
	switch {
	case strings.HasPrefix(kx, "GOSTR341112"):
		s.prf = "HashStreebog256" // RFC 9189 §4.2.1, RFC 9367 §4
	case strings.HasPrefix(kx, "GOSTR3410"):
		s.prf = "HashGOSTR341194" // draft-chudov-cryptopro-cptls
	case s.prf == "":
		s.prf = "HashSHA256" // RFC 5246 §5: SHA-256 unless the suite says otherwise
	}
	return s, nil
}

func (s *suite) setCipher(c cipherPart) {
	s.cipher, s.keyBits, s.keyLen, s.ivLen, s.tagLen = c.cipher, c.keyBits, c.keyLen, c.ivLen, c.tagLn
}

var valueRE = regexp.MustCompile(`^0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2})$`)

// readCSV reads the named suites of one CSV file in the registry's format.
func readCSV(path string, registered bool) ([]suite, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 5
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if strings.Join(head, ",") != "Value,Description,DTLS-OK,Recommended,Reference" {
		return nil, fmt.Errorf("%s: unexpected columns %q", path, head)
	}
	var out []suite
	for {
		row, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m := valueRE.FindStringSubmatch(row[0])
		if m == nil || !strings.HasPrefix(row[1], "TLS_") {
			continue // ranges, Unassigned, Reserved (GREASE)
		}
		s, err := suiteFacts(row[1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		id, _ := strconv.ParseUint(m[1]+m[2], 16, 16)
		s.id = uint16(id)
		s.registered = registered
		s.dtlsOK, s.recommended = row[2] == "Y", row[3] == "Y"
		s.reference = strings.Join(strings.Fields(row[4]), " ")
		out = append(out, s)
	}
}

// generate returns the source of ciphersuites.go.
func generate() ([]byte, error) {
	reg, err := readCSV(registry, true)
	if err != nil {
		return nil, err
	}
	unreg, err := readCSV(unregistered, false)
	if err != nil {
		return nil, err
	}
	all := append(reg, unreg...)
	slices.SortFunc(all, func(a, b suite) int { return int(a.id) - int(b.id) })
	for i := 1; i < len(all); i++ {
		if all[i].id == all[i-1].id {
			return nil, fmt.Errorf("0x%04x is both %s and %s", all[i].id, all[i-1].name, all[i].name)
		}
	}
	var b bytes.Buffer
	b.WriteString(`// Code generated by gen_ciphersuites.go from testdata/iana; DO NOT EDIT.

package wire

// cipherSuites is every cipher suite of the IANA registry
// (testdata/iana/tls-parameters-4.csv) and of
// testdata/iana/unregistered-cipher-suites.csv, by ascending ID.
var cipherSuites = [...]CipherSuiteInfo{
`)
	for _, s := range all {
		fmt.Fprintf(&b, "\t{ID: 0x%04x, Name: %q", s.id, s.name)
		flag := func(name string, v bool) {
			if v {
				fmt.Fprintf(&b, ", %s: true", name)
			}
		}
		num := func(name string, v int) {
			if v != 0 {
				fmt.Fprintf(&b, ", %s: %d", name, v)
			}
		}
		flag("Registered", s.registered)
		flag("Recommended", s.recommended)
		flag("DTLSOK", s.dtlsOK)
		if s.reference != "" {
			fmt.Fprintf(&b, ", Reference: %q", s.reference)
		}
		flag("Signaling", s.signaling)
		flag("TLS13", s.tls13)
		fmt.Fprintf(&b, ", Kx: %s, Auth: %s, Cipher: %s", s.kx, s.auth, s.cipher)
		flag("Export", s.export)
		num("KeyBits", s.keyBits)
		num("KeyLen", s.keyLen)
		num("IVLen", s.ivLen)
		num("TagLen", s.tagLen)
		fmt.Fprintf(&b, ", MAC: %s", s.mac)
		num("MACLen", s.macLen)
		fmt.Fprintf(&b, ", PRF: %s},\n", s.prf)
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

func main() {
	out := flag.String("o", "ciphersuites.go", "output file")
	flag.Parse()
	src, err := generate()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
