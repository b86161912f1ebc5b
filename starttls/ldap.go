package starttls

import (
	"errors"
	"fmt"
	"strings"
)

// LDAP object identifiers (RFC 4511, Section 4.14; RFC 4532; RFC 4511,
// Section 4.4.1).
const (
	oidStartTLS     = "1.3.6.1.4.1.1466.20037"
	oidWhoAmI       = "1.3.6.1.4.1.4203.1.11.3"
	oidNoticeOfDisc = "1.3.6.1.4.1.1466.20036"
)

// BER tags of the LDAP messages used here.
const (
	tagSequence    = 0x30
	tagInteger     = 0x02
	tagEnumerated  = 0x0a
	tagOctetString = 0x04
	tagExtendedReq = 0x77 // [APPLICATION 23] constructed
	tagExtendedRes = 0x78 // [APPLICATION 24] constructed
	tagReqName     = 0x80 // [0] requestName
	tagReferral    = 0xa3 // [3] referral
	tagRespName    = 0x8a // [10] responseName
	tagRespValue   = 0x8b // [11] responseValue
)

// maxLDAPMessage bounds one LDAP message read before the upgrade.
const maxLDAPMessage = 64 << 10

// ldapExtendedRequest encodes an ExtendedRequest for oid with messageID
// id (at most 127) and no value.
func ldapExtendedRequest(id int, oid string) []byte {
	name := append([]byte{tagReqName, byte(len(oid))}, oid...)
	op := append([]byte{tagExtendedReq, byte(len(name))}, name...)
	msg := append([]byte{tagInteger, 1, byte(id)}, op...)
	return append([]byte{tagSequence, byte(len(msg))}, msg...)
}

// ldapResult is a decoded ExtendedResponse.
type ldapResult struct {
	messageID  int
	code       int
	matchedDN  string
	diagnostic string
	name       string // responseName, if any
	value      []byte // responseValue, if any
}

func (r ldapResult) String() string {
	s := fmt.Sprintf("ExtendedResponse (messageID %d): %s (%d)", r.messageID, ldapResultName(r.code), r.code)
	if r.diagnostic != "" {
		s += ": " + printable(r.diagnostic)
	}
	if r.name != "" {
		s += ", responseName " + r.name
	}
	return s
}

// berElement splits one BER element off b: its tag, contents and the rest.
// Only definite lengths of up to four bytes are accepted (LDAP uses
// definite lengths, RFC 4511, Section 5.1).
func berElement(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errors.New("a BER element shorter than 2 bytes")
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, errors.New("a multi-byte BER tag")
	}
	n, hdr, err := berLength(b[1:])
	if err != nil {
		return 0, nil, nil, err
	}
	hdr++
	if n > len(b)-hdr {
		return 0, nil, nil, fmt.Errorf("a BER element of %d bytes with only %d present", n, len(b)-hdr)
	}
	return tag, b[hdr : hdr+n], b[hdr+n:], nil
}

// berLength decodes a BER definite length and returns it with the number
// of bytes it took.
func berLength(b []byte) (int, int, error) {
	if len(b) == 0 {
		return 0, 0, errors.New("a BER length is missing")
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, nil
	}
	k := int(b[0] & 0x7f)
	if k == 0 {
		return 0, 0, errors.New("an indefinite BER length (not allowed in LDAP)")
	}
	if k > 4 {
		return 0, 0, fmt.Errorf("a BER length of %d bytes", k)
	}
	if len(b) < 1+k {
		return 0, 0, errors.New("a BER length is cut short")
	}
	n := 0
	for _, c := range b[1 : 1+k] {
		n = n<<8 | int(c)
	}
	if n < 0 || n > maxLDAPMessage {
		return 0, 0, fmt.Errorf("a BER length of %d bytes, beyond the %d KiB allowed here", n, maxLDAPMessage>>10)
	}
	return n, 1 + k, nil
}

// berInt decodes a small non-negative BER INTEGER or ENUMERATED.
func berInt(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 4 {
		return 0, fmt.Errorf("an integer of %d bytes", len(b))
	}
	if b[0]&0x80 != 0 {
		return 0, errors.New("a negative integer")
	}
	n := 0
	for _, c := range b {
		n = n<<8 | int(c)
	}
	return n, nil
}

// parseLDAPExtendedResponse decodes an LDAPMessage holding an
// ExtendedResponse (RFC 4511, Section 4.12).
func parseLDAPExtendedResponse(msg []byte) (ldapResult, error) {
	var r ldapResult
	tag, body, rest, err := berElement(msg)
	if err != nil {
		return r, err
	}
	if tag != tagSequence || len(rest) != 0 {
		return r, fmt.Errorf("an LDAPMessage is a SEQUENCE (0x30), got tag 0x%02x", tag)
	}
	tag, id, body, err := berElement(body)
	if err != nil {
		return r, err
	}
	if tag != tagInteger {
		return r, fmt.Errorf("the messageID is an INTEGER, got tag 0x%02x", tag)
	}
	if r.messageID, err = berInt(id); err != nil {
		return r, fmt.Errorf("messageID: %w", err)
	}
	tag, op, _, err := berElement(body) // controls may follow
	if err != nil {
		return r, err
	}
	if tag != tagExtendedRes {
		return r, fmt.Errorf("not an ExtendedResponse: protocolOp tag 0x%02x", tag)
	}
	tag, code, op, err := berElement(op)
	if err != nil {
		return r, err
	}
	if tag != tagEnumerated {
		return r, fmt.Errorf("the resultCode is ENUMERATED, got tag 0x%02x", tag)
	}
	if r.code, err = berInt(code); err != nil {
		return r, fmt.Errorf("resultCode: %w", err)
	}
	for i, dst := range []*string{&r.matchedDN, &r.diagnostic} {
		var v []byte
		tag, v, op, err = berElement(op)
		if err != nil {
			return r, err
		}
		if tag != tagOctetString {
			return r, fmt.Errorf("LDAPResult field %d is an OCTET STRING, got tag 0x%02x", i+2, tag)
		}
		*dst = string(v)
	}
	for len(op) > 0 {
		var v []byte
		tag, v, op, err = berElement(op)
		if err != nil {
			return r, err
		}
		switch tag {
		case tagRespName:
			r.name = string(v)
		case tagRespValue:
			r.value = v
		}
	}
	return r, nil
}

// readLDAPMessage reads one whole LDAPMessage.
func (s *session) readLDAPMessage() ([]byte, error) {
	hdr, err := s.full(2)
	if err != nil {
		return nil, err
	}
	if hdr[0] != tagSequence {
		return hdr, fmt.Errorf("an LDAP message starts with 0x30, got % x", hdr)
	}
	var more []byte
	if hdr[1] >= 0x80 {
		k := int(hdr[1] & 0x7f)
		if k == 0 || k > 4 {
			return hdr, fmt.Errorf("an LDAP message length of %d bytes", k)
		}
		if more, err = s.full(k); err != nil {
			return nil, err
		}
	}
	n, _, err := berLength(append(hdr[1:2:2], more...))
	if err != nil {
		return hdr, err
	}
	body, err := s.full(n)
	if err != nil {
		return nil, err
	}
	return append(append(hdr, more...), body...), nil
}

// ldap speaks the LDAP StartTLS extended operation (RFC 4511, Section
// 4.14). The client speaks first; there is no greeting.
func (s *session) ldap() error {
	s.res.Offered = true // no capability list is asked for: the answer says it
	s.res.Command = "StartTLS extended request (" + oidStartTLS + ")"
	req := ldapExtendedRequest(1, oidStartTLS)
	if err := s.send(StageUpgrade, fmt.Sprintf("ExtendedRequest (messageID 1): StartTLS %s", oidStartTLS), req); err != nil {
		return s.netFail("sending the StartTLS request", err)
	}
	raw, err := s.readLDAPMessage()
	if err != nil {
		if raw != nil {
			s.emit(s.peer, StageUpgrade, escape(raw), len(raw))
			return s.fail(Unexpected, escape(raw), err)
		}
		return s.netFail("reading the StartTLS response", err)
	}
	r, err := parseLDAPExtendedResponse(raw)
	if err != nil {
		s.emit(s.peer, StageUpgrade, fmt.Sprintf("%d bytes that are not an ExtendedResponse: % x", len(raw), raw[:min(len(raw), 64)]), len(raw))
		return s.fail(Unexpected, "", err)
	}
	s.emit(s.peer, StageUpgrade, r.String(), len(raw))
	s.upgradeReply(r.String())
	switch {
	case r.messageID == 0 && r.name == oidNoticeOfDisc:
		return s.fail(Refused, r.String(), errors.New("the server sent a notice of disconnection"))
	case r.messageID != 1:
		return s.fail(Unexpected, r.String(), fmt.Errorf("the response is for messageID %d, not 1", r.messageID))
	case r.code == 0:
		return nil
	case r.code == 2 && (r.diagnostic == "" || strings.Contains(strings.ToLower(r.diagnostic), "unsupported")):
		// protocolError: the operation is unknown, so TLS is not
		// configured (slapd without TLSCertificateFile says so).
		s.res.Offered = false
		return s.fail(NotOffered, r.String(), nil)
	}
	return s.fail(Refused, r.String(), nil)
}

// ldapResultName names an LDAP resultCode (RFC 4511, Appendix A.1).
func ldapResultName(code int) string {
	names := map[int]string{
		0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded",
		4: "sizeLimitExceeded", 7: "authMethodNotSupported", 8: "strongerAuthRequired",
		10: "referral", 11: "adminLimitExceeded", 12: "unavailableCriticalExtension",
		13: "confidentialityRequired", 14: "saslBindInProgress", 32: "noSuchObject",
		48: "inappropriateAuthentication", 49: "invalidCredentials", 50: "insufficientAccessRights",
		51: "busy", 52: "unavailable", 53: "unwillingToPerform", 54: "loopDetect", 80: "other",
	}
	if n, ok := names[code]; ok {
		return n
	}
	return "resultCode"
}
