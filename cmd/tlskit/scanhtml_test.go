package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/cmd/tlskit/internal/cli"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
)

// TestScanHTMLInBrowser writes a scan's HTML report and opens it in a real
// browser, Debian's chromium run headless: the page must render, its
// script must run (it marks the body with the number of probes it wired
// up), no script error may reach the console, and the page must load
// nothing from elsewhere.
func TestScanHTMLInBrowser(t *testing.T) {
	chromium := peertest.Need(t, "chromium")
	l, err := lab.Start(context.Background(), lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	good, _ := l.Case("good")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), []string{"scan", "--html", page, "--ca-file", l.Files().Root,
		"--servername", good.ServerName(), good.Addr}, base.Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != 0 {
		t.Fatalf("tlskit scan exited %d: %s%s", code, out.String(), errb.String())
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`(?i)<(script|img|iframe)[^>]+src=`, `(?i)<link[^>]+href=`, `(?i)@import`, `(?i)url\(`} {
		if m := regexp.MustCompile(re).Find(html); m != nil {
			t.Errorf("the page loads an external asset: %s", m)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--dump-dom", "file://"+page)
	var dom, logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dom, &logs
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, logs.String())
	}
	d := dom.String()
	if !strings.Contains(d, `data-rendered="yes"`) {
		t.Errorf("the page's script did not run: no data-rendered on <body>; chromium said:\n%s", logs.String())
	}
	if m := regexp.MustCompile(`data-probes="(\d+)"`).FindStringSubmatch(d); m == nil || m[1] == "0" {
		t.Errorf("the script found no probes: %v", m)
	}
	for _, want := range []string{"<h1>tlskit scan</h1>", good.Addr, "Cipher suites", "TLS_AES_128_GCM_SHA256", "Who can connect", "client_hello", "Vulnerabilities", "CVE-2014-0224"} {
		if !strings.Contains(d, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "CONSOLE") && (strings.Contains(line, "Uncaught") || strings.Contains(line, "Error")) {
			t.Errorf("script error in the browser: %s", line)
		}
	}
}
