package cli

import (
	"crypto/x509"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

func newTruststoreCmd(stdio base.Stdio) *cobra.Command {
	var root, verifyFile string
	var jsonOut, showCerts bool
	var tf base.TrustFlags
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
			pol, err := tf.Policy(stdio.Err)
			if err != nil {
				return err
			}
			serverName := pol.ServerName
			opts := truststore.Options{Root: root, Env: truststore.ProcessEnv(), Time: pol.Time}
			if root != "" && root != "/" {
				opts.Env = nil // the image's clients do not see this shell's environment
				if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
					return base.Usagef("--root takes the directory an image is unpacked in", "--root %s is not a directory", root)
				}
			}
			audit, err := truststore.Discover(opts)
			if err != nil {
				return base.Usage(err, "") // only unusable options fail it
			}
			res := render.TruststoreResult{Audit: audit}
			problem := finding.Worst(audit.Findings) == finding.Error
			if verifyFile != "" {
				chain, err := readFileOrStdin(stdio, verifyFile, truststore.ReadCertificatesFile, truststore.ParseCertificates)
				if err != nil {
					return base.Usage(err, "--verify takes the chain as the server sends it, leaf first, in PEM")
				}
				if serverName == "" {
					return base.Usagef("example: --verify chain.pem --servername api.example.com", "--verify needs --servername, the name to verify the chain for")
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
				return base.Usagef("", "--servername goes with --verify CHAIN.pem")
			}
			if jsonOut {
				err = render.JSON(stdio.Out, res)
			} else {
				err = render.Truststore(stdio.Out, res, showCerts, render.Options{Width: outputWidth(stdio.Out)})
			}
			if err != nil {
				return err
			}
			if problem {
				return base.ExitCode(base.ExitProblem)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&root, "root", "", "audit the image unpacked in `DIR` instead of this machine")
	fl.StringVar(&verifyFile, "verify", "", "say which stacks would trust the chain in `CHAIN.pem` (leaf first; - reads the standard input)")
	tf.Register(fl, base.GroupName|base.GroupTime, 0)
	fl.BoolVar(&showCerts, "certs", false, "list every certificate of every location")
	fl.BoolVar(&jsonOut, "json", false, "print one JSON object instead of text")
	return cmd
}

// whoTrusts asks every stack about chain, and notes on those that accept
// it where tlskit's own verdict (against this machine's roots) refuses it,
// and why that still matters.
func whoTrusts(opts truststore.Options, chain []*x509.Certificate, name string) (*render.ChainStacks, error) {
	verdicts, err := truststore.WhoTrusts(opts, chain, name)
	if err != nil {
		return nil, err
	}
	// tlskit's own verdict, stricter than every stack: note where a stack
	// accepts what tlskit refuses (the rules, not the roots, matter here).
	at := time.Now()
	if opts.Time != nil {
		at = opts.Time()
	}
	res := (&trust.Verifier{Anchors: trust.SystemAnchors()}).Verify(chain, name, at)
	diagnose.MarkStricter(verdicts, res)
	sr := &render.ChainStacks{ServerName: name, Stacks: verdicts}
	for _, c := range chain {
		sr.Chain = append(sr.Chain, trust.Describe(c))
	}
	return sr, nil
}
