package transcript

import "time"

// This file is the plaintext around TLS: the preamble of a protocol that
// upgrades in band (STARTTLS), recorded by whoever saw it (probe speaking
// it, capture watching it) as events of the same transcript, before the
// TLS records that follow.

// Upgrade is what a connection's in-band upgrade to TLS established: the
// facts `diagnose` judges (starttls.* findings).
type Upgrade struct {
	// Protocol is the protocol spoken: "smtp", "imap", "postgres"…
	Protocol string `json:"protocol"`
	// ChosenBy says how the protocol was chosen when it was not given: "from
	// port 587", "from the preamble".
	ChosenBy string `json:"chosen_by,omitempty"`
	// Outcome is upgraded, not-offered, refused, unexpected-reply,
	// implicit-tls or failed.
	Outcome string `json:"outcome"`
	// Offered says the capabilities listed the upgrade.
	Offered bool `json:"offered"`
	// Capabilities is the capability list as the server sent it.
	Capabilities []string `json:"capabilities,omitempty"`
	// Command is the upgrade command and Reply the server's answer.
	Command string `json:"command,omitempty"`
	Reply   string `json:"reply,omitempty"`
	// Pipelined counts the bytes a peer sent after the upgrade command
	// or its go-ahead and before TLS; PipelinedFrom names that peer and
	// PipelinedText shows the first of them.
	Pipelined     int    `json:"pipelined,omitempty"`
	PipelinedFrom Side   `json:"pipelined_from,omitempty"`
	PipelinedText string `json:"pipelined_text,omitempty"`
	// Error says what went wrong, in words, when the upgrade did not
	// happen.
	Error string `json:"error,omitempty"`
	// ImplicitPort, when set, is the implicit-TLS service the port is
	// known for ("SMTPS (submissions, RFC 8314)"): STARTTLS cannot work
	// there.
	ImplicitPort string `json:"implicit_port,omitempty"`
	// SpeaksTLS is set when the server sent nothing in plaintext for a
	// while and, on a second connection, answered a ClientHello with TLS:
	// the port speaks TLS from the first byte, whatever its number.
	SpeaksTLS bool `json:"speaks_tls,omitempty"`
}

// Plaintext records a message of the protocol around TLS that from sent
// at t: protocol names it, stage is its part of the dialogue (greeting,
// capabilities, upgrade, pipelined, after_tls), text the message decoded
// and n its size in bytes. Messages inside TLS (stage after_tls) are
// marked encrypted and decrypted.
func (d *Decoder) Plaintext(from Side, t time.Time, protocol, stage, text string, n int) {
	inTLS := stage == "after_tls"
	d.add(Event{Time: t, From: from, Type: TypePlaintext, Protocol: protocol, Stage: stage, Text: text,
		Bytes: n, Encrypted: inTLS, Decrypted: inTLS})
}

// SetUpgrade records what the connection's in-band upgrade established.
func (d *Decoder) SetUpgrade(u Upgrade) {
	d.tr.StartTLS = &u
}
