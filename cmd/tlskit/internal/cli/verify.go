package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/trust"
)

// verifyFlags are the options of `tlskit verify`.
type verifyFlags struct {
	trust   base.TrustFlags
	ip      string
	purpose string
	ocsp    string
	jsonOut bool
	brief   bool
}

func newVerifyCmd(stdio base.Stdio) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [flags] CHAIN.pem|-",
		Short: "Verify a certificate chain offline and explain every problem",
		Long: `verify checks a certificate chain from a file, offline: the leaf first, then
whatever else the server (or client) would send, in PEM (or one DER
certificate, or a PKCS#7 bundle: .p7b, .p7c). It builds every path from the
leaf to a trust anchor the way a client does, validates it (RFC 5280 and the
profile's rules), and explains each problem with the same findings, text and
JSON as check's chain section.
It is the offline counterpart of check, and of openssl verify, step certificate
verify and certigo verify.

The profile is the rule set a chain is judged by: webpki (the CA/Browser
Forum's rules for public TLS certificates) for a path to a system root,
rfc5280 for a CA you trust explicitly; --profile overrides it. --crl checks
revocation against CRL files; --fetch (off by default) fetches a missing
intermediate from its AIA URL and CRLs from their distribution points.

` + base.TrustHelp + `

Exit status: 0 the chain is trusted for the name; 1 it is not (the findings
say why); 2 usage error or unreadable input.`,
		Example: `  tlskit verify --servername example.com fullchain.pem
  tlskit verify --ca-file corp-root.pem --servername api.internal chain.pem
  tlskit verify --ca-file corp-root.pem --ip 10.0.0.7 chain.pem
  tlskit verify --ca-file clients-ca.pem --purpose client alice.pem
  tlskit verify --ca-file corp-root.pem --crl issuing-ca.crl --servername api.internal chain.pem
  tlskit verify --servername example.com --fetch leaf-only.pem
  tlskit verify --profile webpki --max-depth 2 --verify-time 2026-11-23T06:00:00Z --json chain.pem
  openssl s_client -connect example.com:443 -showcerts </dev/null | tlskit verify --servername example.com -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return base.Usagef("example: tlskit verify --servername example.com fullchain.pem", "verify takes one CHAIN.pem file, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], stdio)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	f.trust.Register(fl, base.GroupTrust|base.GroupName|base.GroupTime|base.GroupChecks, 0)
	fl.StringVar(&f.ip, "ip", "", "verify the certificate for the IP `ADDR` (checked against its IP SANs) instead of a --servername")
	fl.StringVar(&f.purpose, "purpose", "server", "what the certificate is for (`PURPOSE`): server (serverAuth) or client (clientAuth, as a server checks its clients' certificates)")
	fl.StringVar(&f.ocsp, "ocsp", "", "validate the OCSP response in `FILE` (DER, as a server would staple it) for the leaf")
	fl.BoolVar(&f.jsonOut, "json", false, "print one JSON object instead of text")
	fl.BoolVar(&f.brief, "brief", false, "print only the verdict and the findings")
	return cmd
}

// run verifies the chain in file.
func (f *verifyFlags) run(ctx context.Context, file string, stdio base.Stdio) error {
	pol, err := f.trust.Policy(stdio.Err)
	if err != nil {
		return err
	}
	name := pol.ServerName
	if f.ip != "" {
		if name != "" {
			return base.Usagef("give one: --servername for a DNS name, --ip for an IP address", "--ip and --servername both name the peer")
		}
		if net.ParseIP(f.ip) == nil {
			return base.Usagef("example: --ip 10.0.0.7", "--ip %q is not an IP address", f.ip)
		}
		name = f.ip
	}
	v, err := base.Verifier(pol)
	if err != nil {
		return err
	}
	switch f.purpose {
	case "server":
	case "client":
		v.Usage = x509.ExtKeyUsageClientAuth
		if name != "" {
			v.Names = append(v.Names, name) // the allow-list a server would have
			name = ""
		}
	default:
		return base.Usagef("--purpose is server or client", "--purpose %q is not a purpose", f.purpose)
	}
	ders, err := readFileOrStdin(stdio, file, trust.ReadChainFile, trust.ParseChain)
	if err != nil {
		return base.Usage(err, "the chain is PEM CERTIFICATE blocks, leaf first (or one DER certificate, or a PKCS#7 bundle)")
	}
	req := trust.Request{DER: ders, Name: name, Context: ctx}
	if f.ocsp != "" {
		if req.OCSP, err = readSmall(f.ocsp); err != nil {
			return base.Usagef("--ocsp takes a DER OCSP response (openssl ocsp -respout)", "--ocsp: %v", err)
		}
	}
	at := time.Now()
	if pol.Time != nil {
		at = pol.Time()
	}
	req.Time = at
	v.Anchors.Preload()
	res := v.Check(req)
	purpose := f.purpose
	rep := diagnose.ChainVerdict(file, name, purpose, v, at, res)
	if f.purpose == "client" && len(v.Names) > 0 {
		rep.ServerName = v.Names[len(v.Names)-1]
	}
	if f.jsonOut {
		err = render.JSON(stdio.Out, rep)
	} else {
		err = render.ChainReport(stdio.Out, rep, render.Options{Time: func() time.Time { return at }, Brief: f.brief, Width: outputWidth(stdio.Out), Flags: f.trust.SettingFlags(nil)})
	}
	if err != nil {
		return err
	}
	if rep.Verdict != diagnose.Trusted {
		return base.ExitCode(base.ExitProblem)
	}
	return nil
}

// readFileOrStdin reads what file names with read, or, when file is "-",
// parses the standard input (at most 16 MiB, as a file is read) with
// parse, named "standard input" in its messages.
func readFileOrStdin[T any](stdio base.Stdio, file string, read func(string) (T, error), parse func([]byte, string) (T, error)) (T, error) {
	if file != "-" {
		return read(file)
	}
	data, err := readStdin(stdio, 16<<20)
	if err != nil {
		var zero T
		return zero, err
	}
	return parse(data, "standard input")
}

// readStdin reads the standard input, at most limit bytes: a chain piped
// in ("openssl s_client -showcerts … | tlskit verify -").
func readStdin(stdio base.Stdio, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(stdio.In, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the standard input: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the standard input holds more than %d MiB; a certificate chain is a few kilobytes", limit>>20)
	}
	return data, nil
}

// readSmall reads a file of at most 1 MiB.
func readSmall(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%s is larger than 1 MiB", path)
	}
	return data, nil
}
