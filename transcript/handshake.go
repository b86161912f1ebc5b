package transcript

import (
	"crypto/hmac"
	"fmt"

	"github.com/tlskit/tlskit/internal/keysched"

	"github.com/tlskit/tlskit/internal/wire"
)

// This file is the meaning of the plaintext: records by content type,
// handshake messages parsed into events, alerts, merged application data,
// and what the handshake negotiated so far (handshakeState), which framing,
// protection and key derivation depend on.

// handshakeState is what the handshake messages said so far that decoding
// depends on; message keeps it.
type handshakeState struct {
	version      wire.Version
	suite        wire.CipherSuite
	clientRandom []byte
	serverRandom []byte
	sessionID    []byte
	tls13        bool
	hrr          bool // a HelloRetryRequest was seen: TLS 1.3
	etm          bool // encrypt_then_mac (RFC 7366) negotiated
	ems          bool // extended_master_secret (RFC 7627) negotiated
	earlyOffered bool
	// earlyAccepted is 1 when the server's EncryptedExtensions accepted
	// 0-RTT data, -1 when it did not, 0 before it.
	earlyAccepted int8
	offered13     []wire.CipherSuite // TLS 1.3 suites in the ClientHello, for 0-RTT trial decryption
	ticket        []byte             // the session ticket a TLS 1.2 ClientHello offered
	hsLog         handshakeLog       // the messages the session hash or the TLS 1.3 transcript hash covers
	finished13    bool               // the TLS 1.3 client Finished was seen: the handshake transcript is complete
	// serverFinished13 says the TLS 1.3 server Finished was seen: the
	// server's later messages (NewSessionTicket, KeyUpdate) are
	// post-handshake, not in the transcript, even when they come before
	// the client's Finished (half-RTT tickets after 0-RTT).
	serverFinished13 bool
}

// content dispatches the plaintext of a record by its content type.
func (d *Decoder) content(dir *direction, base Event, ct wire.ContentType, data []byte) {
	switch ct {
	case wire.ContentHandshake:
		if d.dtls {
			d.dtlsHandshake(dir, base, data)
			return
		}
		msgs, err := dir.asm.Write(data)
		for _, m := range msgs {
			d.handshake(dir, base, m)
		}
		if err != nil {
			dir.dead = true
			d.problem("the %s sent a malformed handshake message: %v", dir.side, err)
		}
	case wire.ContentAlert:
		if len(data) == 0 || len(data)%2 != 0 {
			e := base
			e.Type = TypeAlert
			e.Note = fmt.Sprintf("malformed alert of %d bytes", len(data))
			d.add(e)
			return
		}
		for i := 0; i+1 < len(data); i += 2 {
			a, err := wire.ParseAlert(data[i : i+2])
			e := base
			e.Type = TypeAlert
			if err != nil {
				e.Note = err.Error()
				d.add(e)
				continue
			}
			e.Level = a.Level.String()
			e.Description = a.Description.String()
			e.AlertCode = int(a.Description)
			if a.Description == 41 && dir.side == Client {
				e.Note = "SSL 3.0: the client has no certificate to send (TLS sends an empty Certificate message instead)"
			}
			e.alert = &a
			d.add(e)
			if d.dtls && d.tr.Closed == nil && (a.Level == wire.AlertFatal || a.Description == wire.AlertCloseNotify) {
				d.tr.Closed = &Closure{By: dir.side, How: CloseAlert, AfterAlert: e.Level + " " + e.Description, Time: e.Time}
			}
		}
	case wire.ContentApplicationData:
		d.appData(dir, base, data)
	case wire.ContentHeartbeat:
		e := base
		e.Type = TypeHeartbeat
		e.Bytes = len(data)
		d.add(e)
	default:
		e := base
		e.Type = TypeEncrypted
		e.Note = fmt.Sprintf("unknown content type %d", ct)
		d.add(e)
	}
}

// appData merges runs of application data from one side into one event.
func (d *Decoder) appData(dir *direction, base Event, data []byte) {
	var e *Event
	if n := len(d.tr.Events); n > 0 {
		last := &d.tr.Events[n-1]
		if last.Type == TypeApplicationData && last.From == dir.side && last.Decrypted == base.Decrypted {
			e = last
		}
	}
	if e == nil {
		base.Type = TypeApplicationData
		e = d.add(base)
	} else {
		e.RecordLen += base.RecordLen
	}
	e.Records++
	e.Bytes += len(data)
	if d.opts.OnData != nil && base.Decrypted {
		d.opts.OnData(dir.side, base.Time, data)
	}
	if d.opts.KeepData && base.Decrypted && dir.kept < d.opts.MaxData {
		n := min(len(data), d.opts.MaxData-dir.kept)
		e.Data = append(e.Data, data[:n]...)
		dir.kept += n
	}
}

// handshake handles one complete handshake message.
func (d *Decoder) handshake(dir *direction, base Event, raw wire.RawMessage) {
	ctx := wire.Context{Version: d.version, CipherSuite: d.suite}
	msg, err := wire.ParseMessage(raw.Type, raw.Body, ctx)
	if err != nil {
		e := base
		e.Type = raw.Type.String()
		e.Note = err.Error()
		d.add(e)
		d.problem("the %s sent a %s that does not parse: %v", dir.side, raw.Type, err)
		return
	}
	d.message(dir, base, msg, raw.Raw)
}

// message handles one parsed handshake message; hashed is what it adds to
// the handshake hash.
func (d *Decoder) message(dir *direction, base Event, msg wire.Message, hashed []byte) {
	e := base
	e.Type = msg.Type().String()
	e.Message = msg
	e.Fields = wire.Fields(msg)
	if f, ok := msg.(*wire.Finished); ok && d.tls13 && !d.dtls {
		d.checkFinished(dir, &e, f)
	}
	if !d.finished13 && !(dir.side == Server && d.serverFinished13) {
		d.hsLog.add(hashed)
	}

	switch m := msg.(type) {
	case *wire.ClientHello:
		switch {
		case d.clientRandom == nil || d.version == 0:
			d.clientRandom = append([]byte(nil), m.Random...)
			d.tr.ClientRandom = d.clientRandom
		case !d.tls13:
			// TLS 1.2 renegotiation: the new handshake has its own
			// randoms and master secret; the transcript keeps naming
			// the connection by its first client random.
			d.clientRandom = append([]byte(nil), m.Random...)
			d.hsLog.restart(hashed)
		}
		d.tr.ServerName = m.ServerName()
		d.ticket = m.SessionTicket()
		d.earlyOffered = m.OffersEarlyData()
		d.offered13 = nil
		for _, s := range m.CipherSuites {
			if info, ok := s.Info(); ok && info.TLS13 {
				d.offered13 = append(d.offered13, s)
			}
		}
	case *wire.HelloVerifyRequest:
		// The ClientHello it answers and the HelloVerifyRequest itself
		// are not part of the handshake hash (RFC 6347 §4.2.1).
		d.hsLog.reset()
	case *wire.ServerHello:
		if m.IsHelloRetryRequest() {
			// Only TLS 1.3 has it: the ChangeCipherSpecs around the
			// second ClientHello are middlebox compatibility, not keys.
			e.Type = "hello_retry_request"
			d.hrr = true
			d.hsLog.helloRetry()
			d.add(e)
			return
		}
		d.serverRandom = append([]byte(nil), m.Random...)
		d.ms = nil // a new handshake: its own master secret
		d.sessionID = append([]byte(nil), m.SessionID...)
		d.suite = m.CipherSuite
		d.version = m.SelectedVersion()
		d.tr.Version, d.tr.CipherSuite = d.version, d.suite
		d.etm = m.Extensions.Has(wire.ExtEncryptThenMAC)
		d.ems = m.Extensions.Has(wire.ExtExtendedMasterSecret)
		if p := m.SelectedALPN(); p != "" {
			d.tr.ALPN = p
		}
		if d.version == wire.VersionTLS13 || d.version>>8 == 0x7f {
			d.tls13 = true
			d.start13()
		}
	case *wire.EncryptedExtensions:
		if p := m.SelectedALPN(); p != "" {
			d.tr.ALPN = p
		}
		if d.earlyOffered {
			d.earlyAccepted = 1
			if !m.Extensions.Has(wire.ExtEarlyData) {
				d.earlyAccepted = -1
				e.Note = "the server did not accept 0-RTT data"
			}
		}
	case *wire.EndOfEarlyData:
		d.nextEpoch(dir)
	case *wire.Finished:
		if d.tls13 && dir.side == Client {
			d.finished13 = true // later messages are not in the transcript
			d.hsLog.reset()
		}
		if d.tls13 && dir.side == Server {
			d.serverFinished13 = true
		}
		if d.tls13 {
			// The side's next records use its application traffic secret.
			for len(dir.epochs) > 1 {
				dir.epochs = dir.epochs[1:]
			}
			d.nextEpoch(dir)
		}
	case *wire.NewSessionTicket:
		if !d.tls13 && d.opts.Keys != nil && d.ms != nil {
			// A later handshake may resume with this ticket: remember
			// the session's master secret under it.
			d.opts.Keys.AddTicket(m.Ticket, d.ms)
		}
	case *wire.KeyUpdate:
		if d.tls13 && dir.opener != nil {
			if err := dir.opener.KeyUpdate(); err != nil {
				d.problem("key update from the %s: %v", dir.side, err)
			}
		}
	}
	d.add(e)
}

// checkFinished checks a TLS 1.3 Finished against the handshake messages
// seen before it (RFC 8446 §4.4.4): verify_data must be HMAC(finished_key,
// Transcript-Hash(messages)), finished_key derived from the side's
// handshake traffic secret, with message_hash standing for the first
// ClientHello after a HelloRetryRequest. The result goes in the event's
// verify_data field: a match proves the transcript holds every handshake
// message both sides hashed; a mismatch says messages were lost or
// altered. Without the secret, or with messages known to be missing, it
// says nothing.
func (d *Decoder) checkFinished(dir *direction, e *Event, f *wire.Finished) {
	label := "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	if dir.side == Client {
		label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	}
	info, ok := d.suite.Info()
	if d.version != wire.VersionTLS13 || d.hsLog.broken || !ok || info.PRF.Crypto() == 0 {
		return
	}
	secret, ok := d.secret(label)
	if !ok {
		return
	}
	h := info.PRF.Crypto()
	key := keysched.ExpandLabel(h.New, secret, "finished", nil, h.Size())
	mac := hmac.New(h.New, key)
	mac.Write(d.hsLog.transcriptHash13(h))
	verdict := "matches the handshake messages (RFC 8446 §4.4.4)"
	if !hmac.Equal(mac.Sum(nil), f.VerifyData) {
		verdict = "does NOT match the handshake messages seen"
		d.problem("the %s's Finished does not match the handshake messages seen before it: a message was lost or altered, or the key log's %s is not this connection's", dir.side, label)
	}
	for i := range e.Fields {
		if e.Fields[i].Name == "verify_data" {
			e.Fields[i].Value += ", " + verdict
		}
	}
}
