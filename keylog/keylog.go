// Package keylog reads and writes NSS key log files, the format that
// Firefox, Chrome, curl, OpenSSL (-keylogfile), GnuTLS and Go's
// [crypto/tls.Config.KeyLogWriter] write when SSLKEYLOGFILE is set, and that
// Wireshark reads to decrypt captured TLS traffic.
//
// # Format
//
// Each line is "LABEL <client random hex> <secret hex>". The client random
// (32 bytes) names the connection; the secret's meaning depends on the label:
//
//	CLIENT_RANDOM <client random> <48-byte TLS 1.2 master secret>
//	CLIENT_HANDSHAKE_TRAFFIC_SECRET <client random> <TLS 1.3 secret>
//	RSA <first 8 bytes of the encrypted pre-master secret> <48-byte pre-master secret>
//	RSA Session-ID:<session id> Master-Key:<master secret>
//
// After a TLS 1.3 KeyUpdate, OpenSSL 3 logs CLIENT_TRAFFIC_SECRET_N and
// SERVER_TRAFFIC_SECRET_N (a literal "N"); other libraries number them
// (_1, _2…). Both are accepted.
//
// Blank lines and lines starting with '#' are ignored; hex may be upper or
// lower case; CRLF line endings are accepted.
//
// # Secrets
//
// A key log decrypts every connection it names, past and future captures
// alike. [OpenFile] writes one safely: never through a symbolic link, only
// to a private regular file of the current user, created with mode 0600 and
// only once there is a secret to write.
package keylog

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

// The labels of the NSS key log format.
const (
	// ClientRandom labels a TLS 1.2-and-earlier master secret.
	ClientRandom = "CLIENT_RANDOM"
	// ClientEarlyTrafficSecret labels the TLS 1.3 0-RTT client traffic secret.
	ClientEarlyTrafficSecret = "CLIENT_EARLY_TRAFFIC_SECRET"
	// ClientHandshakeTrafficSecret labels the TLS 1.3 client handshake traffic secret.
	ClientHandshakeTrafficSecret = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	// ServerHandshakeTrafficSecret labels the TLS 1.3 server handshake traffic secret.
	ServerHandshakeTrafficSecret = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	// ClientTrafficSecret0 labels the first TLS 1.3 client application traffic secret.
	ClientTrafficSecret0 = "CLIENT_TRAFFIC_SECRET_0"
	// ServerTrafficSecret0 labels the first TLS 1.3 server application traffic secret.
	ServerTrafficSecret0 = "SERVER_TRAFFIC_SECRET_0"
	// EarlyExporterSecret labels the TLS 1.3 early exporter master secret.
	EarlyExporterSecret = "EARLY_EXPORTER_SECRET"
	// ExporterSecret labels the TLS 1.3 exporter master secret.
	ExporterSecret = "EXPORTER_SECRET"
	// RSA labels an RSA key exchange secret, in either of its two forms
	// (encrypted pre-master prefix, or session id and master key).
	RSA = "RSA"
	// PMSClientRandom labels a pre-master secret keyed by client random.
	PMSClientRandom = "PMS_CLIENT_RANDOM"
	// ClientTrafficSecretN is what OpenSSL 3 logs, literally, for the client
	// application traffic secret after a KeyUpdate; like the numbered
	// CLIENT_TRAFFIC_SECRET_1, _2… of other libraries it is accepted, and
	// the latest line wins.
	ClientTrafficSecretN = "CLIENT_TRAFFIC_SECRET_N"
	// ServerTrafficSecretN is the server's counterpart of ClientTrafficSecretN.
	ServerTrafficSecretN = "SERVER_TRAFFIC_SECRET_N"
)

// labelKnown reports whether label is one the format defines (RSA excluded:
// its lines have their own shape).
func labelKnown(label string) bool {
	switch label {
	case ClientRandom, ClientEarlyTrafficSecret, ClientHandshakeTrafficSecret,
		ServerHandshakeTrafficSecret, ClientTrafficSecret0, ServerTrafficSecret0,
		EarlyExporterSecret, ExporterSecret, PMSClientRandom:
		return true
	}
	// CLIENT_TRAFFIC_SECRET_<n> and SERVER_TRAFFIC_SECRET_<n> for n ≥ 1 or
	// OpenSSL's literal "N": secrets after KeyUpdates.
	for _, prefix := range []string{"CLIENT_TRAFFIC_SECRET_", "SERVER_TRAFFIC_SECRET_"} {
		if n, ok := strings.CutPrefix(label, prefix); ok {
			return n == "N" || n != "" && len(n) <= 10 && strings.Trim(n, "0123456789") == ""
		}
	}
	return false
}

// LineError is one key log line that could not be used.
type LineError struct {
	// Line is the 1-based line number.
	Line int
	// Text is the offending line, shortened if very long.
	Text string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *LineError) Error() string {
	return fmt.Sprintf("keylog: line %d: %s", e.Line, e.Reason)
}

// entryKey identifies one secret that is not keyed by a 32-byte client
// random: RSA session ids and encrypted pre-master prefixes, session
// tickets (and, should a caller add one, a client random of another size).
type entryKey struct {
	label string
	id    string // session id, encrypted pre-master prefix or ticket
}

// crKey is a client random, the key of almost every secret.
type crKey [32]byte

// inlineSecret is the longest secret stored inline: TLS 1.2 master
// secrets and TLS 1.3 secrets (SHA-384 at most). Longer ones (a
// PMS_CLIENT_RANDOM of a large DH group) go to Log.long.
const inlineSecret = 48

// crSecret is one secret of a client random, stored without pointers:
// key logs of hundreds of megabytes (a browser's SSLKEYLOGFILE) are held
// at a fraction of their size instead of a string per line.
type crSecret struct {
	secret [inlineSecret]byte
	next   int32  // the client random's next secret, or -1
	label  uint16 // index into Log.labels
	n      uint8  // length of secret, or longSecret
}

// longSecret marks a crSecret whose bytes are in Log.long.
const longSecret = 0xff

// crList is the list of a client random's secrets in crSecrets, in the
// order they first appeared.
type crList struct{ head, tail int32 }

// chunkBits sizes the chunks crSecrets are stored in (1024 each), so that
// growing never copies what is stored, except the first chunk, which
// starts at firstChunk and doubles: a check's log holds five secrets, and
// a full chunk (56 KiB) was a fifth of what a probe allocated.
const chunkBits = 10

// firstChunk is the size of the first chunk, which doubles up to
// 1<<chunkBits as secrets come.
const firstChunk = 8

// Log is a set of key log secrets. The zero value is an empty Log ready to
// use; a Log is safe for concurrent use.
type Log struct {
	mu sync.Mutex
	// Secrets by client random: crs finds a client random's list in
	// chunks; crOrder lists the client randoms as they first appeared.
	crs     map[crKey]crList
	crOrder []crKey
	chunks  [][]crSecret
	nsec    int32
	long    map[int32][]byte
	labels  []string
	labelIx map[string]uint16
	parsed  []bool // by label index: a key log line with it parsed, so it is a valid label
	// Everything else, by label and id.
	other   map[entryKey][]byte
	order   []entryKey // insertion order of other
	rsaKeys []*rsa.PrivateKey
	psk     []byte
	// base, if set, answers what l does not know (see NewOverlay).
	base *Log
}

// NewOverlay returns an empty Log that reads through to base: a secret
// not added to the overlay is looked up in base, and everything added goes
// to the overlay, never to base. A capture adds the secrets of its
// Decryption Secrets Blocks and of the sessions it decodes to an overlay
// of the user's key log instead of a copy of it, so that a key log of
// hundreds of megabytes is held once.
func NewOverlay(base *Log) *Log {
	return &Log{base: base}
}

// Internal keys for the two RSA forms.
const (
	rsaSessionKey   = "RSA Session-ID"
	rsaEncryptedKey = "RSA"
	ticketKey       = "session ticket" // not a key log label: derived by decoders
)

// put stores one secret under another key than a client random, copying
// its bytes.
func (l *Log) put(k entryKey, secret []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.other == nil {
		l.other = make(map[entryKey][]byte)
	}
	if _, ok := l.other[k]; !ok {
		l.order = append(l.order, k)
	}
	l.other[k] = bytes.Clone(secret)
}

// get returns a copy of one secret stored with put.
func (l *Log) get(k entryKey) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.other[k]
	if !ok && l.base != nil {
		return l.base.get(k)
	}
	return bytes.Clone(s), ok
}

// at returns the i-th stored secret of a client random.
func (l *Log) at(i int32) *crSecret {
	return &l.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
}

// label returns the index of a label, adding it.
func (l *Log) label(s string) uint16 {
	if i, ok := l.labelIx[s]; ok {
		return i
	}
	if l.labelIx == nil {
		l.labelIx = make(map[string]uint16)
	}
	i := uint16(len(l.labels))
	s = strings.Clone(s) // not a slice of the line it came from
	l.labels = append(l.labels, s)
	l.parsed = append(l.parsed, false)
	l.labelIx[s] = i
	return i
}

// setSecret stores secret in the i-th slot.
func (l *Log) setSecret(i int32, e *crSecret, secret []byte) {
	if len(secret) <= inlineSecret {
		e.n = uint8(copy(e.secret[:], secret))
		if l.long != nil {
			delete(l.long, i)
		}
		return
	}
	e.n = longSecret
	if l.long == nil {
		l.long = make(map[int32][]byte)
	}
	l.long[i] = bytes.Clone(secret)
}

// secretOf returns a copy of the i-th slot's secret.
func (l *Log) secretOf(i int32, e *crSecret) []byte {
	if e.n == longSecret {
		return bytes.Clone(l.long[i])
	}
	return bytes.Clone(e.secret[:e.n])
}

// Add records the secret for label and client random. Later additions for
// the same label and client random replace earlier ones.
func (l *Log) Add(label string, clientRandom, secret []byte) {
	if len(clientRandom) != len(crKey{}) || len(l.labels) >= 1<<16-1 {
		l.put(entryKey{label, string(clientRandom)}, secret)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addCR(l.label(label), crKey(clientRandom), secret)
}

// addCR is Add with the label's index; l.mu is held.
func (l *Log) addCR(li uint16, k crKey, secret []byte) {
	list, seen := l.crs[k]
	if seen {
		for i := list.head; i >= 0; {
			e := l.at(i)
			if e.label == li {
				l.setSecret(i, e, secret)
				return
			}
			i = e.next
		}
	}
	i := l.nsec
	switch {
	case int(i>>chunkBits) == len(l.chunks) && i == 0:
		// A connection's log holds a handful of secrets: the first
		// chunk starts small and doubles (moving; no pointer into it
		// outlives a call) up to the full size.
		l.chunks = append(l.chunks, make([]crSecret, firstChunk))
	case int(i>>chunkBits) == len(l.chunks):
		l.chunks = append(l.chunks, make([]crSecret, 1<<chunkBits))
	case i>>chunkBits == 0 && int(i) == len(l.chunks[0]):
		grown := make([]crSecret, min(2*len(l.chunks[0]), 1<<chunkBits))
		copy(grown, l.chunks[0])
		l.chunks[0] = grown
	}
	l.nsec++
	e := l.at(i)
	e.label, e.next = li, -1
	l.setSecret(i, e, secret)
	if l.crs == nil {
		l.crs = make(map[crKey]crList)
	}
	if seen {
		l.at(list.tail).next = i
		list.tail = i
	} else {
		list = crList{i, i}
		l.crOrder = append(l.crOrder, k)
	}
	l.crs[k] = list
}

// Secret returns the secret recorded for label and client random.
func (l *Log) Secret(label string, clientRandom []byte) ([]byte, bool) {
	if len(clientRandom) != len(crKey{}) {
		return l.get(entryKey{label, string(clientRandom)}) // falls back to base
	}
	l.mu.Lock()
	li, ok := l.labelIx[label]
	list, seen := l.crs[crKey(clientRandom)]
	if ok && seen {
		for i := list.head; i >= 0; {
			e := l.at(i)
			if e.label == li {
				s := l.secretOf(i, e)
				l.mu.Unlock()
				return s, true
			}
			i = e.next
		}
	}
	l.mu.Unlock()
	if s, ok := l.get(entryKey{label, string(clientRandom)}); ok { // more labels than fit
		return s, true
	}
	if l.base != nil {
		return l.base.Secret(label, clientRandom)
	}
	return nil, false
}

// MasterSecretForSession returns the master secret of an
// "RSA Session-ID:<id> Master-Key:<secret>" line.
func (l *Log) MasterSecretForSession(sessionID []byte) ([]byte, bool) {
	if len(sessionID) == 0 {
		return nil, false
	}
	return l.get(entryKey{rsaSessionKey, string(sessionID)})
}

// PreMasterForEncrypted returns the pre-master secret of an
// "RSA <encrypted pre-master prefix> <pre-master>" line. The argument may be
// the whole encrypted pre-master secret: only its first 8 bytes are used.
func (l *Log) PreMasterForEncrypted(encryptedPMSPrefix []byte) ([]byte, bool) {
	if len(encryptedPMSPrefix) < 8 {
		return nil, false
	}
	return l.get(entryKey{rsaEncryptedKey, string(encryptedPMSPrefix[:8])})
}

// otherCR reports whether k of the other map is a client random's secret.
func otherCR(k entryKey) bool {
	return k.label != rsaSessionKey && k.label != rsaEncryptedKey && k.label != ticketKey
}

// Labels returns the labels the log has secrets for under clientRandom,
// in the order they first appeared.
func (l *Log) Labels(clientRandom []byte) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	if len(clientRandom) == len(crKey{}) {
		if list, ok := l.crs[crKey(clientRandom)]; ok {
			for i := list.head; i >= 0; i = l.at(i).next {
				out = append(out, l.labels[l.at(i).label])
			}
		}
	}
	for _, k := range l.order {
		if k.id == string(clientRandom) && otherCR(k) {
			out = append(out, k.label)
		}
	}
	if l.base != nil {
		for _, s := range l.base.Labels(clientRandom) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Len returns the number of secrets in the log, counting each RSA key and
// the PSK as one.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int(l.nsec) + len(l.other) + len(l.rsaKeys)
	if l.psk != nil {
		n++
	}
	if l.base != nil {
		n += l.base.Len() // a secret in both counts twice
	}
	return n
}

// ClientRandoms returns the distinct client randoms the log has secrets
// for, in the order they first appeared.
func (l *Log) ClientRandoms() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([][]byte, 0, len(l.crOrder))
	for _, k := range l.crOrder {
		out = append(out, bytes.Clone(k[:]))
	}
	seen := make(map[string]bool)
	for _, k := range l.order {
		if !otherCR(k) || seen[k.id] {
			continue
		}
		seen[k.id] = true
		out = append(out, []byte(k.id))
	}
	if l.base != nil {
		for _, k := range l.crOrder {
			seen[string(k[:])] = true
		}
		for _, cr := range l.base.ClientRandoms() {
			if !seen[string(cr)] {
				seen[string(cr)] = true
				out = append(out, cr)
			}
		}
	}
	return out
}

// Merge adds every secret of o to l; o's secrets win on conflict. The
// secrets of o's base (see NewOverlay) are not copied.
func (l *Log) Merge(o *Log) {
	if o == nil || o == l {
		return
	}
	type crSec struct {
		label  string
		cr     crKey
		secret []byte
	}
	o.mu.Lock()
	var crs []crSec
	for _, k := range o.crOrder {
		for i := o.crs[k].head; i >= 0; i = o.at(i).next {
			e := o.at(i)
			crs = append(crs, crSec{o.labels[e.label], k, o.secretOf(i, e)})
		}
	}
	keys := slices.Clone(o.order)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = o.other[k]
	}
	rsaKeys, psk := slices.Clone(o.rsaKeys), o.psk
	o.mu.Unlock()
	for _, k := range rsaKeys {
		l.AddRSAKey(k)
	}
	if psk != nil {
		l.SetPSK(psk)
	}
	for _, c := range crs {
		l.Add(c.label, c.cr[:], c.secret)
	}
	for i, k := range keys {
		l.put(k, vals[i])
	}
}

// MaxLineErrors is the number of bad lines [Parse] describes one by one;
// past it, it only counts them, so that a file that is no key log at all
// (a capture, a binary given by mistake) costs neither memory nor a
// warning per line.
const MaxLineErrors = 20

// Parse reads a key log. It keeps every good line; if some lines are bad it
// returns the Log of the good ones together with an error joining one
// [*LineError] per bad line (use errors.As, or range over Unwrap() []error)
// for the first [MaxLineErrors] of them, and then one error that counts
// the others. An error reading r is returned wrapped, with the lines read
// so far.
func Parse(r io.Reader) (*Log, error) {
	l := new(Log)
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n, more := 0, 0
	for sc.Scan() {
		n++
		if l.parseFast(sc.Bytes()) {
			continue
		}
		if err := l.parseLine(sc.Text()); err != nil {
			if len(errs) >= MaxLineErrors {
				more++
				continue
			}
			text := sc.Text()
			if len(text) > 120 {
				text = text[:120] + "…"
			}
			errs = append(errs, &LineError{Line: n, Text: text, Reason: err.Error()})
		}
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("keylog: %d more bad lines after line %d, not listed (ignored)", more, errs[len(errs)-1].(*LineError).Line))
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("keylog: reading after line %d: %w", n, err))
	}
	return l, errors.Join(errs...)
}

// ParseFile reads the key log at path; see [Parse].
func ParseFile(path string) (*Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keylog: %w", err)
	}
	defer f.Close()
	l, err := Parse(f)
	if err != nil {
		return l, fmt.Errorf("keylog: %s: %w", path, err)
	}
	return l, nil
}

// parseFast adds the secret of the commonest line without allocating:
// "LABEL <64 hex digits> <hex secret of at most 48 bytes>", single spaces,
// with a label a line parsed earlier by parseLine (which validated it). It
// reports false for anything else, which parseLine then handles (and
// explains when bad).
func (l *Log) parseFast(b []byte) bool {
	b = bytes.TrimSuffix(b, []byte("\r"))
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || len(b) < sp+1+64+1+2 || b[sp+1+64] != ' ' {
		return false
	}
	crHex, secHex := b[sp+1:sp+1+64], b[sp+1+64+1:]
	if len(secHex)%2 != 0 || len(secHex) > 2*inlineSecret {
		return false
	}
	var cr crKey
	var sec [inlineSecret]byte
	if _, err := hex.Decode(cr[:], crHex); err != nil {
		return false
	}
	n, err := hex.Decode(sec[:], secHex)
	if err != nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	li, ok := l.labelIx[string(b[:sp])]
	if !ok || !l.parsed[li] || l.labels[li] == ClientRandom && n != 48 {
		return false
	}
	l.addCR(li, cr, sec[:n])
	return true
}

// parseLine adds the secret of one line; the error is a bare reason.
func (l *Log) parseLine(line string) error {
	line = strings.TrimRight(line, "\r")
	line = strings.TrimLeft(line, "\ufeff") // a byte order mark from a Windows editor
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return nil
	}
	fields := strings.Fields(trimmed)
	label := fields[0]
	if label == RSA {
		return l.parseRSA(fields)
	}
	if !labelKnown(label) {
		if strings.ToUpper(label) != label || strings.Contains(label, ":") {
			return fmt.Errorf("unknown label %q (labels are upper case, like CLIENT_RANDOM)", label)
		}
		return fmt.Errorf("unknown label %s", label)
	}
	if len(fields) != 3 {
		return fmt.Errorf("%s line has %d fields, want 3: label, client random, secret", label, len(fields))
	}
	cr, err := hex.DecodeString(fields[1])
	if err != nil {
		return errors.New("client random is not hex")
	}
	if len(cr) != 32 {
		return fmt.Errorf("client random must be 32 bytes, got %d", len(cr))
	}
	secret, err := hex.DecodeString(fields[2])
	if err != nil {
		return errors.New("secret is not hex")
	}
	if len(secret) == 0 {
		return errors.New("secret is empty")
	}
	if label == ClientRandom && len(secret) != 48 {
		return fmt.Errorf("CLIENT_RANDOM master secret must be 48 bytes, got %d", len(secret))
	}
	l.Add(label, cr, secret)
	l.mu.Lock()
	if li, ok := l.labelIx[label]; ok {
		l.parsed[li] = true
	}
	l.mu.Unlock()
	return nil
}

// parseRSA handles both RSA line forms.
func (l *Log) parseRSA(fields []string) error {
	if len(fields) == 3 && strings.HasPrefix(fields[1], "Session-ID:") {
		sid, err := hex.DecodeString(strings.TrimPrefix(fields[1], "Session-ID:"))
		if err != nil || len(sid) == 0 || len(sid) > 32 {
			return errors.New("RSA Session-ID is not 1 to 32 bytes of hex")
		}
		ms, ok := strings.CutPrefix(fields[2], "Master-Key:")
		if !ok {
			return errors.New("RSA Session-ID line lacks Master-Key:")
		}
		secret, err := hex.DecodeString(ms)
		if err != nil {
			return errors.New("master key is not hex")
		}
		if len(secret) != 48 {
			return fmt.Errorf("master key must be 48 bytes, got %d", len(secret))
		}
		l.put(entryKey{rsaSessionKey, string(sid)}, secret)
		return nil
	}
	if len(fields) != 3 {
		return fmt.Errorf("RSA line has %d fields, want 3: RSA, encrypted pre-master prefix, pre-master secret", len(fields))
	}
	prefix, err := hex.DecodeString(fields[1])
	if err != nil {
		return errors.New("encrypted pre-master prefix is not hex")
	}
	if len(prefix) != 8 {
		return fmt.Errorf("encrypted pre-master prefix must be 8 bytes, got %d", len(prefix))
	}
	pms, err := hex.DecodeString(fields[2])
	if err != nil {
		return errors.New("pre-master secret is not hex")
	}
	if len(pms) != 48 {
		return fmt.Errorf("RSA pre-master secret must be 48 bytes, got %d", len(pms))
	}
	l.put(entryKey{rsaEncryptedKey, string(prefix)}, pms)
	return nil
}

// Format returns one key log line, ending in "\n", in lower-case hex.
func Format(label string, clientRandom, secret []byte) string {
	return label + " " + hex.EncodeToString(clientRandom) + " " + hex.EncodeToString(secret) + "\n"
}
