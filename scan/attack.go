package scan

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/transcript"
)

// This file holds what the vulnerability probes do on their connection
// once the server's first flight is read: an early ChangeCipherSpec (CCS
// injection), a malformed RSA ClientKeyExchange (ROBOT), and the reading
// of a resumed session's ServerHello (Ticketbleed). Each records how the
// server answered, in words that are the same for the same answer, so
// that answers can be compared; what a vulnerable server leaks is zeroed
// in the recording before the transcript is decoded.

// ccsAnswer is what the server did with an early ChangeCipherSpec.
type ccsAnswer struct {
	state  string // Vulnerable, NotVulnerable or Unknown
	detail string
}

// earlyCCS sends a ChangeCipherSpec right after the server's first
// flight, before any key exchange (CVE-2014-0224). A correct server fails
// the handshake with unexpected_message (RFC 5246 §7.1: a ChangeCipherSpec
// is only valid after the key exchange) or closes. A vulnerable one
// (OpenSSL before 0.9.8za, 1.0.0m and 1.0.1h) takes it silently and
// switches to keys derived from an empty master secret; a second
// ChangeCipherSpec, sent in clear, then fails to decrypt there
// (bad_record_mac or decryption_failed). As testssl.sh and sslyze do, any
// other answer is taken as acceptance; no answer at all is unknown.
func (h *hsState) earlyCCS() *ccsAnswer {
	r := h.res
	ccs := wire.AppendRecords(nil, wire.ContentChangeCipherSpec, r.version, []byte{1})
	if err := h.v.send(ccs); err != nil {
		return &ccsAnswer{Unknown, "could not send the ChangeCipherSpec: " + err.Error()}
	}
	first := min(h.timeout, time.Second)
	h.v.c.SetReadDeadline(time.Now().Add(first))
	h.v.pause = true // silence here is not the end
	it, end := h.nextAnswer()
	h.v.pause = false
	second := false
	if it == nil && end == "timeout" {
		// Silence: the server may have taken it. The second one tells.
		if err := h.v.send(ccs); err != nil {
			return &ccsAnswer{Unknown, fmt.Sprintf("no answer to the early ChangeCipherSpec within %v, and a second could not be sent: %v", first, err)}
		}
		second = true
		h.v.c.SetReadDeadline(time.Now().Add(min(h.timeout, 2*time.Second)))
		it, end = h.nextAnswer()
	}
	when := "the early ChangeCipherSpec"
	if second {
		when = fmt.Sprintf("a second ChangeCipherSpec, sent in clear after %v of silence", first)
	}
	switch {
	case it == nil && (end == "fin" || end == "rst"):
		return &ccsAnswer{NotVulnerable, fmt.Sprintf("the server %s on %s", map[string]string{"fin": "closed the connection", "rst": "reset the connection"}[end], when)}
	case it == nil && end == "timeout":
		return &ccsAnswer{Unknown, fmt.Sprintf("the server answered neither the early ChangeCipherSpec nor a second one (waited %v and then %v)", first, min(h.timeout, 2*time.Second))}
	case it == nil:
		return &ccsAnswer{Unknown, "after the early ChangeCipherSpec: " + end}
	case it.kind == itemAlert:
		d := it.alert.Description
		switch d {
		case wire.AlertUnexpectedMessage:
			return &ccsAnswer{NotVulnerable, fmt.Sprintf("the server refused %s with alert %s", when, it.alert)}
		case wire.AlertHandshakeFailure:
			return &ccsAnswer{NotVulnerable, fmt.Sprintf("the server refused %s with alert %s (testssl.sh: probably not vulnerable, unexpected_message is the answer RFC 5246 asks for)", when, it.alert)}
		case wire.AlertBadRecordMAC, 21: // decryption_failed
			return &ccsAnswer{Vulnerable, fmt.Sprintf("the server answered %s with alert %s: it took the early ChangeCipherSpec and tried to decrypt what followed with keys made without a key exchange", when, it.alert)}
		}
		return &ccsAnswer{Vulnerable, fmt.Sprintf("the server answered %s with alert %s, not unexpected_message: it did not refuse the ChangeCipherSpec as a correct server does (testssl.sh: likely vulnerable)", when, it.alert)}
	case it.kind == itemNotTLS:
		return &ccsAnswer{Unknown, fmt.Sprintf("the server answered %s with bytes that are not TLS: %s", when, it.note)}
	}
	return &ccsAnswer{Vulnerable, fmt.Sprintf("the server went on after %s (%s) instead of refusing it", when, itemWords(*it))}
}

// nextAnswer reads the server's next item; at the end of the connection
// it returns nil and how it ended ("fin", "rst", "timeout", or why the
// probe stopped reading).
func (h *hsState) nextAnswer() (*item, string) {
	it, err := h.v.next(&h.q)
	if err != nil {
		return nil, endWords(err)
	}
	return &it, ""
}

// endWords names how a read ended.
func endWords(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF):
		return "fin"
	case errors.Is(err, syscall.ECONNRESET):
		return "rst"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}

// itemWords names a server item for an answer's description.
func itemWords(it item) string {
	switch it.kind {
	case itemAlert:
		return "alert " + it.alert.String()
	case itemCCS:
		return "ChangeCipherSpec"
	case itemHandshake:
		return "a " + it.msg.Type.String() + " message"
	case itemAppData:
		return "application data"
	case itemHeartbeat:
		return "a heartbeat"
	case itemSSLv2:
		return "an SSL 2.0 message"
	}
	return "bytes that are not TLS"
}

// ROBOT variants of the PKCS#1 v1.5 block the ClientKeyExchange carries
// (the robot-detect and sslyze payloads, "Return Of Bleichenbacher's
// Oracle Threat", Böck, Somorovsky, Young 2018): one correctly formatted,
// four broken in the ways a padding check may tell apart.
const (
	robotValid        = iota // 00 02 PAD 00 VERSION PMS
	robotWrongFirst          // 41 17 PAD 00 VERSION PMS
	robotWrong00             // 00 02 PAD 11 PMS 00 11: the 00 separator in the wrong place
	robotNo00                // 00 02 PAD 11 11 11 PMS: no 00 separator
	robotWrongVersion        // 00 02 PAD 00 02 02 PMS: a wrong version in the premaster secret
	robotVariants
)

// robotVariantNames name the variants in evidence.
var robotVariantNames = [robotVariants]string{
	"correctly formatted (00 02 … 00, version, 46 bytes)",
	"wrong first two bytes (41 17)",
	"the 00 separator in the wrong place",
	"no 00 separator",
	"a wrong version in the premaster secret (02 02)",
}

// robotPayload is what one ROBOT connection sends after the server's
// first flight.
type robotPayload struct {
	variant int
	// finish sends ChangeCipherSpec and a Finished record after the
	// ClientKeyExchange; the record is the same for every variant (the
	// server cannot decrypt it whatever the premaster secret).
	finish   bool
	finished []byte
	// wait is how long to wait for the server's answer.
	wait time.Duration
}

// robotAnswer is how the server answered one ROBOT ClientKeyExchange.
type robotAnswer struct {
	// answer describes it: the records the server sent, in order, and how
	// the connection ended ("alert fatal bad_record_mac; the connection
	// closed"). The same answer gives the same words.
	answer string
	// elapsed is the time from sending to the first thing seen.
	elapsed time.Duration
	// err says why the payload was not sent (not an answer).
	err string
}

// robotMessage builds the k-byte PKCS#1 v1.5 block of a variant (the
// layouts of robot-detect and sslyze, with their fixed filler bytes: the
// blocks differ only where the variant says).
func robotMessage(variant, k int, version wire.Version) []byte {
	pms := make([]byte, 46)
	pms[0] = 0xaa
	for i := 1; i < len(pms); i++ {
		pms[i] = []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}[(i-1)%9]
	}
	pad := make([]byte, k-51)
	for i := range pad {
		pad[i] = []byte{0xab, 0xcd}[i%2]
	}
	m := make([]byte, 0, k)
	switch variant {
	case robotValid:
		m = append(append(append(append(m, 0, 2), pad...), 0, byte(version>>8), byte(version)), pms...)
	case robotWrongFirst:
		m = append(append(append(append(m, 0x41, 0x17), pad...), 0, byte(version>>8), byte(version)), pms...)
	case robotWrong00:
		m = append(append(append(append(m, 0, 2), pad...), 0x11), pms...)
		m = append(m, 0, 0x11)
	case robotNo00:
		m = append(append(append(append(m, 0, 2), pad...), 0x11, 0x11, 0x11), pms...)
	case robotWrongVersion:
		m = append(append(append(append(m, 0, 2), pad...), 0, 2, 2), pms...)
	}
	return m
}

// robotExchange sends the ClientKeyExchange of one ROBOT variant, the
// block encrypted with the server's RSA key without further padding (and,
// with finish, ChangeCipherSpec and the Finished record), and describes
// how the server answered within the wait.
func (h *hsState) robotExchange(p *robotPayload) *robotAnswer {
	r := h.res
	if len(r.certs) == 0 {
		return &robotAnswer{err: "the server sent no certificate"}
	}
	c, err := x509.ParseCertificate(r.certs[0])
	if err != nil {
		return &robotAnswer{err: "the server's certificate does not parse: " + err.Error()}
	}
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return &robotAnswer{err: "the server's certificate has no RSA key"}
	}
	k := (pub.N.BitLen() + 7) / 8
	if k < 64 || k > 1024 || pub.E < 3 {
		return &robotAnswer{err: fmt.Sprintf("the server's RSA key (%d bits, e=%d) is out of the range tlskit tests", pub.N.BitLen(), pub.E)}
	}
	m := new(big.Int).SetBytes(robotMessage(p.variant, k, r.hello.Version))
	if m.Cmp(pub.N) >= 0 {
		return &robotAnswer{err: "the variant's block is not below the modulus"}
	}
	enc := new(big.Int).Exp(m, big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, k))
	cke := enc
	if r.version != wire.VersionSSL30 {
		cke = append([]byte{byte(k >> 8), byte(k)}, enc...)
	}
	out := wire.AppendRecords(nil, wire.ContentHandshake, r.version, wire.HandshakeMessage(&wire.ClientKeyExchange{Raw: cke}))
	if p.finish {
		out = wire.AppendRecords(out, wire.ContentChangeCipherSpec, r.version, []byte{1})
		out = wire.AppendRecords(out, wire.ContentHandshake, r.version, p.finished)
	}
	start := time.Now()
	if err := h.v.send(out); err != nil {
		return &robotAnswer{err: "could not send the ClientKeyExchange: " + err.Error()}
	}
	h.v.c.SetReadDeadline(start.Add(p.wait))
	a := &robotAnswer{}
	var seen []string
	for len(seen) < 8 {
		it, end := h.nextAnswer()
		if a.elapsed == 0 {
			a.elapsed = time.Since(start)
		}
		if it == nil {
			switch end {
			case "fin":
				seen = append(seen, "the connection closed")
			case "rst":
				seen = append(seen, "the connection was reset")
			case "timeout":
				if len(seen) == 0 {
					seen = append(seen, "no answer before the deadline")
				} else {
					seen = append(seen, "then nothing more before the deadline")
				}
			default:
				seen = append(seen, end)
			}
			break
		}
		seen = append(seen, itemWords(*it))
		if it.kind == itemNotTLS {
			break
		}
	}
	a.answer = strings.Join(seen, "; ")
	return a
}

// ticketbleed checks the session id of a ServerHello that resumed a
// session from a ticket offered with a short session id (CVE-2016-9244):
// RFC 5077 §3.4 wants the id echoed as sent; F5's vulnerable stacks
// echo 32 bytes, the rest being their memory. It returns how many bytes
// came beyond the id sent, and zeroes them in the ServerHello and in the
// recording (the transcript shows zeros), so that nothing leaked is kept.
func (h *hsState) ticketbleed(m *wire.ServerHello) int {
	if m == nil {
		return 0
	}
	sent, got := h.spec.sessionID, m.SessionID
	if len(got) <= len(sent) || !bytes.HasPrefix(got, sent) {
		return 0
	}
	// The ServerHello's random, then the id's length and the id: where the
	// id is in the recorded bytes.
	pattern := append(append(append([]byte(nil), m.Random...), byte(len(got))), got...)
	h.v.redact(pattern, len(m.Random)+1+len(sent))
	clear(pattern)
	n := len(got) - len(sent)
	clear(got[len(sent):])
	return n
}

// redact zeroes the bytes of the first occurrence of pattern in what the
// server sent, from offset from of the pattern to its end.
func (v *conv) redact(pattern []byte, from int) {
	var all []byte
	for _, c := range v.chunks {
		if c.from == transcript.Server && c.data != nil {
			all = append(all, c.data...)
		}
	}
	i := bytes.Index(all, pattern)
	clear(all)
	if i < 0 {
		return
	}
	start, end := i+from, i+len(pattern)
	pos := 0
	for _, c := range v.chunks {
		if c.from != transcript.Server || c.data == nil {
			continue
		}
		for j := range c.data {
			if pos+j >= start && pos+j < end {
				c.data[j] = 0
			}
		}
		pos += len(c.data)
	}
}
