package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// Link types Reader may report that are not among gopacket's constants.
const (
	linkRawOld layers.LinkType = 12 // DLT_RAW on some BSDs
	linkRawOB  layers.LinkType = 14 // DLT_RAW on OpenBSD
)

// ipPayload strips the link-layer header of a frame and returns the IP
// packet inside, with its version (4 or 6), or 0 when the frame carries no
// IP (ARP, unknown link types, truncated headers).
func ipPayload(link layers.LinkType, b []byte) ([]byte, int) {
	var etype uint16
	switch link {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return nil, 0
		}
		etype, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for (etype == 0x8100 || etype == 0x88a8) && len(b) >= 4 { // VLAN tags
			etype, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < 4 {
			return nil, 0
		}
		return ipVersion(b[4:])
	case layers.LinkTypeRaw, linkRawOld, linkRawOB, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return ipVersion(b)
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			return nil, 0
		}
		etype, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case layers.LinkTypeLinuxSLL2:
		if len(b) < 20 {
			return nil, 0
		}
		etype, b = binary.BigEndian.Uint16(b[0:]), b[20:]
	default:
		return nil, 0
	}
	switch etype {
	case 0x0800:
		return b, 4
	case 0x86dd:
		return b, 6
	}
	return nil, 0
}

// ipVersion tells IPv4 from IPv6 by the first nibble.
func ipVersion(b []byte) ([]byte, int) {
	if len(b) == 0 {
		return nil, 0
	}
	switch b[0] >> 4 {
	case 4:
		return b, 4
	case 6:
		return b, 6
	}
	return nil, 0
}

// looksDTLS reports whether a UDP payload starts like a DTLS record: content
// type 20–25 and a DTLS version (0xfeff, 0xfefd, 0x0100 for OpenSSL's
// pre-standard DTLS).
func looksDTLS(b []byte) bool {
	if len(b) < 13 || b[0] < 20 || b[0] > 25 {
		return false
	}
	return b[1] == 0xfe && (b[2] == 0xff || b[2] == 0xfd) || b[1] == 0x01 && b[2] == 0x00
}

// IP protocol numbers of the IPv6 extension headers skipped to reach the
// transport header, and of the encapsulations tlskit does not look into.
const (
	protoHopByHop  = 0
	protoIPinIP    = 4
	protoIPv6inIP  = 41
	protoRouting   = 43
	protoFragment  = 44
	protoGRE       = 47
	protoAH        = 51
	protoDestOpts  = 60
	protoICMPv4    = 1
	protoICMPv6    = 58
	protoTCP       = 6
	protoUDP       = 17
	udpHeaderLen   = 8
	tcpMinHeader   = 20
	ipv6HeaderLen  = 40
	icmpHeaderLen  = 8
	ipv4MinHeader  = 20
	ipv4FragMask   = 0x3fff // more-fragments flag and fragment offset
	ipv6FragOffset = 0xfff8
)

// skipIPv6Ext skips the IPv6 extension headers at the start of b, whose
// first header is nh, and returns the transport protocol and its bytes.
// fragment says a Fragment header was met that is not an atomic fragment
// (RFC 6946): the bytes are then a piece of a packet, not a whole one.
func skipIPv6Ext(nh uint8, b []byte) (proto uint8, payload []byte, fragment bool) {
	for range 8 {
		var n int
		switch nh {
		case protoHopByHop, protoRouting, protoDestOpts:
			if len(b) < 2 {
				return nh, nil, false
			}
			n = (int(b[1]) + 1) * 8
		case protoAH:
			if len(b) < 2 {
				return nh, nil, false
			}
			n = (int(b[1]) + 2) * 4
		case protoFragment:
			if len(b) < 8 {
				return nh, nil, false
			}
			if binary.BigEndian.Uint16(b[2:])&(ipv6FragOffset|1) != 0 {
				return nh, b, true
			}
			n = 8
		default:
			return nh, b, false
		}
		if len(b) < n {
			return nh, nil, false
		}
		nh, b = b[0], b[n:]
	}
	return nh, nil, false
}

// quoted is the transport header an ICMP error quotes: the packet that
// caused the error, as its sender sent it.
type quoted struct {
	v6       bool
	src, dst []byte
	proto    uint8
	hdr      []byte
}

// icmpQuote returns the packet quoted by an ICMP (v4 or v6) error message,
// whose ICMP header starts b. ok is false for other ICMP messages and for
// quotes too short to hold addresses.
func icmpQuote(v6 bool, b []byte) (q quoted, ok bool) {
	if len(b) < icmpHeaderLen {
		return q, false
	}
	switch t := b[0]; {
	case !v6 && (t == 3 || t == 4 || t == 5 || t == 11 || t == 12):
	case v6 && t >= 1 && t <= 4:
	default:
		return q, false
	}
	in := b[icmpHeaderLen:]
	if len(in) == 0 {
		return q, false
	}
	switch in[0] >> 4 {
	case 4:
		ihl := int(in[0]&0xf) * 4
		if ihl < ipv4MinHeader || len(in) < ihl || binary.BigEndian.Uint16(in[6:])&0x1fff != 0 {
			return q, false
		}
		return quoted{src: in[12:16], dst: in[16:20], proto: in[9], hdr: in[ihl:]}, true
	case 6:
		if len(in) < ipv6HeaderLen {
			return q, false
		}
		proto, hdr, frag := skipIPv6Ext(in[6], in[ipv6HeaderLen:])
		if frag {
			return q, false
		}
		return quoted{v6: true, src: in[8:24], dst: in[24:40], proto: proto, hdr: hdr}, true
	}
	return q, false
}
