package cli

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// truststoreEnv is the part of the environment that changes how TLS
// stacks load roots.
// truststoreResult is what `tlskit truststore --json` prints.
type truststoreResult struct {
	*truststore.Audit
	Verify *stacksResult `json:"verify,omitempty"`
}

// stacksResult answers "which client on this machine would trust this
// chain?".
type stacksResult struct {
	ServerName string                    `json:"server_name"`
	Chain      []trust.CertInfo          `json:"chain"`
	Stacks     []truststore.StackVerdict `json:"stacks"`
}

func newTruststoreCmd(stdio Stdio) *cobra.Command {
	var root, verifyFile string
	var jsonOut, showCerts bool
	var tf trustFlags
	cmd := &cobra.Command{
		Use:   "truststore",
		Short: "Audit the trust store and say which client stacks would trust a chain",
		Long: `truststore finds every place a TLS client on this machine (or in the image
unpacked under --root) reads trusted roots from: bundle files, OpenSSL hashed
directories, SSL_CERT_FILE/SSL_CERT_DIR, and says what each holds and what is
wrong with it (dangling or misnamed hash links, a hashed directory missing
roots the bundle has, expired roots, junk).

With --verify CHAIN.pem it answers "which client on this machine would trust
this chain?": a verdict per stack (go, openssl-cafile, openssl-capath, qt5,
gnutls, …), each from the roots that stack would really load, with the reason
and the fix when one says no.

Exit status: 0 no problem found; 1 findings of severity error (or a stack
refuses the chain, or the output cannot be written); 2 usage error.`,
		Example: `  tlskit truststore
  tlskit truststore --root /var/lib/images/debian-rootfs --json
  tlskit truststore --verify chain.pem --servername api.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pol, err := tf.policy(stdio.Err)
			if err != nil {
				return err
			}
			serverName := pol.ServerName
			opts := truststore.Options{Root: root, Env: truststore.ProcessEnv(), Time: pol.Time}
			if root != "" && root != "/" {
				opts.Env = nil // the image's clients do not see this shell's environment
				if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
					return usagef("--root takes the directory an image is unpacked in", "--root %s is not a directory", root)
				}
			}
			audit, err := truststore.Discover(opts)
			if err != nil {
				return usage(err, "") // only unusable options fail it
			}
			res := truststoreResult{Audit: audit}
			problem := finding.Worst(audit.Findings) == finding.Error
			if verifyFile != "" {
				chain, err := truststore.ReadCertificatesFile(verifyFile)
				if err != nil {
					return usage(err, "--verify takes the chain as the server sends it, leaf first, in PEM")
				}
				if serverName == "" {
					return usagef("example: --verify chain.pem --servername api.example.com", "--verify needs --servername, the name to verify the chain for")
				}
				sr, err := whoTrusts(opts, chain, serverName)
				if err != nil {
					return err
				}
				res.Verify = sr
				for _, v := range sr.Stacks {
					problem = problem || !v.Trusted
				}
			} else if serverName != "" {
				return usagef("", "--servername goes with --verify CHAIN.pem")
			}
			if jsonOut {
				if err := render.JSON(stdio.Out, res); err != nil {
					return err
				}
			} else {
				printAudit(stdio.Out, audit, showCerts)
				if res.Verify != nil {
					printStacks(stdio.Out, res.Verify)
				}
			}
			if problem {
				return exitCode(ExitProblem)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&root, "root", "", "audit the image unpacked in `DIR` instead of this machine")
	fl.StringVar(&verifyFile, "verify", "", "say which stacks would trust the chain in `CHAIN.pem` (leaf first)")
	tf.register(fl, groupName|groupTime, 0)
	fl.BoolVar(&showCerts, "certs", false, "list every certificate of every location")
	fl.BoolVar(&jsonOut, "json", false, "print one JSON object instead of text")
	return cmd
}

func whoTrusts(opts truststore.Options, chain []*x509.Certificate, name string) (*stacksResult, error) {
	verdicts, err := truststore.WhoTrusts(opts, chain, name)
	if err != nil {
		return nil, err
	}
	sr := &stacksResult{ServerName: name, Stacks: verdicts}
	for _, c := range chain {
		sr.Chain = append(sr.Chain, trust.Describe(c))
	}
	return sr, nil
}

func printAudit(w io.Writer, a *truststore.Audit, showCerts bool) {
	root := a.Root
	if root == "" {
		root = "/"
	}
	fmt.Fprintf(w, "tlskit truststore %s (OPENSSLDIR %s)\n\nLOCATIONS\n", root, a.OpenSSLDir)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  PATH\tKIND\tCERTS\tREAD BY\n")
	for _, l := range a.Locations {
		if !l.Exists {
			continue
		}
		n := fmt.Sprint(len(l.Certs))
		if l.Problem != "" {
			n = "! " + l.Problem
		}
		path := l.Path
		if l.Resolved != "" {
			path += " → " + l.Resolved
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", path, l.Kind, n, readers(l.Sources))
	}
	tw.Flush()
	missing := 0
	for _, l := range a.Locations {
		if !l.Exists {
			missing++
		}
	}
	if missing > 0 {
		fmt.Fprintf(w, "  (%d other places clients look do not exist here; --json lists them)\n", missing)
	}
	if showCerts {
		for _, l := range a.Locations {
			if len(l.Certs) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s\n", l.Path)
			for _, c := range l.Certs {
				fmt.Fprintf(w, "  %s  %s  %s\n", c.SubjectHash, c.NotAfter.Format("2006-01-02"), c.Subject)
			}
		}
	}
	fmt.Fprintf(w, "\nFINDINGS\n")
	render.Findings(w, a.Findings)
}

// readers shortens a location's sources ("go: root_linux.go certFiles", …)
// to the distinct clients that read it.
func readers(sources []string) string {
	var names []string
	seen := map[string]bool{}
	for _, s := range sources {
		name, _, _ := strings.Cut(s, ":")
		for _, n := range strings.Split(name, "/") {
			if n = strings.TrimSpace(n); n != "" && !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return strings.Join(names, ", ")
}

func printStacks(w io.Writer, sr *stacksResult) {
	fmt.Fprintf(w, "\nWHO TRUSTS THIS CHAIN for %s", sr.ServerName)
	if len(sr.Chain) > 0 {
		fmt.Fprintf(w, " (leaf %s)", sr.Chain[0].Subject)
	}
	fmt.Fprintf(w, "\n")
	for _, v := range sr.Stacks {
		mark := "✓ trusts    "
		if !v.Trusted {
			mark = "✗ refuses   "
		}
		fmt.Fprintf(w, "  %-16s %s (%d roots from %s)\n", v.Stack, mark, v.Roots, orDash(strings.Join(v.Sources, ", ")))
		if v.Reason != "" {
			fmt.Fprintf(w, "      why: %s\n", v.Reason)
		}
		if v.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", v.Fix)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
