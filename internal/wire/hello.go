package wire

// This file holds the accessors of the hello messages: what a ClientHello
// offers and what a ServerHello or EncryptedExtensions selected, read from
// their extensions, so that no caller digs in Extension.Parsed for them.

// ServerName returns the first host name of the ClientHello's server_name
// extension (SNI, RFC 6066 §3), or "" if it sent none.
func (m *ClientHello) ServerName() string {
	if names, ok := m.Extensions.Find(ExtServerName).Parsed.([]string); ok && len(names) > 0 {
		return names[0]
	}
	return ""
}

// ALPN returns the application protocols the ClientHello offers (RFC 7301),
// in its order of preference, or nil.
func (m *ClientHello) ALPN() []string {
	protos, _ := m.Extensions.Find(ExtALPN).Parsed.([]string)
	return protos
}

// OfferedVersions returns the versions the ClientHello offers: its
// supported_versions list (RFC 8446 §4.2.1) in its order, GREASE removed,
// or else its legacy_version alone.
func (m *ClientHello) OfferedVersions() []Version {
	vs, ok := m.Extensions.Find(ExtSupportedVersions).Parsed.([]Version)
	if !ok {
		return []Version{m.Version}
	}
	var out []Version
	for _, v := range vs {
		if !v.IsGREASE() {
			out = append(out, v)
		}
	}
	return out
}

// OffersCipherSuite reports whether s is among the ClientHello's cipher
// suites.
func (m *ClientHello) OffersCipherSuite(s CipherSuite) bool {
	for _, c := range m.CipherSuites {
		if c == s {
			return true
		}
	}
	return false
}

// SessionTicket returns the data of the ClientHello's session_ticket
// extension (RFC 5077): the ticket of the TLS 1.2 session it tries to
// resume; empty when it has none to resume (or sent no such extension).
func (m *ClientHello) SessionTicket() []byte {
	return m.Extensions.Find(ExtSessionTicket).Data
}

// OffersEarlyData reports whether the ClientHello carries the early_data
// extension: 0-RTT data follows it (RFC 8446 §4.2.10).
func (m *ClientHello) OffersEarlyData() bool {
	return m.Extensions.Has(ExtEarlyData)
}

// SelectedALPN returns the application protocol the server selected in its
// ServerHello (TLS 1.2 and earlier), or "".
func (m *ServerHello) SelectedALPN() string { return selectedALPN(m.Extensions) }

// SelectedALPN returns the application protocol the TLS 1.3 server
// selected, or "".
func (m *EncryptedExtensions) SelectedALPN() string { return selectedALPN(m.Extensions) }

// selectedALPN is the one protocol of a server's ALPN extension (RFC 7301
// §3.1); a malformed list of several yields the first.
func selectedALPN(exts Extensions) string {
	if protos, ok := exts.Find(ExtALPN).Parsed.([]string); ok && len(protos) > 0 {
		return protos[0]
	}
	return ""
}

// HasKeyShare reports whether the ClientHello carries a key share for
// group g (RFC 8446 §4.2.8).
func (m *ClientHello) HasKeyShare(g NamedGroup) bool {
	shares, _ := m.Extensions.Find(ExtKeyShare).Parsed.([]KeyShare)
	for _, s := range shares {
		if s.Group == g {
			return true
		}
	}
	return false
}

// Len returns the length of the ClientHello message as sent, its 4-byte
// handshake header included (what RFC 7685 padding counts).
func (m *ClientHello) Len() int { return 4 + len(m.Marshal()) }
