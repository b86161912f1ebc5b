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

// entryKey identifies one secret.
type entryKey struct {
	label string
	id    string // client random, session id or encrypted pre-master prefix
}

// Log is a set of key log secrets. The zero value is an empty Log ready to
// use; a Log is safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	secrets map[entryKey][]byte
	order   []entryKey // insertion order, for ClientRandoms
	rsaKeys []*rsa.PrivateKey
	psk     []byte
}

// Internal keys for the two RSA forms.
const (
	rsaSessionKey   = "RSA Session-ID"
	rsaEncryptedKey = "RSA"
	ticketKey       = "session ticket" // not a key log label: derived by decoders
)

// put stores one secret, copying its bytes.
func (l *Log) put(k entryKey, secret []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.secrets == nil {
		l.secrets = make(map[entryKey][]byte)
	}
	if _, ok := l.secrets[k]; !ok {
		l.order = append(l.order, k)
	}
	l.secrets[k] = bytes.Clone(secret)
}

// get returns a copy of one secret.
func (l *Log) get(k entryKey) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.secrets[k]
	return bytes.Clone(s), ok
}

// Add records the secret for label and client random. Later additions for
// the same label and client random replace earlier ones.
func (l *Log) Add(label string, clientRandom, secret []byte) {
	l.put(entryKey{label, string(clientRandom)}, secret)
}

// Secret returns the secret recorded for label and client random.
func (l *Log) Secret(label string, clientRandom []byte) ([]byte, bool) {
	return l.get(entryKey{label, string(clientRandom)})
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

// Labels returns the labels the log has secrets for under clientRandom,
// in the order they first appeared.
func (l *Log) Labels(clientRandom []byte) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, k := range l.order {
		if k.id == string(clientRandom) && k.label != rsaSessionKey && k.label != rsaEncryptedKey && k.label != ticketKey {
			out = append(out, k.label)
		}
	}
	return out
}

// Len returns the number of secrets in the log, counting each RSA key and
// the PSK as one.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.secrets) + len(l.rsaKeys)
	if l.psk != nil {
		n++
	}
	return n
}

// ClientRandoms returns the distinct client randoms the log has secrets
// for, in the order they first appeared.
func (l *Log) ClientRandoms() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	seen := make(map[string]bool)
	for _, k := range l.order {
		if k.label == rsaSessionKey || k.label == rsaEncryptedKey || k.label == ticketKey || seen[k.id] {
			continue
		}
		seen[k.id] = true
		out = append(out, []byte(k.id))
	}
	return out
}

// Merge adds every secret of o to l; o's secrets win on conflict.
func (l *Log) Merge(o *Log) {
	if o == nil || o == l {
		return
	}
	o.mu.Lock()
	keys := slices.Clone(o.order)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = o.secrets[k]
	}
	rsaKeys, psk := slices.Clone(o.rsaKeys), o.psk
	o.mu.Unlock()
	for _, k := range rsaKeys {
		l.AddRSAKey(k)
	}
	if psk != nil {
		l.SetPSK(psk)
	}
	for i, k := range keys {
		l.put(k, vals[i])
	}
}

// Parse reads a key log. It keeps every good line; if some lines are bad it
// returns the Log of the good ones together with an error joining one
// [*LineError] per bad line (use errors.As, or range over Unwrap() []error).
// An error reading r is returned wrapped, with the lines read so far.
func Parse(r io.Reader) (*Log, error) {
	l := new(Log)
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := l.parseLine(sc.Text()); err != nil {
			text := sc.Text()
			if len(text) > 120 {
				text = text[:120] + "…"
			}
			errs = append(errs, &LineError{Line: n, Text: text, Reason: err.Error()})
		}
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
