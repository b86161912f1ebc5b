package capture

import (
	"bytes"

	"github.com/gopacket/gopacket"
)

// This file numbers conversations as Wireshark does, so that a connection
// tlskit reports as tcp.stream 3 is the one the display filter
// `tcp.stream == 3` shows (udp.stream for DTLS). Wireshark 4.0's rules,
// checked against tshark 4.0.17 by TestStreamNumbersTshark:
//
//   - every TCP or UDP packet belongs to the conversation of its address and
//     port pair, in either direction; a pair not seen before starts a new
//     conversation, numbered from 0 in the order of first packets, TCP and
//     UDP counted apart. Packets without any TLS count too, and so do the
//     TCP and UDP headers quoted by ICMP errors (a complete TCP header, at
//     least 8 bytes of UDP);
//   - the first packet of each direction sets that direction's base
//     sequence number: a SYN's own, otherwise one less than the packet's;
//   - a SYN without ACK whose sequence number differs from its direction's
//     base starts a new conversation on the same pair (a port reused after
//     the old connection ended); a retransmitted SYN, a SYN-ACK with a new
//     sequence number, or a SYN from a direction without a base do not.
//
// The state kept per conversation is small (about 70 bytes) and kept to the
// end of the file, as Wireshark keeps it: a late packet on an old pair must
// find its number again.

// convKey is an address and port pair in canonical order (the lower
// endpoint first), so that both directions find the same conversation.
type convKey struct {
	a, b   [16]byte
	pa, pb uint16
	v6     bool
}

// convState is a conversation's number and what decides whether a SYN
// starts a new one.
type convState struct {
	stream int
	gen    int // how many conversations this pair had before this one
	base   [2]uint32
	based  [2]bool
}

// conversations numbers the TCP and UDP conversations of a capture.
type conversations struct {
	tcp, udp         map[convKey]*convState
	nextTCP, nextUDP int
	// The last conversation looked up: consecutive packets mostly belong
	// to the same one.
	lastKey   convKey
	lastState *convState
	lastUDP   bool
}

func newConversations() conversations {
	return conversations{tcp: map[convKey]*convState{}, udp: map[convKey]*convState{}}
}

// key returns the canonical key of a packet from src:sp to dst:dp and the
// packet's direction in it (0 when src is the key's first endpoint).
func key(v6 bool, src, dst []byte, sp, dp uint16) (convKey, int) {
	var k convKey
	k.v6 = v6
	c := bytes.Compare(src, dst)
	if c < 0 || c == 0 && sp <= dp {
		copy(k.a[:], src)
		copy(k.b[:], dst)
		k.pa, k.pb = sp, dp
		return k, 0
	}
	copy(k.a[:], dst)
	copy(k.b[:], src)
	k.pa, k.pb = dp, sp
	return k, 1
}

// lookup finds the conversation of k in m, starting one (numbered by
// *next) when there is none.
func (cs *conversations) lookup(m map[convKey]*convState, udp bool, k convKey, next *int) (*convState, bool) {
	if cs.lastState != nil && cs.lastUDP == udp && cs.lastKey == k {
		return cs.lastState, false
	}
	st, ok := m[k]
	if !ok {
		st = &convState{stream: *next}
		*next++
		m[k] = st
	}
	cs.lastKey, cs.lastState, cs.lastUDP = k, st, udp
	return st, !ok
}

// TCP returns the tcp.stream number of a TCP packet, and its pair's
// generation: how many earlier conversations used the same addresses and
// ports (non-zero after a port was reused).
func (cs *conversations) TCP(v6 bool, src, dst []byte, sp, dp uint16, seq uint32, syn, ack bool) (stream, gen int) {
	k, d := key(v6, src, dst, sp, dp)
	st, _ := cs.lookup(cs.tcp, false, k, &cs.nextTCP)
	if syn && !ack && st.based[d] && st.base[d] != seq {
		// A new connection on a reused port pair.
		st = &convState{stream: cs.nextTCP, gen: st.gen + 1}
		cs.nextTCP++
		cs.tcp[k] = st
		cs.lastState = st
	}
	if !st.based[d] {
		st.based[d] = true
		st.base[d] = seq
		if !syn {
			st.base[d] = seq - 1
		}
	}
	return st.stream, st.gen
}

// UDP returns the udp.stream number of a UDP packet.
func (cs *conversations) UDP(v6 bool, src, dst []byte, sp, dp uint16) int {
	k, _ := key(v6, src, dst, sp, dp)
	st, _ := cs.lookup(cs.udp, true, k, &cs.nextUDP)
	return st.stream
}

// reusedFlow returns the flow gopacket's reassembly is given for a TCP
// connection on a reused port pair: the same addresses under an endpoint
// type of their own per generation, so that the new connection is
// reassembled apart from the old one, which gopacket may still hold open.
func reusedFlow(flow gopacket.Flow, v6 bool, gen int) gopacket.Flow {
	if gen == 0 {
		return flow
	}
	t := gopacket.EndpointType(1<<40 + 2*gen)
	if v6 {
		t++
	}
	return gopacket.NewFlow(t, flow.Src().Raw(), flow.Dst().Raw())
}
