package transcript

import (
	"time"

	"github.com/tlskit/tlskit/internal/wire"
)

// sslv2Hello decodes an SSL 2.0-format ClientHello (RFC 5246 Appendix E.2)
// at the very start of the client's bytes, the only place one may be: SSL
// 3.0 and early TLS clients began with it so that SSL 2.0 servers could
// answer too. It returns the bytes after the hello, to be decoded as TLS
// records; ok is false while the hello is incomplete (its bytes wait in
// dir.buf). Bytes that do not start such a hello are returned as they are.
func (d *Decoder) sslv2Hello(dir *direction, t time.Time, b []byte) (rest []byte, ok bool) {
	first := b
	if len(dir.buf) > 0 {
		first = dir.buf
	}
	if len(first) > 0 && first[0]&0x80 == 0 {
		return b, true // TLS content types are below 128
	}
	buf := append(dir.buf, b...)
	n, err := wire.SSLv2ClientHelloLen(buf)
	switch {
	case err == wire.ErrShort || err == nil && len(buf) < n:
		dir.buf = buf
		return nil, false
	case err != nil:
		return b, true
	}
	// The hello is kept (the event's message, the handshake hash), and b
	// belongs to the caller: copy it.
	rec := append([]byte(nil), buf[:n]...)
	rest = append([]byte(nil), buf[n:]...)
	dir.buf = dir.buf[:0]
	dir.records++
	dir.started = true
	dir.payload += n - wire.SSLv2HeaderLen
	base := Event{Time: t, From: dir.side, Record: dir.records, RecordLen: n - wire.SSLv2HeaderLen}
	m, err := wire.ParseSSLv2ClientHello(rec)
	if err != nil {
		base.Type = wire.TypeClientHello.String()
		base.Note = err.Error()
		d.add(base)
		d.problem("the client sent an SSL 2.0-format ClientHello that does not parse: %v", err)
		return rest, true
	}
	// The message's fields say "format SSL 2.0". The handshake hash covers
	// the SSL 2.0 message without its record header, which is what the
	// hello marshals to.
	d.message(dir, base, m, rec[wire.SSLv2HeaderLen:])
	return rest, true
}
