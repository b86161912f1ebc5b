package capture

import (
	"net"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlskit/tlskit/internal/wire"
)

// udpKey identifies a UDP flow in one direction.
type udpKey struct {
	net          gopacket.Flow
	sport, dport layers.UDPPort
}

// datagram routes one UDP datagram, of udp.stream stream, to its DTLS flow,
// starting a flow when the datagram is a DTLS record.
func (a *analyzer) datagram(flow gopacket.Flow, udp *layers.UDP, t time.Time, stream int) {
	k := udpKey{flow, udp.SrcPort, udp.DstPort}
	d := 0
	c := a.dgrams[k]
	if c == nil {
		if c = a.dgrams[udpKey{flow.Reverse(), udp.DstPort, udp.SrcPort}]; c != nil {
			d = 1
		}
	}
	if c == nil {
		if !looksDTLS(udp.Payload) {
			return
		}
		c = &conn{a: a, udp: true, synFrom: -1, first: t}
		c.id.Index = stream
		c.id.UDP = true
		c.ends[0] = net.JoinHostPort(flow.Src().String(), strconv.Itoa(int(udp.SrcPort)))
		c.ends[1] = net.JoinHostPort(flow.Dst().String(), strconv.Itoa(int(udp.DstPort)))
		c.ports = [2]int{int(udp.SrcPort), int(udp.DstPort)}
		a.dgrams[k] = c
	}
	if t.After(c.last) {
		c.last = t
	}
	if len(udp.Payload) == 0 {
		return
	}
	a.sum.DTLSPackets++
	c.sawData = true
	c.setRoles(d, udp.Payload)
	if c.dec != nil {
		c.dec.Datagram(c.side(d), t, udp.Payload)
	}
}

// flushUDP ends the DTLS flows idle since before cut (all of them when cut
// is zero), in the order they began.
func (a *analyzer) flushUDP(cut time.Time) {
	for k, c := range a.dgrams {
		if cut.IsZero() || c.last.Before(cut) {
			delete(a.dgrams, k)
			a.done = append(a.done, c)
		}
	}
}

// isDTLSHello reports whether a datagram starts with a DTLS handshake
// record holding a message of type typ.
func isDTLSHello(b []byte, typ wire.HandshakeType) bool {
	return len(b) > wire.DTLSRecordHeaderLen && looksDTLS(b) && b[0] == byte(wire.ContentHandshake) && b[wire.DTLSRecordHeaderLen] == byte(typ)
}
