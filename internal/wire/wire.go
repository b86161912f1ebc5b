// Package wire decodes the TLS record layer and handshake messages, for
// tools that observe TLS rather than terminate it.
//
// The model is crypto/tls's handshake_messages.go: every message is a struct
// decoded with golang.org/x/crypto/cryptobyte, parsing rejects trailing bytes
// and duplicate extensions, and Marshal re-encodes the body byte for byte.
// Unlike crypto/tls, the structs are exported, carry JSON tags and keep
// GREASE and unknown values, because the point is to show what a peer sent.
//
// # Layers
//
//   - Records (RFC 8446 §5.1, RFC 5246 §6.2): [ParseRecordHeader],
//     [SplitRecords], and [Sniff] for peers that do not speak TLS at all;
//     [SSLv2ClientHelloLen] and [ParseSSLv2ClientHello] for the SSL
//     2.0-format ClientHello old clients start with (RFC 5246 Appendix E.2).
//   - Handshake framing (RFC 8446 §4): an [Assembler] per direction turns
//     record payloads into [RawMessage] values.
//   - Messages: [ParseMessage] decodes a body into one of the message types
//     ([ClientHello], [ServerHello], [Certificate], ...) given a [Context]
//     saying what the conversation negotiated so far.
//   - Hellos: accessors say what a [ClientHello] offers (server name, ALPN,
//     versions, suites, ticket, early data) and what a server selected.
//   - Building: constructors for the extensions a client sends
//     ([ServerNameExtension], [KeyShareExtension], [PreSharedKeyExtension]…,
//     each with Parsed set as if it had been received), [HandshakeMessage]
//     and [AppendRecords] framing, [SSLv2Record]; [ParseSSLv2ServerHello]
//     reads an SSL 2.0 server's answer.
//   - Names: every registry is a named integer type whose String method
//     returns the IANA name.
//   - Cipher suites: [CipherSuite.Info] gives what a suite fixes (key
//     exchange, authentication, cipher and sizes, MAC, PRF hash, export,
//     TLS 1.3, the registry's Recommended column), from a table generated
//     from the IANA registry (gen_ciphersuites.go, testdata/iana).
//
// # Aliasing
//
// Parsed messages alias the body they were parsed from, like crypto/tls;
// copy the body first if the buffer is reused. [Assembler] returns fresh
// slices.
package wire

import (
	"encoding/hex"
	"fmt"
)

// HexBytes is a byte string that encodes as lowercase hex in JSON and text.
type HexBytes []byte

// MarshalText implements encoding.TextMarshaler.
func (h HexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// String returns h as lowercase hex.
func (h HexBytes) String() string { return hex.EncodeToString(h) }

// errf returns an error about a field of the message or extension what.
func errf(what, format string, args ...any) error {
	return fmt.Errorf("wire: %s: "+format, append([]any{what}, args...)...)
}
