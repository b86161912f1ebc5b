package lab

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The pss-key case: a TLS 1.2 server whose certificate has an RSA-PSS key
// (id-RSASSA-PSS, RFC 4055), as `openssl req -newkey rsa-pss` makes. Such
// a key signs only with the rsa_pss_pss_* schemes, so a server that has
// nothing else answers a ClientHello that offers none of them (Go's) with
// handshake_failure, as OpenSSL does. crypto/tls can serve neither the key
// nor the schemes, so this is a small TLS 1.2 server of its own:
// ECDHE-RSA-AES128-GCM-SHA256 over x25519, the ServerKeyExchange signed
// with rsa_pss_pss_sha256, secure renegotiation acknowledged (OpenSSL 3
// clients insist), and one HTTP answer, so that openssl s_client and curl
// complete the handshake with it.

// oidRSASSAPSS is id-RSASSA-PSS (RFC 4055, Section 3.1).
var oidRSASSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}

// withPSSKey rewrites a DER certificate's SubjectPublicKeyInfo algorithm to
// id-RSASSA-PSS (parameters absent: any PSS parameters) and signs the new
// TBSCertificate again with the issuer's key, with the same algorithm
// (ECDSA or RSA PKCS #1 v1.5 over SHA-256). crypto/x509 cannot create such
// a certificate.
func withPSSKey(der []byte, issuerKey crypto.Signer) ([]byte, error) {
	input := cryptobyte.String(der)
	var cert, tbs, sigAlg cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) {
		return nil, errors.New("lab: rewriting the key: not a DER certificate")
	}
	// TBSCertificate: version, serial, signature, issuer, validity,
	// subject, subjectPublicKeyInfo, then the extensions, untouched.
	var b cryptobyte.Builder
	var err error
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, tag := range []cbasn1.Tag{cbasn1.Tag(0).Constructed().ContextSpecific(), cbasn1.INTEGER, cbasn1.SEQUENCE, cbasn1.SEQUENCE, cbasn1.SEQUENCE, cbasn1.SEQUENCE} {
			var el cryptobyte.String
			if !tbs.ReadASN1Element(&el, tag) {
				err = errors.New("lab: rewriting the key: malformed TBSCertificate")
				return
			}
			b.AddBytes(el)
		}
		var spki, alg cryptobyte.String
		if !tbs.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) {
			err = errors.New("lab: rewriting the key: malformed SubjectPublicKeyInfo")
			return
		}
		rest := []byte(spki) // the BIT STRING holding the RSAPublicKey
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidRSASSAPSS) })
			b.AddBytes(rest)
		})
		b.AddBytes(tbs)
	})
	if err != nil {
		return nil, err
	}
	newTBS, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("lab: rewriting the key: %w", err)
	}
	digest := sha256.Sum256(newTBS)
	sig, err := issuerKey.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("lab: signing the PSS-key certificate: %w", err)
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	return out.Bytes()
}

// TLS 1.2 values the PSS server uses.
const (
	suiteECDHERSAAES128GCM = 0xc02f
	schemePSSPSSSHA256     = 0x0809
	groupX25519            = 29
	extRenegotiationInfo   = 0xff01
)

// alertHandshakeFailure is a fatal handshake_failure alert record.
const alertHandshakeFailure = "\x15\x03\x03\x00\x02\x02\x28"

// hello is what the PSS server reads from a ClientHello.
type hello struct {
	random, sessionID []byte
	suites, schemes   []uint16
	groups, versions  []uint16
	legacy            uint16
}

// parseHello parses a ClientHello message body (RFC 5246, Section 7.4.1.2).
func parseHello(body []byte) (*hello, error) {
	s := cryptobyte.String(body)
	h := &hello{}
	var random, sid, suites, comp, exts cryptobyte.String
	if !s.ReadUint16(&h.legacy) || !s.ReadBytes((*[]byte)(&random), 32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) {
		return nil, errors.New("lab: malformed ClientHello")
	}
	h.random, h.sessionID = slices.Clone([]byte(random)), slices.Clone([]byte(sid))
	for !suites.Empty() {
		var v uint16
		if !suites.ReadUint16(&v) {
			return nil, errors.New("lab: malformed cipher suites")
		}
		h.suites = append(h.suites, v)
	}
	if s.Empty() {
		return h, nil
	}
	if !s.ReadUint16LengthPrefixed(&exts) {
		return nil, errors.New("lab: malformed extensions")
	}
	list16 := func(d cryptobyte.String, wide bool) []uint16 {
		var l cryptobyte.String
		var ok bool
		if wide {
			ok = d.ReadUint16LengthPrefixed(&l)
		} else {
			ok = d.ReadUint8LengthPrefixed(&l)
		}
		var out []uint16
		for ok && !l.Empty() {
			var v uint16
			if !l.ReadUint16(&v) {
				break
			}
			out = append(out, v)
		}
		return out
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return nil, errors.New("lab: malformed extension")
		}
		switch typ {
		case 13: // signature_algorithms
			h.schemes = list16(data, true)
		case 10: // supported_groups
			h.groups = list16(data, true)
		case 43: // supported_versions
			h.versions = list16(data, false)
		}
	}
	return h, nil
}

// speaks12 reports whether the hello offers TLS 1.2.
func (h *hello) speaks12() bool {
	if len(h.versions) > 0 {
		return slices.Contains(h.versions, 0x0303)
	}
	return h.legacy >= 0x0303
}

// readHandshake reads one handshake message of the given type, which must
// come whole in one record.
func readHandshake(r io.Reader, typ uint8) ([]byte, error) {
	rec, err := readRecord(r)
	if err != nil {
		return nil, err
	}
	if rec.typ != recordTypeHandshake || len(rec.body) < 4 || rec.body[0] != typ {
		return nil, fmt.Errorf("lab: want handshake message %d, got record type %d", typ, rec.typ)
	}
	n := int(rec.body[1])<<16 | int(rec.body[2])<<8 | int(rec.body[3])
	if n != len(rec.body)-4 {
		return nil, errors.New("lab: a handshake message split across records")
	}
	return rec.body, nil
}

// handshakeMsg frames a handshake message.
func handshakeMsg(typ uint8, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

// tlsRecord frames a TLS 1.2 record.
func tlsRecord(typ uint8, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

// prf is the TLS 1.2 PRF with SHA-256 (RFC 5246, Section 5).
func prf(secret []byte, label string, seed []byte, n int) []byte {
	seed = append([]byte(label), seed...)
	out := make([]byte, 0, n+sha256.Size)
	a := seed
	for len(out) < n {
		m := hmac.New(sha256.New, secret)
		m.Write(a)
		a = m.Sum(nil)
		m = hmac.New(sha256.New, secret)
		m.Write(a)
		m.Write(seed)
		out = m.Sum(out)
	}
	return out[:n]
}

// gcmState protects one direction of a TLS 1.2 AES-GCM connection.
type gcmState struct {
	aead cipher.AEAD
	iv   []byte // the 4-byte implicit part of the nonce
	seq  uint64
}

func newGCM(key, iv []byte) (*gcmState, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &gcmState{aead: g, iv: iv}, nil
}

func (g *gcmState) aad(typ uint8, n int) []byte {
	a := binary.BigEndian.AppendUint64(nil, g.seq)
	return append(a, typ, 3, 3, byte(n>>8), byte(n))
}

// seal returns a record of typ holding plaintext (RFC 5288: the explicit
// nonce is the sequence number).
func (g *gcmState) seal(typ uint8, plaintext []byte) []byte {
	explicit := binary.BigEndian.AppendUint64(nil, g.seq)
	nonce := append(slices.Clone(g.iv), explicit...)
	body := g.aead.Seal(explicit, nonce, plaintext, g.aad(typ, len(plaintext)))
	g.seq++
	return tlsRecord(typ, body)
}

// open decrypts a record's body.
func (g *gcmState) open(typ uint8, body []byte) ([]byte, error) {
	if len(body) < 8+16 {
		return nil, errors.New("lab: short GCM record")
	}
	nonce := append(slices.Clone(g.iv), body[:8]...)
	pt, err := g.aead.Open(nil, nonce, body[8:], g.aad(typ, len(body)-8-16))
	g.seq++
	return pt, err
}

// pssServer returns the handler of the pss-key case: chain is the
// certificate chain (leaf with the PSS key first), key its RSA key.
func pssServer(chain [][]byte, key *rsa.PrivateKey) handler {
	return func(ctx context.Context, c net.Conn) error {
		chMsg, err := readHandshake(c, 1)
		if err != nil {
			return err
		}
		h, err := parseHello(chMsg[4:])
		if err != nil {
			return err
		}
		if !h.speaks12() || !slices.Contains(h.schemes, schemePSSPSSSHA256) || !slices.Contains(h.suites, suiteECDHERSAAES128GCM) || !slices.Contains(h.groups, groupX25519) {
			// Nothing this certificate can sign for: what OpenSSL says.
			if _, err := io.WriteString(c, alertHandshakeFailure); err != nil {
				return err
			}
			finish(c)
			return nil
		}
		return pssHandshake(c, h, chMsg, chain, key)
	}
}

// pssHandshake completes a TLS 1.2 ECDHE-RSA handshake signed with
// rsa_pss_pss_sha256 and answers one request.
func pssHandshake(c net.Conn, h *hello, chMsg []byte, chain [][]byte, key *rsa.PrivateKey) error {
	transcript := sha256.New()
	transcript.Write(chMsg)
	serverRandom := make([]byte, 32)
	rand.Read(serverRandom)
	var sh cryptobyte.Builder
	sh.AddUint16(0x0303)
	sh.AddBytes(serverRandom)
	sh.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.sessionID) })
	sh.AddUint16(suiteECDHERSAAES128GCM)
	sh.AddUint8(0)
	sh.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(extRenegotiationInfo)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	})
	var cert cryptobyte.Builder
	cert.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, der := range chain {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(der) })
		}
	})
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	params := append([]byte{3, 0, groupX25519, 32}, eph.PublicKey().Bytes()...)
	signed := sha256.Sum256(bytes.Join([][]byte{h.random, serverRandom, params}, nil))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, signed[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		return err
	}
	ske := append(params, schemePSSPSSSHA256>>8, schemePSSPSSSHA256&0xff, byte(len(sig)>>8), byte(len(sig)))
	ske = append(ske, sig...)
	var flight []byte
	for _, m := range [][]byte{handshakeMsg(2, sh.BytesOrPanic()), handshakeMsg(11, cert.BytesOrPanic()), handshakeMsg(12, ske), handshakeMsg(14, nil)} {
		transcript.Write(m)
		flight = append(flight, m...)
	}
	if _, err := c.Write(tlsRecord(recordTypeHandshake, flight)); err != nil {
		return err
	}
	// The client's key share, ChangeCipherSpec and Finished.
	cke, err := readHandshake(c, 16)
	if err != nil {
		return nil // a client that only looked (tlskit's second look) leaves here
	}
	transcript.Write(cke)
	if len(cke) < 5 || int(cke[4]) != len(cke)-5 {
		return errors.New("lab: malformed ClientKeyExchange")
	}
	peer, err := ecdh.X25519().NewPublicKey(cke[5:])
	if err != nil {
		return err
	}
	pre, err := eph.ECDH(peer)
	if err != nil {
		return err
	}
	master := prf(pre, "master secret", append(slices.Clone(h.random), serverRandom...), 48)
	kb := prf(master, "key expansion", append(slices.Clone(serverRandom), h.random...), 40)
	in, err := newGCM(kb[0:16], kb[32:36])
	if err != nil {
		return err
	}
	out, err := newGCM(kb[16:32], kb[36:40])
	if err != nil {
		return err
	}
	if rec, err := readRecord(c); err != nil || rec.typ != 20 {
		return fmt.Errorf("lab: want ChangeCipherSpec: %v", err)
	}
	rec, err := readRecord(c)
	if err != nil || rec.typ != recordTypeHandshake {
		return fmt.Errorf("lab: want the client's Finished: %v", err)
	}
	fin, err := in.open(recordTypeHandshake, rec.body)
	if err != nil {
		return fmt.Errorf("lab: the client's Finished does not decrypt: %w", err)
	}
	want := prf(master, "client finished", transcript.Sum(nil), 12)
	if len(fin) != 16 || !hmac.Equal(fin[4:], want) {
		return errors.New("lab: the client's Finished is wrong")
	}
	transcript.Write(fin)
	verify := prf(master, "server finished", transcript.Sum(nil), 12)
	resp := append(tlsRecord(20, []byte{1}), out.seal(recordTypeHandshake, handshakeMsg(20, verify))...)
	if _, err := c.Write(resp); err != nil {
		return err
	}
	// One request, one answer, then close_notify.
	rec, err = readRecord(c)
	if err != nil || rec.typ != 23 {
		return nil
	}
	req, err := in.open(23, rec.body)
	if err != nil {
		return err
	}
	if bytes.HasPrefix(req, []byte("GET ")) || bytes.HasPrefix(req, []byte("HEAD ")) {
		body := "tlskit lab: pss-key\n"
		page := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		if _, err := c.Write(out.seal(23, []byte(page))); err != nil {
			return err
		}
	}
	c.Write(out.seal(21, []byte{1, 0}))
	finish(c)
	return nil
}
