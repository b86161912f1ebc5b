package keylog

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// Collector is an io.Writer to plug into [crypto/tls.Config.KeyLogWriter].
// It parses each line written into its [Log] and, if it has one, copies
// every byte to a tee writer (for example a [File]).
// A Collector is safe for concurrent use.
type Collector struct {
	mu      sync.Mutex
	tee     io.Writer
	partial []byte // an unterminated line waiting for its end
	log     Log
	lines   int
}

// NewCollector returns a Collector that also writes to tee; tee may be nil.
func NewCollector(tee io.Writer) *Collector {
	return &Collector{tee: tee}
}

// Write parses the complete lines in p into the Log and writes p to the tee.
// Bad lines are not fatal: crypto/tls ignores KeyLogWriter errors, so the
// error returned is the tee's, if any, or else the first bad line's.
func (c *Collector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lineErr error
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		line := string(c.partial[:i])
		c.partial = c.partial[i+1:]
		c.lines++
		if err := c.log.parseLine(line); err != nil && lineErr == nil {
			lineErr = &LineError{Line: c.lines, Text: line, Reason: err.Error()}
		}
	}
	if len(c.partial) > 1<<20 {
		c.partial = nil
		if lineErr == nil {
			lineErr = fmt.Errorf("keylog: line %d longer than 1 MiB without a newline; dropped", c.lines+1)
		}
	}
	if c.tee != nil {
		if n, err := c.tee.Write(p); err != nil {
			return n, fmt.Errorf("keylog: copying key log line: %w", err)
		}
	}
	return len(p), lineErr
}

// Log returns the Log the Collector fills. It is live: later writes show up
// in it.
func (c *Collector) Log() *Log {
	return &c.log
}
