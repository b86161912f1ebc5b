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
