package diagnose

import (
	"crypto/x509"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
	"github.com/tlskit/tlskit/trust"
)

// expiryFindings warns about each certificate that is valid at t and
// expires within d of it: the leaf the server sent, every certificate of
// the verified path, and the client certificate the client presents. A
// certificate already expired is not "expiring soon": trust reports it as
// cert.expired where it matters. Each certificate is named once, in the
// order leaf, path, client.
func expiryFindings(v *trust.Result, sent []*x509.Certificate, client *x509.Certificate, t time.Time, d time.Duration) []finding.Finding {
	if d <= 0 {
		return nil
	}
	var out []finding.Finding
	var seen [][]byte
	check := func(c *x509.Certificate, what string) {
		if c == nil {
			return
		}
		for _, raw := range seen {
			if string(raw) == string(c.Raw) {
				return
			}
		}
		seen = append(seen, c.Raw)
		if t.After(c.NotAfter) || t.Before(c.NotBefore) {
			return // expired or not yet valid: trust's findings say so
		}
		left := c.NotAfter.Sub(t)
		if left > d {
			return
		}
		out = append(out, finding.Finding{ID: finding.CertExpiringSoon, Severity: finding.Warning,
			Title: fmt.Sprintf("%s %s expires in %s", finding.Capitalize(what), describeName(c), phraseLeft(left)),
			Detail: fmt.Sprintf("%s %s (issued by %q, serial %s) is valid until %s, %s after the verification time %s; the warning threshold is %s.",
				finding.Capitalize(what), describeName(c), dn.String(c.RawIssuer), trust.SerialHex(c.SerialNumber), c.NotAfter.UTC().Format(time.RFC3339), phraseLeft(left), t.UTC().Format(time.RFC3339), phraseLeft(d)),
			Fix:      fmt.Sprintf("Renew %s and deploy the new one before %s.", what, c.NotAfter.UTC().Format("2006-01-02 15:04Z")),
			Evidence: []string{"sha256 " + trust.Describe(c).SHA256}})
	}
	if len(sent) > 0 {
		check(sent[0], "the server's leaf certificate")
	}
	if v != nil && len(v.Verified) > 0 {
		for i, c := range v.Verified[0] {
			if i == 0 {
				check(c, "the server's leaf certificate")
				continue
			}
			what := "the intermediate CA certificate"
			if i == len(v.Verified[0])-1 {
				what = "the trust anchor"
			}
			check(c, what)
		}
	}
	check(client, "the client certificate")
	return out
}

// describeName quotes a certificate's subject, or names it by serial when
// the subject is empty.
func describeName(c *x509.Certificate) string {
	if s := dn.String(c.RawSubject); s != "" {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("(empty subject, serial %s)", trust.SerialHex(c.SerialNumber))
}

// phraseLeft says a duration in days, or in hours under two days.
func phraseLeft(d time.Duration) string {
	if d < 48*time.Hour {
		h := int(math.Ceil(d.Hours()))
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", h)
	}
	days := int(d.Hours() / 24)
	return fmt.Sprintf("%d days", days)
}

// maxDays bounds a window given in days (about 274 years), far inside
// time.Duration's range.
const maxDays = 100000

// ParseDays parses an expiry window as users write it (--expiring-within,
// the exporter's expiring_within): a number of days ("30d", "1.5d", ".5d")
// or a Go duration ("720h"). It must not be negative. The number of days
// is decimal digits with at most one point: no sign, exponent, hex,
// underscore, NaN or Inf, and at most 100000.
func ParseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		f, err := strconv.ParseFloat(n, 64)
		if err != nil || !plainDecimal(n) || f > maxDays {
			return 0, fmt.Errorf("%q is not a number of days (30d, 1.5d)", s)
		}
		return time.Duration(f * float64(24*time.Hour)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (30d, 720h)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return v, nil
}

// plainDecimal reports whether s is digits with at most one point and at
// least one digit.
func plainDecimal(s string) bool {
	digits, points := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}
