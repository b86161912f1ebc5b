package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/capture"
	"github.com/tlskit/tlskit/transcript"
)

// TestPipeOrder: data and reports come out in the order they went in,
// across batches (a record bigger than a batch too).
func TestPipeOrder(t *testing.T) {
	var out bytes.Buffer
	conn := &capture.Conn{Index: 3}
	p := NewPipe(&DataPrinter{W: &out}, func(c *capture.Connection) error {
		_, err := fmt.Fprintf(&out, "report #%d\n", c.Index)
		return err
	})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var want []string
	for i := range 300 {
		msg := fmt.Sprintf("line %d %s", i, strings.Repeat("x", i*40))
		p.Data(conn, transcript.Client, at, []byte(msg))
		want = append(want, msg)
		if i%100 == 99 {
			c := &capture.Connection{}
			c.Index = i
			if err := p.Connection(c); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("report #%d", i))
		}
	}
	p.Data(conn, transcript.Server, at, bytes.Repeat([]byte("y"), 600<<10)) // over a batch
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	last := 0
	for _, w := range want {
		i := strings.Index(got[last:], w)
		if i < 0 {
			t.Fatalf("%.40q missing or out of order", w)
		}
		last += i + len(w)
	}
	if !strings.Contains(got[last:], "614400 bytes") {
		t.Errorf("the big record is not last")
	}
}

// failAfter fails every write after n bytes.
type failAfter struct{ n int }

func (f *failAfter) Write(b []byte) (int, error) {
	if f.n -= len(b); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

// TestPipeError: the printer's first error stops the analysis (at the next
// report) and is what Close returns.
func TestPipeError(t *testing.T) {
	p := NewPipe(&DataPrinter{W: &failAfter{n: 100}}, func(*capture.Connection) error { return nil })
	conn := &capture.Conn{}
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		p.Data(conn, transcript.Client, time.Time{}, bytes.Repeat([]byte("z"), 1000))
		err = p.Connection(&capture.Connection{})
	}
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("Connection returned %v, want the printer's error", err)
	}
	if err := p.Close(); err == nil || err.Error() != "disk full" {
		t.Errorf("Close returned %v", err)
	}
}

// TestCapturePrinterJSON: the streamed JSON is one valid object, with or
// without connections.
func TestCapturePrinterJSON(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		var out bytes.Buffer
		p := &CapturePrinter{W: &out, JSON: true}
		for i := range n {
			c := &capture.Connection{}
			c.Index = i
			if err := p.Connection(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Summary(&capture.Summary{Format: "pcapng", Connections: n}); err != nil {
			t.Fatal(err)
		}
		var v struct {
			Connections []json.RawMessage `json:"connections"`
			Summary     map[string]any    `json:"summary"`
		}
		if err := json.Unmarshal(out.Bytes(), &v); err != nil || len(v.Connections) != n || v.Summary["format"] != "pcapng" {
			t.Errorf("%d connections: %v, %d connections in\n%s", n, err, len(v.Connections), out.String())
		}
	}
}
