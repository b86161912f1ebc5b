package render

import (
	"fmt"
	"strings"

	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
)

// maxPlainLines is the most lines of one plaintext message the ladder
// shows.
const maxPlainLines = 24

// upgradeHead names the in-band upgrade for a report's first line:
// "upgraded in band: SMTP with STARTTLS (from port 587…)".
func upgradeHead(u *transcript.Upgrade) string {
	p := starttls.Protocol(u.Protocol)
	s := fmt.Sprintf("upgraded in band: %s with %s", p.Name(), p.Command())
	if u.ChosenBy != "" {
		s += " (" + u.ChosenBy + ")"
	}
	return s
}

// plaintextLine writes a plaintext event of the ladder: its protocol and
// stage, its size, and the message, every line of it (up to a bound)
// under the first.
func plaintextLine(p *printer, at string, e transcript.Event) {
	size := ""
	if e.Bytes > 0 {
		size = fmt.Sprintf("%d B", e.Bytes)
	}
	lock := ""
	if e.Decrypted {
		lock = " [in TLS]"
	}
	name := strings.TrimSpace(e.Protocol + " " + strings.ReplaceAll(e.Stage, "_", " "))
	lines := strings.Split(e.Text, "\n")
	p.f("  %s  %s  %-22s %7s%s  %s\n", at, e.From.Arrow(), name, size, lock, lines[0])
	indent := strings.Repeat(" ", 2+8+2+len([]rune(e.From.Arrow()))+2+22+1+7+len(lock)+2)
	for i, l := range lines[1:] {
		if i == maxPlainLines {
			p.f("%s… (%d more lines)\n", indent, len(lines)-1-maxPlainLines)
			break
		}
		p.f("%s%s\n", indent, l)
	}
}
