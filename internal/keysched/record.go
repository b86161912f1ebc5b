package keysched

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/tlskit/tlskit/internal/wire"
)

// Record content types (RFC 8446 §5.1).
const (
	TypeChangeCipherSpec uint8 = 20
	TypeAlert            uint8 = 21
	TypeHandshake        uint8 = 22
	TypeApplicationData  uint8 = 23
)

// Record size limits (RFC 8446 §5.2, RFC 5246 §6.2.3).
const (
	maxPlaintext      = 1 << 14
	maxCiphertext13   = maxPlaintext + 256
	maxCiphertext12   = maxPlaintext + 2048
	recordHeaderLen   = 5
	explicitNonceLen  = 8
	tls12AEADNonceLen = 12
)

// ErrAuthentication is wrapped by every error that means the record did not
// authenticate (AEAD tag, HMAC or CBC padding): the key is wrong (another
// connection's secret, the wrong direction, handshake versus application
// keys) or the record was corrupted.
var ErrAuthentication = errors.New("authentication failed: wrong key or corrupted record")

// state is the record protection of one direction.
type state struct {
	suite   Suite
	version uint16
	tls13   bool
	seq     uint64

	aead cipher.AEAD
	iv   []byte // TLS 1.3 IV, TLS 1.2 AEAD salt or ChaCha IV, TLS 1.0 CBC chained IV

	block  cipher.Block     // CBC suites
	macKey []byte           // CBC and NULL suites
	mac    func() hash.Hash // HMAC hash
	etm    bool             // RFC 7366 encrypt-then-MAC

	secret []byte // TLS 1.3 traffic secret, for KeyUpdate

	out    []byte    // reused plaintext buffer
	hm     hash.Hash // reused HMAC of CBC and NULL suites
	sum    []byte    // reused MAC output
	hdrBuf [13]byte  // reused MAC header / additional data
	noAAD  bool      // TLS 1.3 drafts 20–24: no additional data
}

// newAEAD builds the AEAD of a cipher.
func newAEAD(c wire.Cipher, key []byte) (cipher.AEAD, error) {
	switch c {
	case wire.CipherChaCha20Poly1305:
		a, err := chacha20poly1305.New(key)
		if err != nil {
			return nil, fmt.Errorf("keysched: %w", err)
		}
		return a, nil
	case wire.CipherAESGCM, wire.CipherAESCCM, wire.CipherAESCCM8:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keysched: %w", err)
		}
		switch c {
		case wire.CipherAESGCM:
			return cipher.NewGCM(b)
		case wire.CipherAESCCM:
			return NewCCM(b, 12, 16)
		default:
			return NewCCM(b, 12, 8)
		}
	}
	return nil, fmt.Errorf("keysched: %v is not an AEAD", c)
}

// newTLS12State builds one direction's TLS 1.0–1.2 record state.
func newTLS12State(s Suite, version uint16, macKey, key, iv []byte, etm bool) (*state, error) {
	st := &state{suite: s, version: version, iv: iv}
	switch s.Cipher {
	case wire.CipherAESGCM, wire.CipherAESCCM, wire.CipherAESCCM8, wire.CipherChaCha20Poly1305:
		a, err := newAEAD(s.Cipher, key)
		if err != nil {
			return nil, err
		}
		st.aead = a
		return st, nil
	case wire.CipherAESCBC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keysched: %w", err)
		}
		st.block = b
		st.etm = etm
	case wire.Cipher3DESCBC:
		b, err := des.NewTripleDESCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keysched: %w", err)
		}
		st.block = b
		st.etm = etm
	case wire.CipherNULL:
	default:
		return nil, fmt.Errorf("keysched: %s: unsupported cipher %v", s.Name, s.Cipher)
	}
	st.macKey = macKey
	st.mac = s.MAC.New
	return st, nil
}

// Opener decrypts the records of one direction of a connection, in order:
// it owns the sequence number. An Opener is not safe for concurrent use.
//
// A record that fails to open leaves the Opener unchanged (same sequence
// number, same TLS 1.0 chained IV), so a caller can skip it, for example
// 0-RTT data that the server rejected.
type Opener struct {
	st *state
}

// Seq returns the sequence number of the next record to open.
func (o *Opener) Seq() uint64 {
	if o.st == nil {
		return 0
	}
	return o.st.seq
}

// SetSeq sets the sequence number of the next record. A capture that lost
// records uses it to resume decrypting after the gap. (TLS 1.0 CBC also
// needs its chained IV back: see [Opener.ResumeChain].)
func (o *Opener) SetSeq(n uint64) {
	if o.st != nil {
		o.st.seq = n
	}
}

// ResumeChain takes the IV of the next record from a record that could not
// be opened: the last cipher block of its ciphertext. TLS 1.0 (and SSL 3.0)
// CBC chains the IV from record to record, so after records were lost the
// first record seen cannot be decrypted, but it gives the IV of the next
// one. It reports false, changing nothing, for every other cipher, whose
// records do not depend on the previous one.
func (o *Opener) ResumeChain(payload []byte) bool {
	st := o.st
	if st == nil || st.block == nil || st.tls13 || st.version >= VersionTLS11 {
		return false
	}
	body := payload
	if st.etm {
		if len(body) < st.suite.MACLen {
			return false
		}
		body = body[:len(body)-st.suite.MACLen]
	}
	bs := st.block.BlockSize()
	if len(body) < bs || len(body)%bs != 0 {
		return false
	}
	st.iv = append([]byte(nil), body[len(body)-bs:]...)
	return true
}

// Suite returns the cipher suite the Opener decrypts.
func (o *Opener) Suite() Suite {
	if o.st == nil {
		return Suite{}
	}
	return o.st.suite
}

// KeyUpdate moves a TLS 1.3 Opener to the next traffic secret (RFC 8446
// §7.2), after the peer's KeyUpdate message; the sequence number restarts at 0.
func (o *Opener) KeyUpdate() error {
	if o.st == nil {
		return errors.New("keysched: Opener not initialized")
	}
	return o.st.keyUpdate()
}

// Open decrypts one record: header is its 5-byte header, payload the
// header's length bytes after it. It returns the plaintext and the real
// content type: in TLS 1.3 the inner type, with the zero padding removed;
// in TLS 1.2 and earlier the header's type.
//
// The plaintext lives in a buffer the Opener reuses: it is valid only until
// the next call to Open. Callers that keep it must copy it. (Decrypting a
// capture's worth of records then allocates nothing per record.)
func (o *Opener) Open(header, payload []byte) (plaintext []byte, contentType uint8, err error) {
	st := o.st
	if st == nil {
		return nil, 0, errors.New("keysched: Opener not initialized; use NewTLS13Opener or NewTLS12Openers")
	}
	if len(header) != recordHeaderLen {
		return nil, 0, fmt.Errorf("keysched: record %d: header is %d bytes, want 5", st.seq, len(header))
	}
	if n := int(binary.BigEndian.Uint16(header[3:])); n != len(payload) {
		return nil, 0, fmt.Errorf("keysched: record %d: header says %d bytes but the payload has %d (record split wrongly?)", st.seq, n, len(payload))
	}
	if st.tls13 {
		plaintext, contentType, err = st.open13(header, payload)
	} else {
		contentType = header[0]
		plaintext, err = st.open12(contentType, header[1:3], payload)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("keysched: record %d: %w", st.seq, err)
	}
	st.seq++
	return plaintext, contentType, nil
}

// DTLSHeaderLen is the size of a DTLS 1.0/1.2 record header: type(1),
// version(2), epoch(2), sequence_number(6), length(2) (RFC 6347 §4.1).
const DTLSHeaderLen = 13

// OpenDTLS decrypts one DTLS 1.0 or 1.2 record: header is its 13-byte
// header, payload the header's length bytes after it. The record carries
// its own epoch and sequence number, which make up the 64-bit sequence
// number of the MAC and the AEAD nonce and additional data (RFC 6347
// §4.1.2.1), so records may be opened in any order and lost ones do not
// matter. The Opener must be the one of the record's epoch; its own
// sequence number is left at the record's plus one.
//
// As with [Opener.Open], the plaintext is valid until the next call.
func (o *Opener) OpenDTLS(header, payload []byte) (plaintext []byte, contentType uint8, err error) {
	st := o.st
	if st == nil {
		return nil, 0, errors.New("keysched: Opener not initialized; use NewTLS12Openers")
	}
	if st.tls13 {
		return nil, 0, errors.New("keysched: DTLS 1.3 records are not supported")
	}
	if len(header) != DTLSHeaderLen {
		return nil, 0, fmt.Errorf("keysched: DTLS record header is %d bytes, want 13", len(header))
	}
	seq := binary.BigEndian.Uint64(header[3:11]) // epoch(16) || sequence_number(48)
	if n := int(binary.BigEndian.Uint16(header[11:])); n != len(payload) {
		return nil, 0, fmt.Errorf("keysched: DTLS record %d/%d: header says %d bytes but the payload has %d", seq>>48, seq&(1<<48-1), n, len(payload))
	}
	st.seq = seq
	vers := header[1:3]
	if binary.BigEndian.Uint16(vers) == VersionDTLS10OpenSSL {
		// OpenSSL before 0.9.8f (DTLS1_BAD_VER) computed the MAC as TLS
		// 1.0 does: the epoch left out of the sequence number, and 3.1 as
		// the version (Wireshark's "old openssl's non-rfc-compliant mac").
		st.seq &= 1<<48 - 1
		vers = []byte{3, 1}
	}
	plaintext, err = st.open12(header[0], vers, payload)
	if err != nil {
		return nil, 0, fmt.Errorf("keysched: DTLS record %d/%d: %w", seq>>48, seq&(1<<48-1), err)
	}
	st.seq++
	return plaintext, header[0], nil
}

// nonce13 is the per-record nonce: IV XOR the left-padded sequence number.
func (st *state) nonce13() []byte {
	nonce := append([]byte(nil), st.iv...)
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], st.seq)
	subtle.XORBytes(nonce[len(nonce)-8:], nonce[len(nonce)-8:], seq[:])
	return nonce
}

// open13 opens a TLS 1.3 TLSCiphertext (RFC 8446 §5.2).
func (st *state) open13(header, payload []byte) ([]byte, uint8, error) {
	if header[0] != TypeApplicationData {
		return nil, 0, fmt.Errorf("outer content type %d is not application_data (23): TLS 1.3 encrypts only application_data records; ChangeCipherSpec and the hellos are plaintext", header[0])
	}
	if len(payload) > maxCiphertext13 {
		return nil, 0, fmt.Errorf("ciphertext of %d bytes exceeds the TLS 1.3 limit of %d", len(payload), maxCiphertext13)
	}
	if len(payload) < st.aead.Overhead()+1 {
		return nil, 0, fmt.Errorf("ciphertext of %d bytes is shorter than the %d-byte tag plus content type", len(payload), st.aead.Overhead())
	}
	ad := header
	if st.noAAD {
		ad = nil
	}
	pt, err := st.aead.Open(st.out[:0], st.nonce13(), payload, ad)
	if err != nil {
		return nil, 0, ErrAuthentication
	}
	st.out = pt
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, errors.New("decrypted record is all zero padding, with no content type")
	}
	return pt[:i], pt[i], nil
}

// macInput is seq_num || type || version || length (RFC 5246 §6.2.3.1);
// SSL 3.0 leaves out the version (RFC 6101 §5.2.3.1).
func (st *state) macHeader(typ uint8, vers []byte, n int) []byte {
	b := st.hdrBuf[:0]
	b = binary.BigEndian.AppendUint64(b, st.seq)
	b = append(b, typ)
	if st.version != VersionSSL30 {
		b = append(b, vers[0], vers[1])
	}
	return binary.BigEndian.AppendUint16(b, uint16(n))
}

// hmacOf computes the record MAC: HMAC, or the SSL 3.0 MAC.
func (st *state) hmacOf(hdr []byte, data ...[]byte) []byte {
	if st.version == VersionSSL30 {
		return st.ssl3MAC(hdr, data...)
	}
	m := st.hm
	if m == nil {
		m = hmac.New(st.mac, st.macKey)
		st.hm = m
	} else {
		m.Reset()
	}
	m.Write(hdr)
	for _, d := range data {
		m.Write(d)
	}
	st.sum = m.Sum(st.sum[:0])
	return st.sum
}

// plainBuf returns the reused plaintext buffer, n bytes long.
func (st *state) plainBuf(n int) []byte {
	if cap(st.out) < n {
		st.out = make([]byte, n, max(n, maxPlaintext+2048))
	}
	return st.out[:n]
}

// open12 opens a TLS 1.0–1.2 (or DTLS) TLSCiphertext (RFC 5246 §6.2.3) of
// content type typ and header version vers.
func (st *state) open12(typ uint8, vers, payload []byte) ([]byte, error) {
	if len(payload) > maxCiphertext12 {
		return nil, fmt.Errorf("ciphertext of %d bytes exceeds the TLS 1.2 limit of %d", len(payload), maxCiphertext12)
	}
	switch {
	case st.aead != nil:
		return st.openAEAD12(typ, vers, payload)
	case st.block != nil:
		return st.openCBC(typ, vers, payload)
	default:
		return st.openNull(typ, vers, payload)
	}
}

// openAEAD12 handles GCM/CCM (explicit nonce, RFC 5288 §3) and ChaCha20
// (IV XOR sequence number, RFC 7905 §2).
func (st *state) openAEAD12(typ uint8, vers, payload []byte) ([]byte, error) {
	var nonce, ct []byte
	if st.suite.Cipher == wire.CipherChaCha20Poly1305 {
		nonce, ct = st.nonce13(), payload
	} else {
		if len(payload) < explicitNonceLen+st.aead.Overhead() {
			return nil, fmt.Errorf("ciphertext of %d bytes is shorter than the 8-byte explicit nonce plus %d-byte tag", len(payload), st.aead.Overhead())
		}
		nonce = append(append(make([]byte, 0, tls12AEADNonceLen), st.iv...), payload[:explicitNonceLen]...)
		ct = payload[explicitNonceLen:]
	}
	if len(ct) < st.aead.Overhead() {
		return nil, fmt.Errorf("ciphertext of %d bytes is shorter than the %d-byte tag", len(ct), st.aead.Overhead())
	}
	ad := st.macHeader(typ, vers, len(ct)-st.aead.Overhead())
	pt, err := st.aead.Open(st.out[:0], nonce, ct, ad)
	if err != nil {
		return nil, ErrAuthentication
	}
	st.out = pt
	return pt, nil
}

// openNull checks the MAC of a NULL-cipher record.
func (st *state) openNull(typ uint8, vers, payload []byte) ([]byte, error) {
	ml := st.suite.MACLen
	if len(payload) < ml {
		return nil, fmt.Errorf("record of %d bytes is shorter than its %d-byte MAC", len(payload), ml)
	}
	pt, tag := payload[:len(payload)-ml], payload[len(payload)-ml:]
	if !hmac.Equal(tag, st.hmacOf(st.macHeader(typ, vers, len(pt)), pt)) {
		return nil, fmt.Errorf("MAC mismatch: %w", ErrAuthentication)
	}
	return append([]byte(nil), pt...), nil
}

// openCBC handles MAC-then-encrypt and encrypt-then-MAC CBC records.
func (st *state) openCBC(typ uint8, vers, payload []byte) ([]byte, error) {
	bs, ml := st.block.BlockSize(), st.suite.MACLen
	explicitIV := st.version >= VersionTLS11
	if st.etm {
		if len(payload) < ml {
			return nil, fmt.Errorf("record of %d bytes is shorter than its %d-byte MAC (encrypt-then-MAC)", len(payload), ml)
		}
		body, tag := payload[:len(payload)-ml], payload[len(payload)-ml:]
		if !hmac.Equal(tag, st.hmacOf(st.macHeader(typ, vers, len(body)), body)) {
			return nil, fmt.Errorf("encrypt-then-MAC tag mismatch (was encrypt_then_mac really negotiated?): %w", ErrAuthentication)
		}
		iv, ct, err := st.splitIV(body, explicitIV)
		if err != nil {
			return nil, err
		}
		pt := st.plainBuf(len(ct))
		cipher.NewCBCDecrypter(st.block, iv).CryptBlocks(pt, ct)
		n, ok := checkPadding(pt)
		if !ok {
			return nil, fmt.Errorf("bad CBC padding under a valid MAC")
		}
		if !explicitIV {
			st.iv = append([]byte(nil), ct[len(ct)-bs:]...)
		}
		return pt[:n], nil
	}
	iv, ct, err := st.splitIV(payload, explicitIV)
	if err != nil {
		return nil, err
	}
	if len(ct) < ml+1 {
		return nil, fmt.Errorf("ciphertext of %d bytes cannot hold a %d-byte MAC and padding", len(ct), ml)
	}
	pt := st.plainBuf(len(ct))
	cipher.NewCBCDecrypter(st.block, iv).CryptBlocks(pt, ct)
	n, ok := st.unpad(pt)
	if !ok || n < ml {
		return nil, fmt.Errorf("bad CBC padding (encrypt-then-MAC negotiated but not used?): %w", ErrAuthentication)
	}
	data, tag := pt[:n-ml], pt[n-ml:n]
	if !hmac.Equal(tag, st.hmacOf(st.macHeader(typ, vers, len(data)), data)) {
		return nil, fmt.Errorf("MAC mismatch: %w", ErrAuthentication)
	}
	if !explicitIV {
		st.iv = append([]byte(nil), ct[len(ct)-bs:]...)
	}
	return data, nil
}

// splitIV separates the explicit IV (TLS 1.1+) from the ciphertext, or
// uses the chained IV (TLS 1.0), and checks the block alignment.
func (st *state) splitIV(body []byte, explicitIV bool) (iv, ct []byte, err error) {
	bs := st.block.BlockSize()
	iv, ct = st.iv, body
	if explicitIV {
		if len(body) < bs {
			return nil, nil, fmt.Errorf("record of %d bytes is shorter than its %d-byte explicit IV", len(body), bs)
		}
		iv, ct = body[:bs], body[bs:]
	}
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, nil, fmt.Errorf("CBC ciphertext of %d bytes is not a positive multiple of the %d-byte block", len(ct), bs)
	}
	return iv, ct, nil
}

// checkPadding returns the length before the TLS CBC padding (each of the
// last p+1 bytes equals p).
func checkPadding(pt []byte) (int, bool) {
	if len(pt) == 0 {
		return 0, false
	}
	p := int(pt[len(pt)-1])
	if p+1 > len(pt) {
		return 0, false
	}
	for _, b := range pt[len(pt)-1-p:] {
		if int(b) != p {
			return 0, false
		}
	}
	return len(pt) - 1 - p, true
}

// Sealer encrypts the records of one direction, the mirror of [Opener].
// It exists for tests, fuzzing and test servers. A Sealer is not safe for
// concurrent use.
type Sealer struct {
	st *state
}

// Seq returns the sequence number of the next record to seal.
func (s *Sealer) Seq() uint64 {
	if s.st == nil {
		return 0
	}
	return s.st.seq
}

// KeyUpdate moves a TLS 1.3 Sealer to the next traffic secret.
func (s *Sealer) KeyUpdate() error {
	if s.st == nil {
		return errors.New("keysched: Sealer not initialized")
	}
	return s.st.keyUpdate()
}

// Seal protects one record of the given content type and returns it with
// its 5-byte header. TLS 1.3 records carry the type inside, without
// padding; TLS 1.1+ CBC records get a deterministic explicit IV (the
// block cipher applied to the sequence number, NIST SP 800-38A Appendix C).
func (s *Sealer) Seal(contentType uint8, plaintext []byte) (record []byte, err error) {
	st := s.st
	if st == nil {
		return nil, errors.New("keysched: Sealer not initialized; use NewTLS13Sealer or NewTLS12Sealers")
	}
	if len(plaintext) > maxPlaintext {
		return nil, fmt.Errorf("keysched: record %d: plaintext of %d bytes exceeds the 16384-byte record limit", st.seq, len(plaintext))
	}
	var vers [2]byte
	binary.BigEndian.PutUint16(vers[:], st.version)
	var body []byte
	switch {
	case st.tls13:
		binary.BigEndian.PutUint16(vers[:], VersionTLS12)
		inner := append(append(make([]byte, 0, len(plaintext)+1+st.aead.Overhead()), plaintext...), contentType)
		hdr := []byte{TypeApplicationData, vers[0], vers[1], 0, 0}
		binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+st.aead.Overhead()))
		rec := st.aead.Seal(append([]byte(nil), hdr...), st.nonce13(), inner, hdr)
		st.seq++
		return rec, nil
	case st.aead != nil:
		ad := st.macHeader(contentType, vers[:], len(plaintext))
		if st.suite.Cipher == wire.CipherChaCha20Poly1305 {
			body = st.aead.Seal(nil, st.nonce13(), plaintext, ad)
		} else {
			explicit := binary.BigEndian.AppendUint64(nil, st.seq)
			nonce := append(append([]byte(nil), st.iv...), explicit...)
			body = st.aead.Seal(explicit, nonce, plaintext, ad)
		}
	case st.block != nil:
		body = st.sealCBC(contentType, vers[:], plaintext)
	default:
		body = append(append([]byte(nil), plaintext...), st.hmacOf(st.macHeader(contentType, vers[:], len(plaintext)), plaintext)...)
	}
	rec := append([]byte{contentType, vers[0], vers[1], 0, 0}, body...)
	binary.BigEndian.PutUint16(rec[3:], uint16(len(body)))
	st.seq++
	return rec, nil
}

// sealCBC encrypts with MAC-then-encrypt or encrypt-then-MAC.
func (st *state) sealCBC(typ uint8, vers, plaintext []byte) []byte {
	bs := st.block.BlockSize()
	explicitIV := st.version >= VersionTLS11
	iv := st.iv
	if explicitIV {
		iv = make([]byte, bs)
		binary.BigEndian.PutUint64(iv[bs-8:], st.seq)
		st.block.Encrypt(iv, iv)
	}
	data := append([]byte(nil), plaintext...)
	if !st.etm {
		data = append(data, st.hmacOf(st.macHeader(typ, vers, len(plaintext)), plaintext)...)
	}
	p := bs - len(data)%bs - 1
	for range p + 1 {
		data = append(data, byte(p))
	}
	cipher.NewCBCEncrypter(st.block, iv).CryptBlocks(data, data)
	if !explicitIV {
		st.iv = append([]byte(nil), data[len(data)-bs:]...)
	}
	var body []byte
	if explicitIV {
		body = append(append(body, iv...), data...)
	} else {
		body = data
	}
	if st.etm {
		body = append(body, st.hmacOf(st.macHeader(typ, vers, len(body)), body)...)
	}
	return body
}
