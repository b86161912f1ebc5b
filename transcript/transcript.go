// Package transcript turns the bytes two TLS peers exchanged into an ordered
// list of events a person can read: every handshake message, alert, change
// cipher spec and burst of application data, with its direction, record size
// and key fields, decrypted where the secrets are known.
//
// It is the one code path behind both `tlskit check` (bytes recorded from a
// live connection) and `tlskit pcap` (bytes reassembled from a capture): a
// [Decoder] is fed the bytes of each direction in the order they were seen,
// plus how the connection ended, and yields a [Transcript].
//
// # Decryption
//
// TLS 1.3 handshake messages after ServerHello, and every alert after that,
// are encrypted. Given the NSS key log secrets of the connection (crypto/tls
// KeyLogWriter, SSLKEYLOGFILE, or a pcapng Decryption Secrets Block) the
// decoder opens those records and reports the messages inside them, so an
// "Encrypted Alert" becomes "alert fatal certificate_required". TLS 1.2
// records after ChangeCipherSpec are opened with the CLIENT_RANDOM master
// secret, and so are SSL 3.0 records, including after a client's SSL
// 2.0-format ClientHello. Without secrets the records are still listed,
// marked encrypted.
package transcript

import (
	"time"

	"github.com/tlskit/tlskit/internal/wire"
)

// Side names a peer.
type Side string

// The two sides of a TLS connection.
const (
	Client Side = "client"
	Server Side = "server"
)

// Other returns the opposite side.
func (s Side) Other() Side {
	if s == Client {
		return Server
	}
	return Client
}

// Arrow renders the direction of a message sent by s, for ladders.
func (s Side) Arrow() string {
	if s == Client {
		return "client → server"
	}
	return "server → client"
}

// Event types that are not handshake messages. Handshake events use the IANA
// message name from the wire package ("client_hello", "certificate", …), and
// "hello_retry_request" for a ServerHello that is one.
const (
	TypeAlert            = "alert"
	TypeChangeCipherSpec = "change_cipher_spec"
	TypeApplicationData  = "application_data"
	TypeHeartbeat        = "heartbeat"
	TypeEncrypted        = "encrypted_record"  // a record we could not decrypt
	TypeNotTLS           = "not_tls"           // bytes that are not TLS at all
	TypeMalformed        = "malformed_record"  // after valid records, a header that cannot be TLS there
	TypeClose            = "close"             // the TCP connection ended (FIN, RST, timeout)
	TypeGap              = "gap"               // bytes missing from a capture
	TypeTruncated        = "truncated"         // decoding stopped: the rest was not kept (a bound was reached)
	TypeUnfinished       = "unfinished_record" // a record begun and not finished when the connection ended (RecordLen declared, Bytes received)
	TypePlaintext        = "plaintext"         // a message of the protocol around TLS (a STARTTLS preamble)
)

// Event is one thing seen on the wire.
type Event struct {
	// Seq numbers events from 1 in the order they happened.
	Seq int `json:"seq"`
	// Time is when the bytes were seen; zero when unknown.
	Time time.Time `json:"time,omitzero"`
	// From is the side that sent it.
	From Side `json:"from"`
	// Type is the handshake message name or one of the Type constants.
	Type string `json:"type"`
	// Record is the number of the TLS record (from 1, per direction) that
	// carried the event, and RecordLen its payload length in bytes.
	Record    int `json:"record,omitempty"`
	RecordLen int `json:"record_len,omitempty"`
	// Encrypted says the record was protected; Decrypted says we opened it.
	Encrypted bool `json:"encrypted"`
	Decrypted bool `json:"decrypted"`
	// Message is the parsed handshake message, when Type names one.
	Message wire.Message `json:"message,omitempty"`
	// Fields are the key fields of the message, in reading order.
	Fields []wire.Field `json:"fields,omitempty"`
	// Level and Description are set for alerts.
	Level       string `json:"level,omitempty"`
	Description string `json:"description,omitempty"`
	// AlertCode is the numeric alert description.
	AlertCode int `json:"alert_code,omitempty"`
	// Records and Bytes count what an ApplicationData event covers: runs of
	// application data records in one direction are merged into one event.
	Records int `json:"records,omitempty"`
	Bytes   int `json:"bytes,omitempty"`
	// Data holds decrypted application data when the decoder was asked to
	// keep it (pcap --data). It is never set for handshake messages.
	Data []byte `json:"data,omitempty"`
	// Note explains anything unusual: why a record stayed encrypted, what a
	// non-TLS peer looks like, which bytes are missing.
	Note string `json:"note,omitempty"`
	// Protocol, Stage and Text describe a TypePlaintext event: a message
	// of the application protocol that carries TLS (smtp, imap,
	// postgres…), the part of the upgrade dialogue it belongs to
	// (greeting, capabilities, upgrade, pipelined, after_tls) and the
	// message decoded (a line or reply of a text protocol, a binary
	// packet in words). After_tls messages travelled inside TLS and are
	// marked decrypted.
	Protocol string `json:"protocol,omitempty"`
	Stage    string `json:"stage,omitempty"`
	Text     string `json:"text,omitempty"`

	alert  *wire.Alert
	unread error    // why a protected record stayed encrypted
	how    CloseHow // how a close event closed
}

// How says how a close event ([TypeClose]) ended the connection: fin,
// rst, timeout, local or alert; "" for other events. Note says it in
// words; like the parsed alert it is not kept in JSON.
func (e *Event) How() CloseHow { return e.how }

// Unread says why a protected record stayed encrypted, nil when it did not
// (it was decrypted, or was not protected). Match it with errors.Is against
// [ErrNoKeyLog], [ErrNoClientHello] and [ErrNoServerHello]; other reasons
// (the key log lacks this connection's secret, a record that does not
// open) are in its text. It is the reason Note gives, and like the parsed
// alert it is not kept in JSON.
func (e *Event) Unread() error { return e.unread }

// Alert returns the decoded alert carried by the event, if any.
func (e *Event) Alert() (wire.Alert, bool) {
	if e.alert == nil {
		return wire.Alert{}, false
	}
	return *e.alert, true
}

// Field returns the value of the event's field name and whether it has
// one.
func (e *Event) Field(name string) (string, bool) {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// CloseHow says how a connection ended.
type CloseHow string

// The ways a connection ends.
const (
	CloseFIN     CloseHow = "fin"     // orderly TCP close
	CloseRST     CloseHow = "rst"     // TCP reset
	CloseTimeout CloseHow = "timeout" // nothing more arrived before the deadline
	CloseLocal   CloseHow = "local"   // we (the recording side) closed
	CloseAlert   CloseHow = "alert"   // DTLS: a close_notify or fatal alert (UDP has no FIN)
)

// Closure records who ended the connection and how.
type Closure struct {
	// By is the side that closed first.
	By Side `json:"by"`
	// How is fin, rst, timeout, local, or alert (DTLS).
	How CloseHow `json:"how"`
	// AfterAlert is the alert that preceded the close, if any, e.g.
	// "fatal handshake_failure".
	AfterAlert string `json:"after_alert,omitempty"`
	// Time is when the close was seen.
	Time time.Time `json:"time,omitzero"`
}

// Transcript is the decoded conversation of one connection.
type Transcript struct {
	// Events are in the order they happened.
	Events []Event `json:"events"`
	// Version is the negotiated protocol version, if a ServerHello was seen.
	Version wire.Version `json:"version,omitempty"`
	// CipherSuite is the negotiated suite, if a ServerHello was seen.
	CipherSuite wire.CipherSuite `json:"cipher_suite,omitempty"`
	// ALPN is the negotiated application protocol, if any.
	ALPN string `json:"alpn,omitempty"`
	// ServerName is the SNI the client sent, if any.
	ServerName string `json:"server_name,omitempty"`
	// ClientRandom identifies the connection in key logs.
	ClientRandom wire.HexBytes `json:"client_random,omitempty"`
	// Closed says who ended the connection, when that was seen.
	Closed *Closure `json:"closed,omitempty"`
	// StartTLS is the in-band upgrade that preceded TLS, if any.
	StartTLS *Upgrade `json:"starttls,omitempty"`
	// Problems lists what could not be decoded or decrypted, in plain words.
	Problems []string `json:"problems,omitempty"`
}

// Messages returns the handshake events of type typ sent by from, in order.
func (t *Transcript) Messages(from Side, typ string) []*Event {
	var out []*Event
	for i := range t.Events {
		e := &t.Events[i]
		if e.From == from && e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// First returns the first event of type typ sent by from, or nil.
func (t *Transcript) First(from Side, typ string) *Event {
	for i := range t.Events {
		e := &t.Events[i]
		if e.From == from && e.Type == typ {
			return e
		}
	}
	return nil
}

// FirstFatalAlert returns the first fatal alert sent by from, or nil: the
// alert that ended the connection from that side.
func (t *Transcript) FirstFatalAlert(from Side) *Event {
	for i := range t.Events {
		e := &t.Events[i]
		if e.From == from && e.Type == TypeAlert && e.Level == "fatal" {
			return e
		}
	}
	return nil
}

// Alerts returns every alert event, in order.
func (t *Transcript) Alerts() []*Event {
	var out []*Event
	for i := range t.Events {
		if t.Events[i].Type == TypeAlert {
			out = append(out, &t.Events[i])
		}
	}
	return out
}

// Index returns the position of e in t.Events, or -1.
func (t *Transcript) Index(e *Event) int {
	for i := range t.Events {
		if &t.Events[i] == e {
			return i
		}
	}
	return -1
}
