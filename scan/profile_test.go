package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileParse reads profiles as users write them: Mozilla's guidelines
// file with a configuration chosen, one configuration alone, ciphers as
// Mozilla's object or as a list, and the errors for what cannot be right.
func TestProfileParse(t *testing.T) {
	guidelines := `{"version": 5.8, "href": "x", "configurations": {
	  "intermediate": {"certificate_curves": ["prime256v1"], "certificate_signatures": ["ecdsa-with-SHA256"], "certificate_types": ["ecdsa"],
	    "ciphers": {"iana": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"], "openssl": ["ECDHE-ECDSA-AES128-GCM-SHA256"], "go": [], "caddy": []},
	    "ciphersuites": ["TLS_AES_128_GCM_SHA256"], "dh_param_size": 2048, "ecdh_param_size": 256, "hsts_min_age": 63072000,
	    "maximum_certificate_lifespan": 366, "ocsp_staple": true, "oldest_clients": ["Firefox 27"], "recommended_certificate_lifespan": 90,
	    "rsa_key_size": 2048, "server_preferred_order": false, "tls_curves": ["X25519", "prime256v1"], "tls_versions": ["TLSv1.2", "TLSv1.3"]}}}`
	p, err := ParseProfile([]byte(guidelines), "intermediate")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "intermediate" || len(p.Ciphers) != 1 || *p.DHParamSize != 2048 || p.TLSCurves[1] != "prime256v1" {
		t.Errorf("parsed %+v", p)
	}
	for _, c := range []struct{ data, name, err string }{
		{guidelines, "", "choose one (FILE#NAME)"},
		{guidelines, "modern", "configurations intermediate"},
		{`{"tls_versions": ["TLSv1.2"], "ciphers": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}`, "", ""},
		{`{"tls_versions": ["TLSv1.2"], "ciphers": ["AES128-SHA"]}`, "", `unknown cipher suite "AES128-SHA"`},
		{`{"tls_versions": ["TLSv1.4"]}`, "", `unknown version "TLSv1.4"`},
		{`{"tls_versions": []}`, "", `"tls_versions" is empty`},
		{`{"tls_versions": ["TLSv1.2"], "tls_curves": ["curve9"]}`, "", `unknown group "curve9"`},
		{`{"tls_versions": ["TLSv1.2"], "certificate_types": ["dsa"]}`, "", `unknown certificate type "dsa"`},
		{`{"tls_versions": ["TLSv1.2"], "colour": "blue"}`, "", `unknown field "colour"`},
		{`{"tls_versions": ["TLSv1.2"], "ciphers": {"openssl": ["AES128-SHA"]}}`, "", `no "iana" list`},
		{`{"tls_versions": ["TLSv1.2"]}`, "old", "#old names a configuration"},
		{`[1, 2]`, "", "scan: profile:"},
	} {
		_, err := ParseProfile([]byte(c.data), c.name)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%.40s#%s: %v", c.data, c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%.40s#%s: error %v, want %q", c.data, c.name, err, c.err)
		}
	}
	path := filepath.Join(t.TempDir(), "g.json")
	os.WriteFile(path, []byte(guidelines), 0o644)
	if p, err := LoadProfile(path + "#intermediate"); err != nil || p.Source != path {
		t.Errorf("LoadProfile: %+v, %v", p, err)
	}
	for _, n := range ProfileNames() {
		p, err := LoadProfile(n)
		if err != nil || p.validate() != nil {
			t.Errorf("built-in %s: %v", n, err)
		}
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(`{"tls_versions": ["TLSv1.2"], "ciphers": {"iana": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}, "tls_curves": ["X25519"]}`), "")
	f.Add([]byte(`{"configurations": {"old": {"tls_versions": ["TLSv1"]}}}`), "old")
	f.Add([]byte(`{"tls_versions": ["TLSv1.3"], "rsa_key_size": null, "dh_param_size": 1024}`), "")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		p, err := ParseProfile(data, name)
		if err != nil {
			return
		}
		if p.validate() != nil {
			t.Fatalf("ParseProfile returned a profile that does not validate: %+v", p)
		}
		// A parsed profile checks any report without panicking.
		p.Check(&Report{Versions: []VersionSupport{{Version: "TLS 1.2", Details: []SuiteDetail{{Name: "TLS_RSA_WITH_AES_128_CBC_SHA", KeyExchange: "DH 1024 (custom prime)"}}}},
			Groups: []GroupSupport{{Name: "x25519", ID: "0x001d", Kind: "ECDHE", Bits: 253}, {Name: "ffdhe2048", ID: "0x0100", Kind: "FFDHE", Bits: 2048}}})
	})
}
