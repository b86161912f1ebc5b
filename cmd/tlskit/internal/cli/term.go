package cli

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/render"
)

// outputWidth returns the columns text output is wrapped to: $COLUMNS when
// it is a positive number, else the width of the terminal w is, else
// render.DefaultWidth (output to a file or a pipe).
func outputWidth(w io.Writer) int {
	if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if n := terminalWidth(f); n > 0 {
			return n
		}
	}
	return render.DefaultWidth
}

// checkSettingFlags maps the settings a finding's fix may name to check's flags.
var checkSettingFlags = map[string]string{
	finding.SettingMinVersion: "--min-version",
	finding.SettingMaxVersion: "--max-version",
	finding.SettingTimeout:    "--timeout",
	finding.SettingServerName: "--servername",
	finding.SettingTrust:      "--trust or --ca-file",
	finding.SettingPin:        "--pin",
	finding.SettingClientCert: "--cert and --key",
	finding.SettingALPN:       "--alpn",
	finding.SettingInsecure:   "--insecure",
	finding.SettingVerifyTime: "--verify-time",
	finding.SettingKeyLog:     "--keylog (writes one; a capture is decrypted with tlskit pcap --keylog)",
	finding.SettingStartTLS:   "--starttls",
}

// pcapSettingFlags maps the settings to pcap's flags.
var pcapSettingFlags = map[string]string{
	finding.SettingServerName: "--servername",
	finding.SettingTrust:      "--trust or --ca-file",
	finding.SettingPin:        "--pin",
	finding.SettingKeyLog:     "--keylog",
	finding.SettingServerKey:  "--rsa-key",
	finding.SettingVerifyTime: "--verify-time",
}
