package wire

import "testing"

// TestCertificateRequestEmptyStatusRequest parses the TLS 1.3
// CertificateRequest Go's crypto/tls server sends: it asks for OCSP and SCTs
// with empty status_request and signed_certificate_timestamp extensions
// (RFC 8446 §4.2, §4.4.2.1), which once failed to parse.
func TestCertificateRequestEmptyStatusRequest(t *testing.T) {
	body := []byte{
		0,     // certificate_request_context
		0, 16, // extensions
		0, 5, 0, 0, // status_request, empty
		0, 18, 0, 0, // signed_certificate_timestamp, empty
		0, 13, 0, 4, 0, 2, 4, 3, // signature_algorithms: ecdsa_secp256r1_sha256
	}
	m, err := ParseMessage(TypeCertificateRequest, body, Context{Version: VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	cr := m.(*CertificateRequest)
	if got := cr.SignatureSchemes(); len(got) != 1 || got[0].String() != "ecdsa_secp256r1_sha256" {
		t.Errorf("signature schemes %v", got)
	}
	if string(cr.Marshal()) != string(body) {
		t.Errorf("Marshal does not round-trip")
	}
}
