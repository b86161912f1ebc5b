package transcript

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file is key derivation: from the secrets of the key log (traffic
// secrets, master secrets by client random, session id or ticket,
// pre-master secrets, an RSA private key, a PSK) and what the handshake
// negotiated, to the openers of protect.go, and the reason in words when
// that is not possible.

// keyState is what key derivation keeps across records.
type keyState struct {
	keyNote string // why keys are missing, said once
	ms      []byte // the TLS 1.2 master secret of the current handshake, once derived
}

// epoch is a TLS 1.3 traffic secret by key log label.
type epoch struct {
	label string
	name  string
}

// start13 switches both directions to TLS 1.3 handshake protection, after
// the ServerHello.
func (d *Decoder) start13() {
	srv := d.dir(Server)
	srv.epochs = []epoch{{"SERVER_HANDSHAKE_TRAFFIC_SECRET", "handshake"}, {"SERVER_TRAFFIC_SECRET_0", "application"}}
	srv.opener = nil
	d.nextEpoch(srv)
	cli := d.dir(Client)
	if cli.opener != nil && len(cli.epochs) > 0 {
		return // 0-RTT keys in use; handshake keys follow EndOfEarlyData
	}
	cli.epochs = []epoch{{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "handshake"}, {"CLIENT_TRAFFIC_SECRET_0", "application"}}
	cli.opener = nil
	d.nextEpoch(cli)
	if d.opts.Keys != nil && srv.opener == nil && cli.opener == nil {
		if _, ok := d.secret("CLIENT_RANDOM"); ok {
			d.keyProblem("the key log has a TLS 1.2 CLIENT_RANDOM line for this connection, but it negotiated TLS 1.3, which needs *_TRAFFIC_SECRET lines")
		}
	}
}

// nextEpoch installs the next TLS 1.3 key generation of dir, if its secret is
// known. It reports whether a new opener was installed.
func (d *Decoder) nextEpoch(dir *direction) bool {
	for len(dir.epochs) > 0 {
		ep := dir.epochs[0]
		dir.epochs = dir.epochs[1:]
		secret, ok := d.secret(ep.label)
		if !ok {
			dir.opener, dir.label = nil, ""
			if dir.missing == "" {
				dir.missing = ep.label
			}
			continue
		}
		o, err := d.opener13(uint16(d.suite), secret)
		if err != nil {
			d.keyProblem(fmt.Sprintf("cannot decrypt %s: %v", d.suite, err))
			dir.opener = nil
			return false
		}
		dir.opener, dir.label, dir.opened = o, ep.label, false
		return true
	}
	return false
}

// opener13 makes a TLS 1.3 opener, for the final protocol or a draft.
func (d *Decoder) opener13(suite uint16, secret []byte) (*keysched.Opener, error) {
	if d.version>>8 == 0x7f {
		return keysched.NewTLS13DraftOpener(suite, secret, int(d.version&0xff))
	}
	return keysched.NewTLS13Opener(suite, secret)
}

// Why a protected record stayed encrypted, when the reason is not the key
// log's content ([Event.Unread] wraps them). They are notes, shown after
// "encrypted; " in a transcript.
var (
	// ErrNoKeyLog: no secrets were given at all.
	ErrNoKeyLog = errors.New("give a key log to decrypt it")
	// ErrNoClientHello: the ClientHello was not seen (a capture that
	// starts after it): no key log can decrypt the connection, since
	// its secrets are found by the ClientHello's random.
	ErrNoClientHello = errors.New("no ClientHello was seen: a key log entry is found by the ClientHello's random, so no key log can decrypt it")
	// ErrNoServerHello: the ServerHello was not seen before the record.
	ErrNoServerHello = errors.New("no ServerHello was seen before it: its random and cipher suite are needed to derive keys from the key log (when the capture lost the server's hello, the key log is not at fault)")
)

// noKey explains why a record of dir cannot be opened.
func (d *Decoder) noKey(dir *direction) error {
	switch {
	case d.clientRandom == nil:
		// Without the ClientHello no secret, given or not, can be found.
		return fmt.Errorf("encrypted; %w", ErrNoClientHello)
	case d.opts.Keys == nil || d.opts.Keys.Len() == 0:
		return fmt.Errorf("encrypted; %w", ErrNoKeyLog)
	case d.keyNote != "":
		return errors.New("encrypted; " + d.keyNote)
	case d.serverRandom == nil:
		return fmt.Errorf("encrypted; %w", ErrNoServerHello)
	case d.tls13 && dir.missing != "":
		return errors.New("encrypted; " + d.missingLabel(dir.missing))
	case !d.tls13 && d.version != 0:
		return errors.New("encrypted; " + d.missingMaster())
	}
	return errors.New("encrypted; " + d.missingLabel(""))
}

// missingLabel says that the key log lacks label (any secret when "") for
// this connection's client random, and which labels it has for it.
func (d *Decoder) missingLabel(label string) string {
	what := "no secret"
	if label != "" {
		what = "no " + label
	}
	s := fmt.Sprintf("the key log has %s for client random %s", what, shortHex(d.clientRandom))
	if have := d.opts.Keys.Labels(d.clientRandom); len(have) > 0 {
		return s + " (it has " + strings.Join(have, ", ") + ")"
	}
	return s + " (it has no line for this client random at all: is it the key log of this connection?)"
}

// missingMaster says that no form of the TLS 1.2 master secret was found.
func (d *Decoder) missingMaster() string {
	s := fmt.Sprintf("the key log has no CLIENT_RANDOM line (master secret) for client random %s, nor a master secret for the session this handshake resumes or a pre-master secret that derives it", shortHex(d.clientRandom))
	if have := d.opts.Keys.Labels(d.clientRandom); len(have) > 0 {
		return s + " (it has " + strings.Join(have, ", ") + " for this client random)"
	}
	return s + " (it has no line for this client random at all: is it the key log of this connection?)"
}

func (d *Decoder) keyProblem(s string) {
	if d.keyNote == "" {
		d.keyNote = s
		d.problem("%s", s)
	}
}

func shortHex(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

func (d *Decoder) secret(label string) ([]byte, bool) {
	if d.opts.Keys == nil || d.clientRandom == nil {
		return nil, false
	}
	return d.opts.Keys.Secret(label, d.clientRandom)
}

// tls12Keys installs the TLS 1.2 (or earlier) opener for dir after its
// ChangeCipherSpec, from whatever form of secret the key log holds.
func (d *Decoder) tls12Keys(dir *direction) {
	dir.opener = nil
	if d.opts.Keys == nil || d.clientRandom == nil || d.serverRandom == nil {
		return
	}
	ms := d.ms
	if ms == nil { // once per handshake: the other side's ChangeCipherSpec reuses it
		var ok bool
		if ms, ok = d.masterSecret(); !ok {
			return
		}
		d.ms = ms
	}
	c, s, err := keysched.NewTLS12Openers(uint16(d.suite), uint16(d.version), ms, d.clientRandom, d.serverRandom, d.etm)
	if err != nil {
		d.keyProblem(fmt.Sprintf("cannot decrypt %s: %v", d.suite, err))
		return
	}
	if dir.side == Client {
		dir.opener = c
	} else {
		dir.opener = s
	}
}

// masterSecret finds the TLS 1.2 master secret: by client random, by session
// id, or from a logged pre-master secret.
func (d *Decoder) masterSecret() ([]byte, bool) {
	keys := d.opts.Keys
	if ms, ok := keys.Secret("CLIENT_RANDOM", d.clientRandom); ok {
		return ms, true
	}
	if len(d.sessionID) > 0 {
		if ms, ok := keys.MasterSecretForSession(d.sessionID); ok {
			return ms, true
		}
	}
	if ms, ok := keys.MasterSecretForTicket(d.ticket); ok {
		return ms, true
	}
	pms, ok := keys.Secret("PMS_CLIENT_RANDOM", d.clientRandom)
	suite, _ := d.suite.Info()
	if !ok && suite.Kx == wire.KxRSA && !suite.Export {
		// Encrypted to the certificate's key, which the key log may hold
		// (RSA_EXPORT encrypts to a temporary key instead).
		if cke := d.clientKeyExchange(); len(cke) >= 8 {
			pms, ok = keys.DecryptPreMaster(cke)
		}
	}
	if !ok && suite.Kx == wire.KxPSK {
		pms, ok = keys.PSKPreMaster()
	}
	if !ok {
		return nil, false
	}
	var ms []byte
	var err error
	if d.ems {
		ms, err = keysched.ExtendedMasterSecret(uint16(d.version), uint16(d.suite), pms, d.hsLog.sessionHash(d.version, d.suite))
	} else {
		ms, err = keysched.MasterSecret(uint16(d.version), uint16(d.suite), pms, d.clientRandom, d.serverRandom)
	}
	if err != nil {
		d.keyProblem(fmt.Sprintf("cannot derive the master secret: %v", err))
		return nil, false
	}
	// Remember it, as a key log line would, for handshakes that resume
	// this session (by id here, by ticket when NewSessionTicket comes).
	keys.AddSession(d.sessionID, ms)
	return ms, true
}

// clientKeyExchange returns the encrypted pre-master secret of an RSA
// ClientKeyExchange (without its length prefix), if one was seen.
func (d *Decoder) clientKeyExchange() []byte {
	for i := len(d.tr.Events) - 1; i >= 0; i-- {
		if m, ok := d.tr.Events[i].Message.(*wire.ClientKeyExchange); ok {
			b := m.Marshal()
			if len(b) > 2 && int(b[0])<<8|int(b[1]) == len(b)-2 {
				return b[2:]
			}
			return b
		}
	}
	return nil
}
