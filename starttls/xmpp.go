package starttls

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XMPP namespaces (RFC 6120).
const (
	nsStreams = "http://etherx.jabber.org/streams"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsClient  = "jabber:client"
	nsServer  = "jabber:server"
)

// xmppHeader is the stream header a client opens with.
func xmppHeader(p Protocol, domain, from string) string {
	ns := nsClient
	extra := ""
	if p == XMPPServer {
		ns = nsServer
		extra = " xmlns:db='jabber:server:dialback' from='" + xmlAttr(from) + "'"
	}
	return fmt.Sprintf("<?xml version='1.0'?><stream:stream xmlns='%s' xmlns:stream='%s' to='%s' version='1.0'%s>",
		ns, nsStreams, xmlAttr(domain), extra)
}

// xmlAttr escapes s for a single-quoted attribute.
func xmlAttr(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}

// xmppFeature is one child of <stream:features>.
type xmppFeature struct {
	name     string   // local name: starttls, mechanisms, dialback…
	space    string   // namespace
	required bool     // has a <required/> child
	values   []string // text of children (SASL mechanisms)
}

func (f xmppFeature) String() string {
	s := f.name
	if len(f.values) > 0 {
		s += ": " + strings.Join(f.values, " ")
	}
	if f.required {
		s += " (required)"
	}
	return s
}

// xmppStream is what a server sends at the start of a stream: its header
// and its features, or an error.
type xmppStream struct {
	id, from string
	features []xmppFeature
	errText  string // a <stream:error> condition and text
	complete bool   // the features (or an error, or the end) were read
	end      int    // bytes of buf that made it up
}

// parseXMPPStream reads a server's stream header and features from the
// start of buf. complete is false when more bytes are needed. An error is
// returned for XML that cannot be an XMPP stream.
func parseXMPPStream(buf []byte) (xmppStream, error) {
	var st xmppStream
	r := bytes.NewReader(buf)
	d := xml.NewDecoder(r)
	d.Strict = true
	depth := 0
	inFeatures := false
	var cur *xmppFeature
	var curChild string
	inError := false
	for {
		tok, err := d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isXMLEOF(err) {
				return st, nil // incomplete
			}
			return st, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if t.Name.Local != "stream" {
					return st, fmt.Errorf("the stream starts with <%s>, not <stream:stream>", t.Name.Local)
				}
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "id":
						st.id = a.Value
					case "from":
						st.from = a.Value
					}
				}
			case depth == 2 && t.Name.Local == "features":
				inFeatures = true
			case depth == 2 && t.Name.Local == "error":
				inError = true
			case depth == 3 && inFeatures:
				st.features = append(st.features, xmppFeature{name: t.Name.Local, space: attr(t, "xmlns")})
				cur = &st.features[len(st.features)-1]
			case depth == 3 && inError:
				if st.errText == "" {
					st.errText = t.Name.Local
				}
			case depth == 4 && cur != nil:
				curChild = t.Name.Local
				if curChild == "required" {
					cur.required = true
				}
			}
		case xml.EndElement:
			depth--
			switch {
			case depth == 0:
				st.complete, st.end = true, int(d.InputOffset())
				if st.errText == "" {
					st.errText = "the server closed the stream"
				}
				return st, nil
			case depth == 1 && inFeatures:
				st.complete, st.end = true, int(d.InputOffset())
				return st, nil
			case depth == 1 && inError:
				st.complete, st.end = true, int(d.InputOffset())
				return st, nil
			case depth == 2:
				cur = nil
			case depth == 3:
				curChild = ""
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return st, fmt.Errorf("text %q before the stream header: not XML", clip(string(t)))
			}
			if cur != nil && curChild != "" && curChild != "required" {
				if v := strings.TrimSpace(string(t)); v != "" {
					cur.values = append(cur.values, v)
				}
			}
			if inError && depth == 3 {
				if v := strings.TrimSpace(string(t)); v != "" {
					st.errText += ": " + v
				}
			}
		}
	}
}

// xmppElement returns the name of the first element of b once it is
// whole ("proceed", "failure", "stream:error"), "/stream" for a closing
// </stream:stream>, or "" when more bytes are needed.
func xmppElement(b []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) || isXMLEOF(err) {
				return "", nil
			}
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			if err := skipRaw(d); err != nil {
				if errors.Is(err, io.EOF) || isXMLEOF(err) {
					return "", nil
				}
				return "", err
			}
			return name, nil
		case xml.EndElement:
			return "/" + t.Name.Local, nil
		}
	}
}

// xmppEnd returns the offset just after the first whole element (or end
// tag) of b, which xmppElement found complete.
func xmppEnd(b []byte) int {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return len(b)
		}
		switch tok.(type) {
		case xml.StartElement:
			if skipRaw(d) != nil {
				return len(b)
			}
			return int(d.InputOffset())
		case xml.EndElement:
			return int(d.InputOffset())
		}
	}
}

// skipRaw reads raw tokens to the end of the element just started.
func skipRaw(d *xml.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name && (a.Name.Space == "" || name == "xmlns") {
			return a.Value
		}
	}
	return ""
}

// isXMLEOF reports whether err is encoding/xml's complaint about input
// that ended too early.
func isXMLEOF(err error) bool {
	var se *xml.SyntaxError
	return errors.As(err, &se) && strings.Contains(se.Msg, "unexpected EOF")
}

// readXML reads from the session until done reports how many bytes of
// what was read make a whole message, keeping at most MaxPreamble bytes.
// Bytes beyond the message are held for the next read (or reported as
// pipelined). It returns the message's bytes, or all that was read with an
// error.
func (s *session) readXML(done func([]byte) (int, error)) ([]byte, error) {
	buf := s.held
	s.held = nil
	chunk := make([]byte, 4096)
	for {
		if len(buf) > 0 {
			end, err := done(buf)
			if err != nil {
				return buf, err
			}
			if end > 0 {
				if end < len(buf) {
					s.held = append([]byte(nil), buf[end:]...)
				}
				return buf[:end], nil
			}
		}
		if s.read == 0 {
			if err := s.checkTLS(); err != nil {
				return nil, err
			}
		}
		n, err := s.r.Read(chunk)
		if cerr := s.count(n); cerr != nil {
			return buf, cerr
		}
		buf = append(buf, chunk[:n]...)
		if err != nil {
			if n > 0 {
				continue // judge what came with the error first
			}
			return buf, err
		}
	}
}

// xmppStreamStart reads the server's stream header and features.
func (s *session) xmppStreamStart(stage Stage) (xmppStream, error) {
	var st xmppStream
	raw, err := s.readXML(func(b []byte) (int, error) {
		var err error
		st, err = parseXMPPStream(b)
		if !st.complete {
			return 0, err
		}
		return st.end, err
	})
	if err != nil {
		if len(raw) > 0 {
			s.emit(s.peer, stage, escape(raw), len(raw))
		}
		var e *Error
		if errors.As(err, &e) {
			return st, err
		}
		if len(raw) > 0 && !errors.Is(err, io.EOF) && !isTimeout(err) {
			return st, s.fail(Unexpected, escape(raw[:min(len(raw), 512)]), err)
		}
		return st, err
	}
	s.emit(s.peer, stage, escape(raw), len(raw))
	return st, nil
}

// xmpp speaks XMPP's STARTTLS (RFC 6120, Section 5): stream header,
// features, <starttls/>, <proceed/> or <failure/>.
func (s *session) xmpp(cfg Config) error {
	if cfg.Domain == "" {
		s.res.Outcome = Failed
		return errors.New("starttls: XMPP needs the domain to open the stream to")
	}
	header := xmppHeader(cfg.Protocol, cfg.Domain, cfg.ClientName)
	if err := s.send(StageGreeting, header, []byte(header)); err != nil {
		return s.netFail("sending the stream header", err)
	}
	st, err := s.xmppStreamStart(StageCapabilities)
	if err != nil {
		return s.netFail("reading the stream header and features", err)
	}
	if st.features == nil && st.errText != "" {
		return s.fail(Refused, st.errText, errors.New("the server answered with a stream error"))
	}
	var caps []string
	found := false
	for _, f := range st.features {
		caps = append(caps, f.String())
		if f.name == "starttls" && (f.space == "" || f.space == nsTLS) {
			found = true
		}
	}
	s.offered(caps, found)
	if !found {
		return s.fail(NotOffered, "", nil)
	}
	s.res.Command = "<starttls/>"
	cmd := "<starttls xmlns='" + nsTLS + "'/>"
	if err := s.send(StageUpgrade, cmd, []byte(cmd)); err != nil {
		return s.netFail("sending <starttls/>", err)
	}
	var answer string
	raw, err := s.readXML(func(b []byte) (int, error) {
		var err error
		answer, err = xmppElement(b)
		if err != nil || answer == "" {
			return 0, err
		}
		return xmppEnd(b), nil
	})
	if err != nil {
		if len(raw) > 0 {
			s.emit(s.peer, StageUpgrade, escape(raw), len(raw))
			if !errors.Is(err, io.EOF) && !isTimeout(err) {
				return s.fail(Unexpected, escape(raw[:min(len(raw), 512)]), err)
			}
		}
		return s.netFail("reading the answer to <starttls/>", err)
	}
	text := escape(raw)
	s.emit(s.peer, StageUpgrade, text, len(raw))
	s.upgradeReply(text)
	switch answer {
	case "proceed":
		return nil
	case "failure":
		return s.fail(Refused, text, nil)
	case "/stream":
		return s.fail(Refused, text, errors.New("the server closed the stream"))
	}
	if strings.HasSuffix(answer, ":error") {
		return s.fail(Refused, text, errors.New("the server answered with a stream error"))
	}
	return s.fail(Unexpected, text, errors.New("<starttls/> is answered with <proceed/> or <failure/>"))
}
