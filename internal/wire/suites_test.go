package wire

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestCipherSuitesGenerated runs the generator on the committed CSV files
// (no network) and checks that its output is the committed table, byte for
// byte: `go generate ./internal/wire` reproduces ciphersuites.go.
func TestCipherSuitesGenerated(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to run gen_ciphersuites.go: %v", err)
	}
	out := filepath.Join(t.TempDir(), "ciphersuites.go")
	cmd := exec.Command(gobin, "run", "gen_ciphersuites.go", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_ciphersuites.go: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("ciphersuites.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("ciphersuites.go is not what gen_ciphersuites.go makes of testdata/iana: run go generate ./internal/wire")
	}
}

// TestCipherSuiteTable checks the table's shape: sorted by ID, IDs and
// names unique, every IANA name present, GREASE absent.
func TestCipherSuiteTable(t *testing.T) {
	all := CipherSuites()
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].ID < all[j].ID }) {
		t.Fatal("table not sorted by ID")
	}
	names := map[string]bool{}
	registered := 0
	for i, s := range all {
		if i > 0 && all[i-1].ID == s.ID {
			t.Errorf("0x%04x twice", uint16(s.ID))
		}
		if names[s.Name] {
			t.Errorf("%s twice", s.Name)
		}
		names[s.Name] = true
		if s.ID.String() != s.Name {
			t.Errorf("0x%04x: String() = %s, table says %s", uint16(s.ID), s.ID, s.Name)
		}
		if s.ID.IsGREASE() {
			t.Errorf("GREASE value 0x%04x in the table", uint16(s.ID))
		}
		if s.Registered {
			registered++
		}
	}
	// The registry copy has 352 named code points (tls-parameters-4.csv:
	// grep -c ',TLS_'), the unregistered file 28.
	if registered != 352 || len(all) != 380 {
		t.Errorf("%d suites, %d registered; want 380 and 352", len(all), registered)
	}
	all[0].Name = "changed"
	if s, _ := CipherSuite(0).Info(); s.Name != "TLS_NULL_WITH_NULL_NULL" {
		t.Error("CipherSuites returned the table itself, not a copy")
	}
	if _, ok := CipherSuite(0x0a0a).Info(); ok {
		t.Error("Info(GREASE) found a suite")
	}
}

// opensslEnc maps `openssl ciphers -v` Enc= names to ciphers.
var opensslEnc = map[string]Cipher{
	"AESGCM": CipherAESGCM, "AES": CipherAESCBC, "AESCCM": CipherAESCCM, "AESCCM8": CipherAESCCM8,
	"CHACHA20/POLY1305": CipherChaCha20Poly1305, "Camellia": CipherCamelliaCBC, "ARIAGCM": CipherARIAGCM,
	"ARIA": CipherARIACBC, "3DES": Cipher3DESCBC, "DES": CipherDESCBC, "RC4": CipherRC4, "SEED": CipherSEEDCBC,
	"IDEA": CipherIDEACBC, "None": CipherNULL,
}

// TestCipherSuitesOpenSSL compares the table with what the OpenSSL on this
// machine says of every suite it has (`openssl ciphers -V -stdname`, all
// suites at security level 0): name, TLS 1.3 or not, key exchange,
// authentication, cipher and its bits, MAC. OpenSSL calls DHE "DH" and
// ECDHE "ECDH" (it has no static DH or ECDH suites), and anonymous "None".
func TestCipherSuitesOpenSSL(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	out, err := exec.Command(openssl, "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0").Output()
	if err != nil {
		t.Fatalf("openssl ciphers: %v", err)
	}
	kx := map[string]KeyExchange{"any": KxAny, "RSA": KxRSA, "DH": KxDHE, "ECDH": KxECDHE, "PSK": KxPSK,
		"DHEPSK": KxDHEPSK, "ECDHEPSK": KxECDHEPSK, "RSAPSK": KxRSAPSK, "SRP": KxSRP}
	auth := map[string]Authentication{"any": AuthAny, "RSA": AuthRSA, "DSS": AuthDSS, "ECDSA": AuthECDSA,
		"None": AuthAnon, "PSK": AuthPSK, "SRP": AuthSRP}
	mac := map[string]MAC{"AEAD": MACAEAD, "MD5": MACMD5, "SHA1": MACSHA1, "SHA256": MACSHA256, "SHA384": MACSHA384}
	line := regexp.MustCompile(`^0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+) +- \S+ +(\S+) +Kx=(\S+) +Au=(\S+) +Enc=([^( ]+)(?:\((\d+)\))? +Mac=(\S+)$`)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := line.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			t.Errorf("unexpected openssl line %q", l)
			continue
		}
		id, _ := strconv.ParseUint(m[1]+m[2], 16, 16)
		s, ok := CipherSuite(id).Info()
		if !ok {
			t.Errorf("0x%04x %s: not in the table", id, m[3])
			continue
		}
		n++
		bits, _ := strconv.Atoi(m[8])
		enc, encOK := opensslEnc[m[7]]
		if !encOK {
			t.Errorf("%s: unknown openssl cipher %s: add it to opensslEnc", m[3], m[7])
		}
		got := []any{s.Name, s.TLS13, s.Kx, s.Auth, s.Cipher, s.KeyBits, s.MAC}
		want := []any{m[3], m[4] == "TLSv1.3", kx[m[5]], auth[m[6]], enc, bits, mac[m[9]]}
		if s.Cipher == CipherNULL {
			want[5] = 0 // openssl prints no bits for Enc=None
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("0x%04x: table says %v, openssl %v (%s)", id, got, want, l)
				break
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d suites compared with openssl", n)
	}
	t.Logf("%d suites compared with %s", n, openssl)
}

// gnutlsNames are the parts of GnuTLS's suite names (`gnutls-cli -l`),
// which differ from IANA's: TLS_<kx>_<cipher>[_<mac>].
var (
	gnutlsKx = map[string][2]any{
		"RSA": {KxRSA, AuthRSA}, "DHE_DSS": {KxDHE, AuthDSS}, "DHE_RSA": {KxDHE, AuthRSA},
		"ECDHE_RSA": {KxECDHE, AuthRSA}, "ECDHE_ECDSA": {KxECDHE, AuthECDSA}, "PSK": {KxPSK, AuthPSK},
		"DHE_PSK": {KxDHEPSK, AuthPSK}, "ECDHE_PSK": {KxECDHEPSK, AuthPSK}, "RSA_PSK": {KxRSAPSK, AuthRSA},
		"DH_ANON": {KxDHE, AuthAnon}, "ECDH_ANON": {KxECDHE, AuthAnon}, "SRP_SHA": {KxSRP, AuthSRP},
		"SRP_SHA_RSA": {KxSRP, AuthRSA}, "SRP_SHA_DSS": {KxSRP, AuthDSS}, "GOSTR341112_256": {KxGOST, AuthGOST},
	}
	gnutlsCipher = map[string][2]any{
		"NULL": {CipherNULL, 0}, "ARCFOUR_128": {CipherRC4, 128}, "3DES_EDE_CBC": {Cipher3DESCBC, 168},
		"AES_128_CBC": {CipherAESCBC, 128}, "AES_256_CBC": {CipherAESCBC, 256},
		"CAMELLIA_128_CBC": {CipherCamelliaCBC, 128}, "CAMELLIA_256_CBC": {CipherCamelliaCBC, 256},
		"AES_128_GCM": {CipherAESGCM, 128}, "AES_256_GCM": {CipherAESGCM, 256},
		"CAMELLIA_128_GCM": {CipherCamelliaGCM, 128}, "CAMELLIA_256_GCM": {CipherCamelliaGCM, 256},
		"AES_128_CCM": {CipherAESCCM, 128}, "AES_256_CCM": {CipherAESCCM, 256},
		"AES_128_CCM_8": {CipherAESCCM8, 128}, "AES_256_CCM_8": {CipherAESCCM8, 256},
		"CHACHA20_POLY1305": {CipherChaCha20Poly1305, 256}, "28147_CNT": {CipherGOST28147CNT, 256},
	}
	gnutlsMAC = map[string]MAC{"": MACAEAD, "MD5": MACMD5, "SHA1": MACSHA1, "SHA256": MACSHA256,
		"SHA384": MACSHA384, "IMIT": MACIMIT}
)

// TestCipherSuitesGnuTLS compares the table with GnuTLS's list of suites
// (`gnutls-cli -l`): every ID it knows is in the table with the key
// exchange, authentication, cipher, bits and MAC (for AEADs: PRF hash) its
// name says, and "TLS1.3" suites are TLS 1.3 suites. GnuTLS has suites OpenSSL lacks
// (RC4, 3DES, Camellia-GCM, GOST 28147) and one that IANA never
// registered (0x0066).
func TestCipherSuitesGnuTLS(t *testing.T) {
	gnutls := peertest.Need(t, "gnutls-cli")
	out, err := exec.Command(gnutls, "-l").Output()
	if err != nil {
		t.Fatalf("gnutls-cli -l: %v", err)
	}
	line := regexp.MustCompile(`^(TLS_\S+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})\s+(\S+)$`)
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		m := line.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		id, _ := strconv.ParseUint(m[2]+m[3], 16, 16)
		s, ok := CipherSuite(id).Info()
		if !ok {
			t.Errorf("0x%04x %s: not in the table", id, m[1])
			continue
		}
		n++
		if m[4] == "TLS1.3" || s.TLS13 {
			if !s.TLS13 || m[4] != "TLS1.3" || s.Name != m[1] {
				t.Errorf("0x%04x: table says %s TLS 1.3 %v, gnutls %s %s", id, s.Name, s.TLS13, m[1], m[4])
			}
			continue
		}
		kx, cipher, mac, ok := parseGnuTLSName(m[1])
		if !ok {
			t.Errorf("%s: name parts unknown to this test", m[1])
			continue
		}
		got := []any{s.Kx, s.Auth, s.Cipher, s.KeyBits, s.MAC}
		want := []any{kx[0], kx[1], cipher[0], cipher[1], gnutlsMAC[mac]}
		if cipher[0].(Cipher).AEAD() {
			// An AEAD's name ends with its PRF hash, SHA-256 when none.
			prf := map[string]Hash{"": HashSHA256, "SHA256": HashSHA256, "SHA384": HashSHA384}[mac]
			got = append(got[:4], s.MAC, s.PRF)
			want = append(want[:4], MACAEAD, prf)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("0x%04x %s: table says %v, gnutls %v", id, s.Name, got, want)
				break
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d suites compared with gnutls", n)
	}
	t.Logf("%d suites compared with %s", n, gnutls)
}

// parseGnuTLSName splits a GnuTLS suite name into its parts, trying the
// longest key exchange and cipher names first.
func parseGnuTLSName(name string) (kx, cipher [2]any, mac string, ok bool) {
	rest := strings.TrimPrefix(name, "TLS_")
	longest := func(m map[string][2]any, s string) (val [2]any, rest string, ok bool) {
		best := ""
		for k := range m {
			if (s == k || strings.HasPrefix(s, k+"_")) && len(k) > len(best) {
				best = k
			}
		}
		if best == "" {
			return val, "", false
		}
		return m[best], strings.TrimPrefix(s[len(best):], "_"), true
	}
	if kx, rest, ok = longest(gnutlsKx, rest); !ok {
		return
	}
	cipher, mac, ok = longest(gnutlsCipher, rest)
	if _, known := gnutlsMAC[mac]; !known {
		ok = false
	}
	return
}

// TestCipherSuiteFactsRFC checks, against the RFCs' tables, the suites
// neither peer above has: the export and DES-era ciphers (RFC 2246
// Appendix C, RFC 4346 Appendix C, RFC 2712), the TLS 1.3 suites (RFC 8446
// §5.3 and Appendix B.4, RFC 8998, RFC 9150), the signaling values (RFC
// 5746, RFC 7507), and the fields the peers do not print (key and IV
// lengths, tags, PRF hash, export).
func TestCipherSuiteFactsRFC(t *testing.T) {
	for _, tc := range []struct {
		id   CipherSuite
		want CipherSuiteInfo // the facts checked; Name and Reference are not
	}{
		// RFC 2246 Appendix C: RC4_40 has 5 bytes of key material, 40
		// effective bits; DES40_CBC and RC2_CBC_40 too, with an 8-byte IV.
		{0x0003, CipherSuiteInfo{Kx: KxRSA, Auth: AuthRSA, Cipher: CipherRC4, Export: true, KeyBits: 40, KeyLen: 5, MAC: MACMD5, MACLen: 16, PRF: HashSHA256}},
		{0x0006, CipherSuiteInfo{Kx: KxRSA, Auth: AuthRSA, Cipher: CipherRC2CBC, Export: true, KeyBits: 40, KeyLen: 5, IVLen: 8, MAC: MACMD5, MACLen: 16, PRF: HashSHA256}},
		{0x0014, CipherSuiteInfo{Kx: KxDHE, Auth: AuthRSA, Cipher: CipherDESCBC, Export: true, KeyBits: 40, KeyLen: 5, IVLen: 8, MAC: MACSHA1, MACLen: 20, PRF: HashSHA256}},
		{0x0009, CipherSuiteInfo{Kx: KxRSA, Auth: AuthRSA, Cipher: CipherDESCBC, KeyBits: 56, KeyLen: 8, IVLen: 8, MAC: MACSHA1, MACLen: 20, PRF: HashSHA256}},
		{0x0007, CipherSuiteInfo{Kx: KxRSA, Auth: AuthRSA, Cipher: CipherIDEACBC, KeyBits: 128, KeyLen: 16, IVLen: 8, MAC: MACSHA1, MACLen: 20, PRF: HashSHA256}},
		{0x000a, CipherSuiteInfo{Kx: KxRSA, Auth: AuthRSA, Cipher: Cipher3DESCBC, KeyBits: 168, KeyLen: 24, IVLen: 8, MAC: MACSHA1, MACLen: 20, PRF: HashSHA256}},
		{0x0000, CipherSuiteInfo{Cipher: CipherNULL}},
		{0x000b, CipherSuiteInfo{Kx: KxDH, Auth: AuthDSS, Cipher: CipherDESCBC, Export: true, KeyBits: 40, KeyLen: 5, IVLen: 8, MAC: MACSHA1, MACLen: 20, PRF: HashSHA256}},
		// RFC 2712: Kerberos, with DES_CBC_40 export.
		{0x0026, CipherSuiteInfo{Kx: KxKRB5, Auth: AuthKRB5, Cipher: CipherDESCBC, Export: true, KeyBits: 40, KeyLen: 5, IVLen: 8, MAC: MACSHA1, MACLen: 20, PRF: HashSHA256}},
		// RFC 5246 Appendix C, RFC 5288, RFC 5289: CBC IVs are the block,
		// GCM's implicit nonce 4 bytes with a 16-byte tag, SHA384 suites
		// use SHA-384 for the PRF and the HMAC.
		{0x002f, CipherSuiteInfo{Kx: KxRSA, Auth: AuthRSA, Cipher: CipherAESCBC, KeyBits: 128, KeyLen: 16, IVLen: 16, MAC: MACSHA1, MACLen: 20, PRF: HashSHA256}},
		{0xc028, CipherSuiteInfo{Kx: KxECDHE, Auth: AuthRSA, Cipher: CipherAESCBC, KeyBits: 256, KeyLen: 32, IVLen: 16, MAC: MACSHA384, MACLen: 48, PRF: HashSHA384}},
		{0xc030, CipherSuiteInfo{Kx: KxECDHE, Auth: AuthRSA, Cipher: CipherAESGCM, KeyBits: 256, KeyLen: 32, IVLen: 4, TagLen: 16, MAC: MACAEAD, PRF: HashSHA384}},
		// RFC 6655: CCM suites without a hash in the name use SHA-256;
		// CCM_8 has an 8-byte tag; PSK_DHE is the DHE_PSK key exchange.
		{0xc09c, CipherSuiteInfo{Kx: KxRSA, Auth: AuthRSA, Cipher: CipherAESCCM, KeyBits: 128, KeyLen: 16, IVLen: 4, TagLen: 16, MAC: MACAEAD, PRF: HashSHA256}},
		{0xc0aa, CipherSuiteInfo{Kx: KxDHEPSK, Auth: AuthPSK, Cipher: CipherAESCCM8, KeyBits: 128, KeyLen: 16, IVLen: 4, TagLen: 8, MAC: MACAEAD, PRF: HashSHA256}},
		// RFC 7905 §2: ChaCha20-Poly1305's nonce is 12 bytes from the key block.
		{0xcca9, CipherSuiteInfo{Kx: KxECDHE, Auth: AuthECDSA, Cipher: CipherChaCha20Poly1305, KeyBits: 256, KeyLen: 32, IVLen: 12, TagLen: 16, MAC: MACAEAD, PRF: HashSHA256}},
		// RFC 8446 §5.3, Appendix B.4: 12-byte IVs, 16-byte tags except CCM_8.
		{0x1301, CipherSuiteInfo{TLS13: true, Kx: KxAny, Auth: AuthAny, Cipher: CipherAESGCM, KeyBits: 128, KeyLen: 16, IVLen: 12, TagLen: 16, MAC: MACAEAD, PRF: HashSHA256}},
		{0x1302, CipherSuiteInfo{TLS13: true, Kx: KxAny, Auth: AuthAny, Cipher: CipherAESGCM, KeyBits: 256, KeyLen: 32, IVLen: 12, TagLen: 16, MAC: MACAEAD, PRF: HashSHA384}},
		{0x1305, CipherSuiteInfo{TLS13: true, Kx: KxAny, Auth: AuthAny, Cipher: CipherAESCCM8, KeyBits: 128, KeyLen: 16, IVLen: 12, TagLen: 8, MAC: MACAEAD, PRF: HashSHA256}},
		// RFC 8998: SM4 with a 16-byte key, SM3 hash.
		{0x00c6, CipherSuiteInfo{TLS13: true, Kx: KxAny, Auth: AuthAny, Cipher: CipherSM4GCM, KeyBits: 128, KeyLen: 16, IVLen: 12, TagLen: 16, MAC: MACAEAD, PRF: HashSM3}},
		// RFC 9150: integrity only, HMAC tags of the hash's size.
		{0xc0b5, CipherSuiteInfo{TLS13: true, Kx: KxAny, Auth: AuthAny, Cipher: CipherNULL, MAC: MACSHA384, MACLen: 48, PRF: HashSHA384}},
		// RFC 5746, RFC 7507: signaling values, not suites.
		{0x00ff, CipherSuiteInfo{Signaling: true}},
		{0x5600, CipherSuiteInfo{Signaling: true}},
		// RFC 9189: GOST TLS 1.2 suites use Streebog in their PRF.
		{0xc100, CipherSuiteInfo{Kx: KxGOST, Auth: AuthGOST, Cipher: CipherKuznyechikCTR, KeyBits: 256, KeyLen: 32, MAC: MACOMAC, PRF: HashStreebog256}},
	} {
		s, ok := tc.id.Info()
		if !ok {
			t.Errorf("0x%04x: not in the table", uint16(tc.id))
			continue
		}
		got := s
		got.ID, got.Name, got.Registered, got.Recommended, got.DTLSOK, got.Reference = 0, "", false, false, false, ""
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", s.Name, got, tc.want)
		}
	}
}

// TestCipherSuitePredicates checks the strength facts a scan needs.
func TestCipherSuitePredicates(t *testing.T) {
	for _, tc := range []struct {
		id                                        CipherSuite
		aead, cbc, anon, null, forward, stream4rc bool
	}{
		{0x1301, true, false, false, false, true, false},  // TLS 1.3
		{0xc02f, true, false, false, false, true, false},  // ECDHE-RSA AES-GCM
		{0x002f, false, true, false, false, false, false}, // RSA AES-CBC: no forward secrecy
		{0x0005, false, false, false, false, false, true}, // RSA RC4
		{0x0034, false, true, true, false, true, false},   // DH_anon: ephemeral but anonymous
		{0xc010, false, false, false, true, true, false},  // ECDHE-RSA NULL
		{0x00ac, true, false, false, false, false, false}, // RSA_PSK
		{0x00aa, true, false, false, false, true, false},  // DHE_PSK
		{0xc0b4, false, false, false, true, true, false},  // TLS 1.3 integrity only
	} {
		s, _ := tc.id.Info()
		got := [6]bool{s.AEAD(), s.CBC(), s.Anonymous(), s.NullCipher(), s.ForwardSecret(), s.Cipher == CipherRC4}
		want := [6]bool{tc.aead, tc.cbc, tc.anon, tc.null, tc.forward, tc.stream4rc}
		if got != want {
			t.Errorf("%s: AEAD, CBC, anonymous, NULL, forward secret, RC4 = %v, want %v", s.Name, got, want)
		}
	}
	if s := (CipherSuiteInfo{Kx: KxECDHE}); s.Kx.String() != "ECDHE" || CipherAESCCM8.String() != "AES-CCM-8" ||
		MACSHA1.String() != "SHA1" || HashSHA384.String() != "SHA-384" || AuthAnon.String() != "anon" ||
		Cipher(200).String() != "unknown(200)" {
		t.Error("enum names")
	}
}
