//go:build unix

package exporter

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMetricsFileNotRegular: a configured path that is a named pipe or a
// device is an error series, read no further: opening the pipe would hold
// the scrape until something wrote to it.
func TestMetricsFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	srv := serveConfig(t, fmt.Appendf(nil, `{"certificate_files": [%q, "/dev/zero"]}`, fifo))
	done := make(chan []series, 1)
	go func() { done <- scrape(t, srv.URL+"/metrics") }()
	select {
	case ss := <-done:
		for _, p := range []string{fifo, "/dev/zero"} {
			if got := find(ss, MetricFileError, map[string]string{"path": p}); len(got) != 1 || got[0].labels["error"] != "not a regular file" {
				t.Errorf("%s: %v", p, got)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("/metrics did not answer: the named pipe was opened")
	}
}
