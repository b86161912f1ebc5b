//go:build ignore

// gen writes rsasnakeoil2.json, the SSL 3.0 oracle of ssl3_test.go, from a
// tshark TLS debug trace of Wireshark's rsasnakeoil2.pcap decrypted with
// the server's RSA key. Run from this directory:
//
//	go run gen.go /work/shared/corpora/wireshark
//
// It needs tshark (4.0.17 made the committed file).
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

type record struct {
	FromServer bool   `json:"from_server"`
	Type       uint8  `json:"type"`
	Ciphertext string `json:"ciphertext"`
	Plaintext  string `json:"plaintext"` // Wireshark's, without MAC and padding
	MAC        string `json:"mac"`       // the record's MAC, as Wireshark checked it
	finalLen   int
	ok         bool
	plain      []byte
}

type handshake struct {
	Frame        int       `json:"frame"` // where the keys were derived
	Stream       int       `json:"tcp_stream"`
	Suite        uint16    `json:"suite"`
	PreMaster    string    `json:"pre_master,omitempty"` // full handshakes only
	ClientRandom string    `json:"client_random"`
	ServerRandom string    `json:"server_random"`
	MasterSecret string    `json:"master_secret"`
	KeyBlock     string    `json:"key_block"`
	Records      []*record `json:"records"`
}

func main() {
	dir := os.Args[1]
	pcap := filepath.Join(dir, "captures/rsasnakeoil2.pcap")
	keys := "tls.keys_list:127.0.0.1,443,http," + filepath.Join(dir, "keys/rsasnakeoil2.key")
	trace := filepath.Join(os.TempDir(), "rsasnakeoil2-ssl3-trace.txt")
	run("tshark", "-r", pcap, "-o", keys, "-o", "tls.debug_file:"+trace)
	// Hello randoms by TCP stream, in frame order (tshark shows none for
	// the SSL 2.0-format hello; the trace prints that one).
	type hello struct {
		frame, stream, typ int
		random             string
	}
	var hellos []hello
	for _, l := range strings.Split(run("tshark", "-r", pcap, "-o", keys, "-Y", "tls.handshake.type==1 || tls.handshake.type==2",
		"-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "tls.handshake.type", "-e", "tls.handshake.random"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 4 || f[3] == "" {
			continue
		}
		fr, _ := strconv.Atoi(f[0])
		st, _ := strconv.Atoi(f[1])
		typ, _ := strconv.Atoi(strings.Split(f[2], ",")[0])
		hellos = append(hellos, hello{fr, st, typ, f[3]})
	}
	streams := map[int]int{} // frame → tcp.stream
	for _, l := range strings.Split(run("tshark", "-r", pcap, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream"), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			fr, _ := strconv.Atoi(f[0])
			st, _ := strconv.Atoi(f[1])
			streams[fr] = st
		}
	}

	f, err := os.Open(trace)
	check(err)
	defer f.Close()
	var out []*handshake
	current := map[string]int{} // "conversation/dir" → index in out
	newest := map[string]int{}  // conversation → newest keyring
	suite := map[string]uint16{}
	var conv string
	var frame int
	var fromServer bool
	var ctype uint8
	var rec *record
	pending := map[string][]byte{}
	var dumpName string
	var dump []byte
	finish := func() {
		if dumpName == "" {
			return
		}
		switch dumpName {
		case "pre master secret", "client random", "server random", "master secret", "(pre-)master secret":
			pending[dumpName] = dump
		case "key expansion":
			h := &handshake{Frame: frame, Stream: streams[frame], Suite: suite[conv], KeyBlock: hex.EncodeToString(dump)}
			h.MasterSecret = hex.EncodeToString(pending["master secret"])
			if h.MasterSecret == "" {
				h.MasterSecret = hex.EncodeToString(pending["(pre-)master secret"])
			}
			h.PreMaster = hex.EncodeToString(pending["pre master secret"])
			h.ClientRandom = hex.EncodeToString(pending["client random"])
			h.ServerRandom = hex.EncodeToString(pending["server random"])
			for _, hh := range hellos {
				if hh.stream != h.Stream || hh.frame > frame {
					continue
				}
				if hh.typ == 1 && pending["client random"] == nil {
					h.ClientRandom = hh.random
				}
				if hh.typ == 2 && pending["server random"] == nil {
					h.ServerRandom = hh.random
				}
			}
			out = append(out, h)
			newest[conv] = len(out) - 1
			pending = map[string][]byte{}
		case "Ciphertext":
			k, ok := current[conv+"/"+strconv.FormatBool(fromServer)]
			if !ok {
				panic(fmt.Sprintf("frame %d: a record before its direction's ChangeCipherSpec", frame))
			}
			rec = &record{FromServer: fromServer, Type: ctype, Ciphertext: hex.EncodeToString(dump), finalLen: -1}
			out[k].Records = append(out[k].Records, rec)
		case "Plaintext":
			rec.plain = dump
		}
		dumpName = ""
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "| ") && dumpName != "" {
			for _, h := range strings.Fields(line[2:min(len(line), 2+16*3)]) {
				v, err := strconv.ParseUint(h, 16, 8)
				if err != nil {
					break
				}
				dump = append(dump, byte(v))
			}
			continue
		}
		finish()
		switch {
		case strings.HasPrefix(line, "dissect_ssl enter frame #"):
			frame, _ = strconv.Atoi(strings.Fields(strings.TrimPrefix(line, "dissect_ssl enter frame #"))[0])
		case strings.HasPrefix(line, "  conversation = "):
			conv = strings.Trim(strings.Fields(line)[2], ",")
		case strings.HasPrefix(line, "packet_from_server: is from server - "):
			fromServer = strings.HasSuffix(line, "TRUE")
		case strings.HasPrefix(line, "dissect_ssl3_record: content_type "):
			v, _ := strconv.Atoi(strings.Fields(line)[2])
			ctype = uint8(v)
		case strings.HasPrefix(line, "ssl_set_cipher found CIPHER 0x"):
			v, _ := strconv.ParseUint(strings.Fields(line)[3][2:], 16, 16)
			suite[conv] = uint16(v)
		case strings.HasPrefix(line, "ssl_change_cipher "):
			current[conv+"/"+strconv.FormatBool(strings.HasSuffix(line, "SERVER"))] = newest[conv]
		case strings.HasPrefix(line, "ssl_decrypt_record found padding") && rec != nil:
			fs := strings.Fields(line)
			rec.finalLen, _ = strconv.Atoi(fs[len(fs)-1])
		case line == "ssl_decrypt_record: mac ok" && rec != nil:
			rec.ok = true
		case strings.HasSuffix(line, "]:") && strings.Contains(line, "["):
			dumpName, dump = line[:strings.LastIndex(line, "[")], nil
		}
	}
	finish()
	check(sc.Err())
	n := 0
	for _, h := range out {
		for _, r := range h.Records {
			if !r.ok || r.finalLen < 20 {
				panic(fmt.Sprintf("a record of frame %d's keys did not decrypt in Wireshark", h.Frame))
			}
			r.Plaintext = hex.EncodeToString(r.plain[:r.finalLen-20])
			r.MAC = hex.EncodeToString(r.plain[r.finalLen-20 : r.finalLen])
			n++
		}
	}
	b, err := json.MarshalIndent(map[string]any{
		"source":     "tshark 4.0.17 -o tls.debug_file: trace of Wireshark's captures/rsasnakeoil2.pcap with keys/rsasnakeoil2.key (testdata/ssl3/gen.go)",
		"handshakes": out,
	}, "", "  ")
	check(err)
	check(os.WriteFile("rsasnakeoil2.json", append(b, '\n'), 0o644))
	fmt.Printf("%d key derivations, %d records\n", len(out), n)
}

func run(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	check(err)
	return string(out)
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
