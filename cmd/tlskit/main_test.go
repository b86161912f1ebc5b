package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tlskit/tlskit/lab"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tlskit": func() { os.Exit(run()) },
	})
}

// TestScripts runs the command-line tests in testdata/script. Each script
// sees the lab running on loopback: $LAB_ROOT is its trust anchor,
// $LAB_CLIENT_CERT/$LAB_CLIENT_KEY a client certificate its servers accept,
// $LAB_BADCLIENT_CERT/$LAB_BADCLIENT_KEY one they reject, and $LAB_<CASE>
// (upper case, dashes as underscores) the address of each case, e.g.
// $LAB_EXPIRED, and $LAB_CHAIN_<CASE> the chain it serves (PEM), e.g.
// $LAB_CHAIN_EXPIRED; $LAB_CRL is the Intermediate's CRL and
// $LAB_CLIENT_CA the client CA.
func TestScripts(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			f := l.Files()
			env.Setenv("LAB_ROOT", f.Root)
			env.Setenv("LAB_CLIENT_CERT", f.ClientCert)
			env.Setenv("LAB_CLIENT_KEY", f.ClientKey)
			env.Setenv("LAB_BADCLIENT_CERT", f.BadClientCert)
			env.Setenv("LAB_BADCLIENT_KEY", f.BadClientKey)
			env.Setenv("LAB_CRL", f.CRL)
			env.Setenv("LAB_CLIENT_CA", f.ClientCA)
			for _, c := range l.Cases() {
				name := strings.ToUpper(strings.ReplaceAll(c.Name, "-", "_"))
				env.Setenv("LAB_"+name, c.Addr)
				if c.ChainFile != "" {
					env.Setenv("LAB_CHAIN_"+name, c.ChainFile)
				}
			}
			return nil
		},
	})
}
