package peertest

import (
	"io"
	"os/exec"
	"testing"
	"time"
)

// Typed runs a client that sends what it is typed and leaves at the end of
// its input, openssl s_client say: it starts cmd, waits pause (the
// handshake), writes each line pause apart, ends the input, and waits up
// to 5 s for cmd to exit before killing it. It returns cmd's output; the
// caller judges the outcome from what the client left behind (its key log,
// a capture).
func Typed(t testing.TB, cmd *exec.Cmd, pause time.Duration, lines ...string) string {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pause)
	for _, line := range lines {
		io.WriteString(in, line)
		time.Sleep(pause)
	}
	in.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	return out.String()
}
