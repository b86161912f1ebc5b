package scan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
)

// This file records the ClientHellos of the TLS clients installed on this
// machine: each is pointed at a listener on loopback that reads its first
// flight and hangs up. The recorded hello is then sent to the scanned
// server as that client would send it (with a fresh random and fresh key
// shares), so "who can connect" covers the clients that are really here,
// in their versions and configuration.

// localClient is one client this machine may have.
type localClient struct {
	name    string
	store   string // truststore stack, "" when the client brings its own roots
	note    string
	version []string // command printing the client's version
	run     func(ctx context.Context, dir, port string) *exec.Cmd
}

var localClients = []localClient{
	{name: "openssl s_client", store: "openssl", version: []string{"openssl", "version"},
		run: func(ctx context.Context, dir, port string) *exec.Cmd {
			return exec.CommandContext(ctx, "openssl", "s_client", "-connect", "127.0.0.1:"+port, "-servername", "localhost")
		}},
	{name: "gnutls-cli", store: "gnutls", version: []string{"gnutls-cli", "--version"},
		run: func(ctx context.Context, dir, port string) *exec.Cmd {
			return exec.CommandContext(ctx, "gnutls-cli", "-p", port, "--sni-hostname", "localhost", "127.0.0.1")
		}},
	{name: "curl", store: "curl", version: []string{"curl", "--version"},
		run: func(ctx context.Context, dir, port string) *exec.Cmd {
			return exec.CommandContext(ctx, "curl", "-s", "--max-time", "5", "--resolve", "localhost:"+port+":127.0.0.1", "https://localhost:"+port+"/")
		}},
	{name: "wget", store: "openssl", note: "wget with OpenSSL uses OpenSSL's default verify paths", version: []string{"wget", "--version"},
		run: func(ctx context.Context, dir, port string) *exec.Cmd {
			return exec.CommandContext(ctx, "wget", "-q", "-O", "/dev/null", "--tries=1", "--timeout=5", "https://127.0.0.1:"+port+"/")
		}},
	{name: "python3 ssl", store: "python", version: []string{"python3", "--version"},
		run: func(ctx context.Context, dir, port string) *exec.Cmd {
			return exec.CommandContext(ctx, "python3", "-c", "import socket,ssl\nc=ssl.create_default_context()\ns=socket.create_connection(('127.0.0.1',"+port+"))\nc.wrap_socket(s,server_hostname='localhost')")
		}},
	{name: "java (JSSE)", store: "java", note: "the default JDK's cacerts keystore on this machine (the application may set javax.net.ssl.trustStore)", version: []string{"java", "-version"},
		run: func(ctx context.Context, dir, port string) *exec.Cmd {
			src := filepath.Join(dir, "Hello.java")
			os.WriteFile(src, []byte(`import javax.net.ssl.*; import java.util.List;
public class Hello { public static void main(String[] a) throws Exception {
  SSLSocket s = (SSLSocket) SSLSocketFactory.getDefault().createSocket("127.0.0.1", Integer.parseInt(a[0]));
  SSLParameters p = s.getSSLParameters(); p.setServerNames(List.of(new SNIHostName("localhost"))); s.setSSLParameters(p);
  s.startHandshake(); } }`), 0o600)
			return exec.CommandContext(ctx, "java", src, port)
		}},
	{name: "chromium", note: "Chromium's roots (the Chrome Root Store, or NSS's on older builds), not this machine's bundle", version: []string{"chromium", "--version"},
		run: func(ctx context.Context, dir, port string) *exec.Cmd {
			args := []string{"--headless", "--disable-gpu", "--no-first-run",
				"--user-data-dir=" + filepath.Join(dir, "chromium"), "--host-resolver-rules=MAP localhost 127.0.0.1",
				"--dump-dom", "https://localhost:" + port + "/"}
			if os.Geteuid() == 0 {
				// Chromium refuses to run as root with its sandbox on; it
				// only fetches from our loopback listener.
				args = append([]string{"--no-sandbox"}, args...)
			}
			return exec.CommandContext(ctx, "chromium", args...)
		}},
}

// RecordLocalClients records the ClientHello of each TLS client installed
// on this machine (openssl s_client, gnutls-cli, curl, wget, python3,
// java, chromium, and the Go crypto/tls this program is built with) and
// returns them as client profiles. notes say which clients were not found
// or sent nothing within timeout.
func RecordLocalClients(ctx context.Context, timeout time.Duration) ([]ClientProfile, []string) {
	dir, err := os.MkdirTemp("", "tlskit-clients-")
	if err != nil {
		return nil, []string{"local clients: " + err.Error()}
	}
	defer os.RemoveAll(dir)
	var mu sync.Mutex
	var out []ClientProfile
	var notes []string
	var wg sync.WaitGroup
	for _, lc := range localClients {
		if _, err := exec.LookPath(lc.version[0]); err != nil {
			continue
		}
		wg.Go(func() {
			p, err := recordOne(ctx, dir, lc, timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				notes = append(notes, fmt.Sprintf("local client %s: %v", lc.name, err))
				return
			}
			out = append(out, p)
		})
	}
	wg.Go(func() {
		p, err := recordGo(ctx, timeout)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			notes = append(notes, "local client Go crypto/tls: "+err.Error())
			return
		}
		out = append(out, p)
	})
	wg.Wait()
	// A stable order: as listed.
	order := func(name string) int {
		for i, lc := range localClients {
			if strings.HasPrefix(name, lc.name) {
				return i
			}
		}
		return len(localClients)
	}
	slices.SortStableFunc(out, func(a, b ClientProfile) int { return order(a.Name) - order(b.Name) })
	return out, notes
}

// recordOne runs one client against a one-shot listener.
func recordOne(ctx context.Context, dir string, lc localClient, timeout time.Duration) (ClientProfile, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ClientProfile{}, err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sub, err := os.MkdirTemp(dir, "c")
	if err != nil {
		return ClientProfile{}, err
	}
	cmd := lc.run(cctx, sub, port)
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return ClientProfile{}, err
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	type got struct {
		ch  *wire.ClientHello
		err error
	}
	res := make(chan got, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- got{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		ch, err := readClientHello(c)
		res <- got{ch, err}
	}()
	var g got
	select {
	case g = <-res:
	case <-cctx.Done():
		return ClientProfile{}, fmt.Errorf("sent no ClientHello within %v", timeout)
	}
	if g.err != nil {
		return ClientProfile{}, g.err
	}
	version := clientVersion(ctx, lc.version)
	if lc.name == "wget" {
		// wget links GnuTLS or OpenSSL, and says which.
		full, _ := exec.CommandContext(ctx, "wget", "--version").Output()
		if strings.Contains(string(full), "+ssl/gnutls") {
			lc.store, lc.note = "gnutls", "wget with GnuTLS uses GnuTLS's system trust"
		}
	}
	var args []string
	for _, a := range cmd.Args[:min(len(cmd.Args), 3)] {
		a, _, _ = strings.Cut(a, "\n")
		args = append(args, a)
	}
	src := "recorded on this machine: " + strings.Join(args, " ") + "…"
	if version != "" {
		src += " (" + version + ")"
	}
	return profileOf(lc.name+" "+shortVersion(version), src, lc.store, lc.note, g.ch), nil
}

// recordGo records the hello of crypto/tls with its default settings, as
// a Go program on this machine (this one) sends it.
func recordGo(ctx context.Context, timeout time.Duration) (ClientProfile, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ClientProfile{}, err
	}
	defer ln.Close()
	go func() {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), timeout)
		if err != nil {
			return
		}
		tc := tls.Client(c, &tls.Config{ServerName: "localhost"})
		tc.SetDeadline(time.Now().Add(timeout))
		tc.Handshake()
		tc.Close()
	}()
	c, err := ln.Accept()
	if err != nil {
		return ClientProfile{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	ch, err := readClientHello(c)
	if err != nil {
		return ClientProfile{}, err
	}
	return profileOf("Go "+strings.TrimPrefix(runtime.Version(), "go")+" crypto/tls", "recorded on this machine: the crypto/tls tlskit is built with, default Config", "go", "", ch), nil
}

// readClientHello reads a ClientHello from c: the records of its first
// flight until the message is whole.
func readClientHello(c net.Conn) (*wire.ClientHello, error) {
	var buf []byte
	var asm wire.Assembler
	p := make([]byte, 4096)
	for {
		recs, used, err := wire.SplitRecords(buf)
		if err != nil {
			return nil, fmt.Errorf("its first bytes are not TLS: %w", err)
		}
		for _, r := range recs {
			if r.Header.Type != wire.ContentHandshake {
				return nil, fmt.Errorf("its first record is %v, not a handshake", r.Header.Type)
			}
			msgs, err := asm.Write(r.Payload)
			if err != nil {
				return nil, err
			}
			if len(msgs) > 0 {
				m, err := wire.ParseMessage(msgs[0].Type, msgs[0].Body, wire.Context{})
				if err != nil {
					return nil, err
				}
				ch, ok := m.(*wire.ClientHello)
				if !ok {
					return nil, fmt.Errorf("its first message is %v", msgs[0].Type)
				}
				return ch, nil
			}
		}
		buf = buf[used:]
		if len(buf) > 64<<10 {
			return nil, errors.New("its ClientHello is over 64 KiB")
		}
		n, err := c.Read(p)
		buf = append(buf, p[:n]...)
		if err != nil && n == 0 {
			return nil, fmt.Errorf("closed before a whole ClientHello: %w", err)
		}
	}
}

// profileOf makes a client profile of a recorded hello.
func profileOf(name, source, store, note string, ch *wire.ClientHello) ClientProfile {
	p := ClientProfile{Name: strings.TrimSpace(name), Source: source, Hello: ch, TrustStore: store, TrustNote: note, Current: true,
		Versions: ch.OfferedVersions(), Suites: ch.CipherSuites}
	p.Groups, _ = ch.Extensions.Find(wire.ExtSupportedGroups).Parsed.([]wire.NamedGroup)
	p.SigAlgs, _ = ch.Extensions.Find(wire.ExtSignatureAlgorithms).Parsed.([]wire.SignatureScheme)
	p.ALPN = ch.ALPN()
	if ks, ok := ch.Extensions.Find(wire.ExtKeyShare).Parsed.([]wire.KeyShare); ok {
		for _, k := range ks {
			p.KeyShares = append(p.KeyShares, k.Group)
		}
	}
	return p
}

// clientVersion runs a client's version command and returns its first
// line.
func clientVersion(ctx context.Context, argv []string) string {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return ""
	}
	// The first line that names a version (chromium's wrapper script may
	// complain first).
	for _, line := range strings.Split(string(out), "\n") {
		if shortVersion(line) != "" {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// shortVersion picks the version number out of a version line.
func shortVersion(line string) string {
	for _, f := range strings.Fields(strings.NewReplacer("\"", " ", "(", " ", ")", " ").Replace(line)) {
		if len(f) > 0 && f[0] >= '0' && f[0] <= '9' && strings.Contains(f, ".") {
			return f
		}
	}
	return ""
}
