// Command pcapseg drives bench/pcap.sh (not part of the product):
//
//	pcapseg -mss N IN OUT
//
// rewrites the capture IN (pcap or pcapng, Ethernet or Linux cooked
// frames) into the pcap file OUT with every TCP segment longer than N
// bytes split into segments of at most N, as a network link carries them
// and as a capture taken off the wire shows them. A capture on loopback
// (or on a host whose NIC offloads segmentation) holds segments of up to
// 64 KiB instead, and a tool that works per frame, as tshark does, reads
// such a capture much faster than the same traffic off the wire: the
// bench measures both. Sequence numbers, IP lengths and checksums are
// rewritten; every piece keeps the original's timestamp.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	mss := flag.Int("mss", 1448, "the largest TCP payload of a frame (1448: Ethernet with TCP timestamps)")
	flag.Parse()
	if flag.NArg() != 2 || *mss < 1 {
		fmt.Fprintln(os.Stderr, "usage: pcapseg [-mss N] IN OUT")
		os.Exit(2)
	}
	frames, pieces, err := resegment(flag.Arg(0), flag.Arg(1), *mss)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcapseg:", err)
		os.Exit(1)
	}
	fmt.Printf("%d frames in, %d frames out\n", frames, pieces)
}

// packetSource is what pcapgo's two readers share.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

func resegment(in, out string, mss int) (frames, pieces int, err error) {
	f, err := os.Open(in)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var src packetSource
	if ng, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions); err == nil {
		src = ng
	} else {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, 0, err
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: neither pcapng nor pcap: %w", in, err)
		}
		src = r
	}
	o, err := os.Create(out)
	if err != nil {
		return 0, 0, err
	}
	defer o.Close()
	w := pcapgo.NewWriter(o)
	if err := w.WriteFileHeader(65536, src.LinkType()); err != nil {
		return 0, 0, err
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return frames, pieces, err
		}
		frames++
		p := gopacket.NewPacket(data, src.LinkType(), gopacket.NoCopy)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		ip4, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		ip6, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		if tcp == nil || len(tcp.Payload) <= mss || (ip4 == nil) == (ip6 == nil) || ci.CaptureLength != ci.Length {
			if err := w.WritePacket(ci, data); err != nil {
				return frames, pieces, err
			}
			pieces++
			continue
		}
		link := p.LinkLayer()
		payload := tcp.Payload
		seq := tcp.Seq
		for off := 0; off < len(payload); off += mss {
			end := min(off+mss, len(payload))
			t := *tcp
			t.Seq = seq + uint32(off)
			if end < len(payload) {
				t.FIN, t.PSH = false, false
			}
			var netLayer gopacket.SerializableLayer
			if ip4 != nil {
				c := *ip4
				t.SetNetworkLayerForChecksum(&c)
				netLayer = &c
			} else {
				c := *ip6
				t.SetNetworkLayerForChecksum(&c)
				netLayer = &c
			}
			ls := []gopacket.SerializableLayer{}
			if l, ok := link.(gopacket.SerializableLayer); ok && link != nil {
				ls = append(ls, l)
			}
			ls = append(ls, netLayer, &t, gopacket.Payload(payload[off:end]))
			if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
				return frames, pieces, err
			}
			b := buf.Bytes()
			pci := ci
			pci.CaptureLength, pci.Length = len(b), len(b)
			if err := w.WritePacket(pci, b); err != nil {
				return frames, pieces, err
			}
			pieces++
		}
	}
	return frames, pieces, nil
}
