package wire

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

func fieldString(fs []Field) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Name+"="+f.Value)
	}
	return strings.Join(s, "; ")
}

func TestFieldsRFC8448(t *testing.T) {
	raws, _ := rfc8448Messages(t, "testdata/rfc8448/rfc8448-sec6-Client_Authentication_Handshake.json")
	want := []string{
		"versions=TLS 1.3; SNI=server; cipher suites=3: TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_256_GCM_SHA384; groups=x25519, secp256r1, secp384r1, secp521r1, …; key shares=x25519; signature algorithms=15",
		"version=TLS 1.3; cipher suite=TLS_AES_128_GCM_SHA256; key share=x25519",
		"SNI=acknowledged",
		"acceptable CAs=any; signature schemes=15: ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384, ecdsa_secp521r1_sha512, …",
		"certificates=1",
		"signature scheme=ecdsa_secp256r1_sha256",
		"verify_data=32 bytes",
		"certificates=1",
		"signature scheme=rsa_pss_rsae_sha256",
		"verify_data=32 bytes",
	}
	ctx := Context{Version: VersionTLS13}
	if len(raws) != len(want) {
		t.Fatalf("%d messages, want %d", len(raws), len(want))
	}
	for i, raw := range raws {
		m, err := ParseMessage(raw.Type, raw.Body, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := fieldString(Fields(m)); got != want[i] {
			t.Errorf("%v fields:\n got %s\nwant %s", raw.Type, got, want[i])
		}
	}
}

func TestFieldsEmptyCertificateAndCANames(t *testing.T) {
	m, err := ParseMessage(TypeCertificate, []byte{0, 0, 0}, Context{Version: VersionTLS12})
	if err != nil || fieldString(Fields(m)) != "certificates=empty" {
		t.Errorf("empty TLS 1.2 Certificate: %v, %v", Fields(m), err)
	}
	m, err = ParseMessage(TypeCertificate, []byte{0, 0, 0, 0}, Context{Version: VersionTLS13})
	if err != nil || fieldString(Fields(m)) != "certificates=empty" || !m.(*Certificate).TLS13 {
		t.Errorf("empty TLS 1.3 Certificate: %v, %v", Fields(m), err)
	}

	dn := func(cn, o string) []byte {
		der, err := asn1.Marshal(pkix.Name{CommonName: cn, Organization: []string{o}}.ToRDNSequence())
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	var b cryptobyte.Builder
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{1, 64}) })
	addSchemes(&b, []SignatureScheme{0x0804, 0x0403})
	addDNs(&b, []HexBytes{dn("Corp Root CA", "Corp"), dn("Other CA", "Other, Inc.")})
	body := b.BytesOrPanic()
	m, err = ParseMessage(TypeCertificateRequest, body, Context{})
	if err != nil {
		t.Fatal(err)
	}
	cr := m.(*CertificateRequest)
	if cr.TLS13 || len(cr.CANames()) != 2 || len(cr.SignatureSchemes()) != 2 || string(cr.Marshal()) != string(body) {
		t.Errorf("CertificateRequest = %+v", cr)
	}
	want := `acceptable CAs=CN=Corp Root CA,O=Corp; CN=Other CA,O=Other\, Inc.; signature schemes=2: rsa_pss_rsae_sha256, ecdsa_secp256r1_sha256`
	if got := fieldString(Fields(m)); got != want {
		t.Errorf("fields:\n got %s\nwant %s", got, want)
	}
	if got := DNString([]byte{0x30, 0x03}); !strings.HasPrefix(got, "<unparsable name") {
		t.Errorf("DNString(garbage) = %q", got)
	}
}

func TestJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/rfc8448/*sec3*.json")
	raws, _ := rfc8448Messages(t, files[0])
	var out []string
	for _, raw := range raws {
		m, err := ParseMessage(raw.Type, raw.Body, Context{Version: VersionTLS13})
		if err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(j))
	}
	all := strings.Join(out, "\n")
	for _, want := range []string{
		`"cipher_suites":["TLS_AES_128_GCM_SHA256","TLS_CHACHA20_POLY1305_SHA256","TLS_AES_256_GCM_SHA384"]`,
		`{"type":"server_name","data":"0009000006736572766572","parsed":["server"]}`,
		`{"type":"key_share","data":"001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f","parsed":{"group":"x25519","key_exchange":"c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f"}}`,
		`"entries":[{"size":432}]`,
		`"signature_scheme":"rsa_pss_rsae_sha256"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	if strings.Contains(all, `"data":"3082`) {
		t.Error("certificate DER leaked into JSON")
	}
}
