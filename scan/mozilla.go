package scan

// Mozilla's Server Side TLS configurations, transcribed from the
// guidelines JSON of mozilla/ssl-config-generator
// (https://ssl-config.mozilla.org/guidelines/): modern and intermediate
// from version 6.0, and old from version 5.8, the last that has it (6.0
// dropped the old configuration). Only the values are taken; the check is
// tlskit's (see Profile.Check).

func intp(n int) *int { return &n }

// builtinProfiles returns the built-in profiles by name.
func builtinProfiles() map[string]*Profile {
	tls13 := []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	return map[string]*Profile{
		"modern": {
			Name: "modern", Source: "Mozilla Server Side TLS 6.0 (guidelines/6.0.json)",
			TLSVersions:      []string{"TLSv1.3"},
			Ciphersuites:     tls13,
			TLSCurves:        []string{"X25519MLKEM768", "X25519", "prime256v1", "secp384r1"},
			CertificateTypes: []string{"ecdsa"}, CertificateCurves: []string{"prime256v1", "secp384r1"},
			CertificateSignatures: []string{"ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"},
			ECDHParamSize:         256, MaximumCertificateLifespan: 90, OCSPStaple: true, HSTSMinAge: 63072000,
		},
		"intermediate": {
			Name: "intermediate", Source: "Mozilla Server Side TLS 6.0 (guidelines/6.0.json)",
			TLSVersions: []string{"TLSv1.2", "TLSv1.3"},
			Ciphers: []string{
				"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
				"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
				"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
			},
			Ciphersuites:     tls13,
			TLSCurves:        []string{"X25519MLKEM768", "X25519", "prime256v1", "secp384r1"},
			CertificateTypes: []string{"ecdsa", "rsa"}, CertificateCurves: []string{"prime256v1", "secp384r1"},
			CertificateSignatures: []string{"sha256WithRSAEncryption", "ecdsa-with-SHA256", "ecdsa-with-SHA384", "ecdsa-with-SHA512"},
			RSAKeySize:            intp(2048), DHParamSize: intp(2048), ECDHParamSize: 256,
			MaximumCertificateLifespan: 366, OCSPStaple: true, HSTSMinAge: 63072000,
		},
		"old": {
			Name: "old", Source: "Mozilla Server Side TLS 5.8 (guidelines/5.8.json; 6.0 has no old configuration)",
			TLSVersions: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"},
			Ciphers: []string{
				"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
				"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
				"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
				"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
				"TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
				"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
				"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
				"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
				"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
				"TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
				"TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
				"TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256",
				"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
				"TLS_RSA_WITH_3DES_EDE_CBC_SHA",
			},
			Ciphersuites:     tls13,
			TLSCurves:        []string{"X25519", "prime256v1", "secp384r1"},
			CertificateTypes: []string{"rsa"}, CertificateCurves: []string{"prime256v1", "secp384r1"},
			CertificateSignatures: []string{"sha256WithRSAEncryption"},
			RSAKeySize:            intp(2048), DHParamSize: intp(1024), ECDHParamSize: 256,
			MaximumCertificateLifespan: 366, OCSPStaple: true, ServerPreferredOrder: true, HSTSMinAge: 63072000,
		},
	}
}

// ProfileNames are the built-in profiles.
func ProfileNames() []string { return []string{"modern", "intermediate", "old"} }
