package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tlskit-exporter": func() { os.Exit(run()) },
	})
}

// TestScripts runs the tests in testdata/script against the binary's
// main. Each script sees the lab running on loopback, as the variables of
// [lab.Lab.Env]: $LAB_ROOT is its trust anchor, $LAB_<CASE> the address of
// a case and $LAB_<CASE>_NAME its server name (upper case, dashes as
// underscores), e.g. $LAB_GOOD and $LAB_GOOD_NAME; $EXPORTER_ADDR is a free
// loopback address to listen on, $PROMETHEUS_ADDR another, for a real
// Prometheus.
func TestScripts(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			for k, v := range l.Env() {
				env.Setenv(k, v)
			}
			addr, err := freeAddr()
			if err != nil {
				return err
			}
			env.Setenv("EXPORTER_ADDR", addr)
			if addr, err = freeAddr(); err != nil {
				return err
			}
			env.Setenv("PROMETHEUS_ADDR", addr)
			return nil
		},
		// [peer:NAME]: the program NAME is installed (a missing one is an
		// error under TLSKIT_REQUIRE_PEERS=1).
		Condition: peertest.ScriptCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"httpget":  httpGet,
			"httppost": httpPost,
		},
	})
}

// freeAddr returns a loopback address no one listens on now, for a script
// to start the exporter on (its port is then known to the script).
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// httpPost is the script command "httppost URL": POST an empty body to
// URL and write the answer to stdout; the status must be 200 (with !,
// must not be).
func httpPost(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: httppost URL")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post(args[0], "text/plain", nil)
	answer(ts, neg, "httppost", args[0], resp, err)
}

// answer is the end of httpget and httppost (cmd): the answer's body to
// stdout, and its status 200 (with neg, not 200).
func answer(ts *testscript.TestScript, neg bool, cmd, url string, resp *http.Response, err error) {
	if err != nil {
		ts.Fatalf("%s: %v", cmd, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		ts.Fatalf("%s: %v", cmd, err)
	}
	fmt.Fprint(ts.Stdout(), string(body))
	if ok := resp.StatusCode == http.StatusOK; ok == neg {
		ts.Fatalf("%s %s: status %s", cmd, url, resp.Status)
	}
}

// httpGet is the script command "httpget URL": GET URL and write the body
// to stdout; the status must be 200 (with !, must not be). A refused
// connection is retried for up to 10 seconds: the server may be a
// background command still starting.
func httpGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: httpget URL")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(args[0])
		if errors.Is(err, syscall.ECONNREFUSED) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		answer(ts, neg, "httpget", args[0], resp, err)
		return
	}
}
