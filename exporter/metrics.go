package exporter

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tlskit/tlskit/internal/dn"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// The metric names. They are documented, with example alerts, in the
// README; the names are a public contract like finding ids.
const (
	MetricSuccess         = "tlskit_probe_success"
	MetricDuration        = "tlskit_probe_duration_seconds"
	MetricPhase           = "tlskit_probe_phase_duration_seconds"
	MetricVerdict         = "tlskit_probe_verdict"
	MetricTLS             = "tlskit_tls_info"
	MetricNotAfter        = "tlskit_cert_not_after_seconds"
	MetricNotBefore       = "tlskit_cert_not_before_seconds"
	MetricFinding         = "tlskit_finding"
	MetricFileNotAfter    = "tlskit_cert_file_not_after_seconds"
	MetricFileNotBefore   = "tlskit_cert_file_not_before_seconds"
	MetricFileError       = "tlskit_cert_file_error"
	MetricCRLNextUpdate   = "tlskit_crl_next_update_seconds"
	MetricCRLThisUpdate   = "tlskit_crl_this_update_seconds"
	MetricModuleFileError = "tlskit_module_file_error"
	MetricIPProtocol      = "tlskit_probe_ip_protocol"
)

// ipVersion returns 4 or 6 for the IP address of addr (HOST:PORT), 0 when
// it has none.
func ipVersion(addr string) int {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	switch {
	case err != nil || ip == nil:
		return 0
	case ip.To4() != nil:
		return 4
	}
	return 6
}

// certLabels are the labels of a certificate's series.
var certLabels = []string{"chain", "position", "subject", "issuer", "serial", "sha256"}

// family is one metric of a probe's answer: its name, help and label
// names (the extra ones first), the client_golang description made of
// them, and what the text exposition format needs, computed once: the
// HELP and TYPE lines, and the order in which the labels are written
// (sorted by name, as client_golang writes them).
type family struct {
	name, help string
	labels     []string
	desc       *prometheus.Desc
	header     []byte // "# HELP …\n# TYPE … gauge\n"
	order      []int  // label indexes sorted by label name
	rank       int    // the family's place among the families sorted by name
}

func newFamily(name, help string, labels []string) *family {
	f := &family{name: name, help: help, labels: labels, desc: prometheus.NewDesc(name, help, labels, nil)}
	f.header = fmt.Appendf(nil, "# HELP %s %s\n# TYPE %s gauge\n", name, escapeHelp(help), name)
	f.order = make([]int, len(labels))
	for i := range f.order {
		f.order[i] = i
	}
	slices.SortFunc(f.order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return f
}

// descs are the families of a probe's metrics, with extra leading labels
// (target, module) for static targets.
type descs struct {
	success, duration, phase, verdict, tls, notAfter, notBefore, finding, ipProtocol *family
	all                                                                              []*family
}

func newDescs(extra []string) *descs {
	l := func(more ...string) []string { return append(slices.Clone(extra), more...) }
	d := &descs{
		success:    newFamily(MetricSuccess, "1 when the handshake completed and the server is trusted under the module's policy, else 0.", l()),
		duration:   newFamily(MetricDuration, "How long the whole probe took.", l()),
		phase:      newFamily(MetricPhase, "How long each phase of the probe took: dns, connect, starttls (modules with a STARTTLS protocol), handshake, verify (decoding, chain verification and findings).", l("phase")),
		verdict:    newFamily(MetricVerdict, "1 for the probe's verdict: trusted, untrusted, unverified or failed.", l("verdict")),
		tls:        newFamily(MetricTLS, "1 for what the handshake negotiated: the TLS version, the cipher suite and ALPN.", l("version", "cipher_suite", "alpn")),
		notAfter:   newFamily(MetricNotAfter, "End of validity of each certificate, Unix seconds: chain sent (as the server sent it, also when verification fails or a client certificate is required), verified (the path to the anchor) or client (the module's client certificate).", l(certLabels...)),
		notBefore:  newFamily(MetricNotBefore, "Start of validity of each certificate, Unix seconds; labels as tlskit_cert_not_after_seconds.", l(certLabels...)),
		finding:    newFamily(MetricFinding, "The probe's findings, by id and severity (error, warning, info): how many; present whether the probe succeeded or failed.", l("id", "severity")),
		ipProtocol: newFamily(MetricIPProtocol, "The IP version of the address the probe connected to: 4 or 6; absent when it connected nowhere.", l()),
	}
	d.all = []*family{d.success, d.duration, d.phase, d.verdict, d.tls, d.notAfter, d.notBefore, d.finding, d.ipProtocol}
	byName := slices.Clone(d.all)
	slices.SortFunc(byName, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	for i, f := range byName {
		f.rank = i
	}
	return d
}

func (d *descs) describe(ch chan<- *prometheus.Desc) {
	for _, f := range d.all {
		ch <- f.desc
	}
}

// resultCollector exports one probe result.
type resultCollector struct {
	d     *descs
	res   *Result
	extra []string // values of the extra labels
}

func (c *resultCollector) Describe(ch chan<- *prometheus.Desc) { c.d.describe(ch) }

func (c *resultCollector) Collect(ch chan<- prometheus.Metric) {
	c.each(func(f *family, val float64, labels []string) {
		m, err := prometheus.NewConstMetric(f.desc, prometheus.GaugeValue, val, labels...)
		if err != nil { // a label value that is not UTF-8: an error of the scrape, not a panic
			m = prometheus.NewInvalidMetric(f.desc, err)
		}
		ch <- m
	})
}

// each calls emit with every series of the result: its family, value and
// label values (the extra ones first). labels is only valid during the
// call.
func (c *resultCollector) each(emit func(f *family, val float64, labels []string)) {
	d, res, rep := c.d, c.res, c.res.Report
	buf := make([]string, 0, len(c.extra)+len(certLabels))
	gauge := func(f *family, val float64, labels ...string) {
		buf = append(append(buf[:0], c.extra...), labels...)
		emit(f, val, buf)
	}
	ok := 0.0
	if res.Success() {
		ok = 1
	}
	gauge(d.success, ok)
	gauge(d.duration, res.Total.Seconds())
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"dns", res.DNS}, {"connect", res.Connect}, {"starttls", res.StartTLS}, {"handshake", res.Handshake}, {"verify", res.Verify}} {
		if p.name == "starttls" && !res.upgrades {
			continue
		}
		gauge(d.phase, p.d.Seconds(), p.name)
	}
	gauge(d.verdict, 1, string(rep.Verdict))
	if v := ipVersion(rep.Address); v != 0 {
		gauge(d.ipProtocol, float64(v))
	}
	if rep.Version != "" {
		gauge(d.tls, 1, rep.Version, rep.CipherSuite, rep.ALPN)
	}
	certs := func(chain string, list []trust.CertInfo) {
		for i, ci := range list {
			pos := strconv.Itoa(i)
			if t, err := time.Parse(time.RFC3339, ci.NotAfter); err == nil {
				gauge(d.notAfter, float64(t.Unix()), chain, pos, ci.Subject, ci.Issuer, ci.Serial, ci.SHA256)
			}
			if t, err := time.Parse(time.RFC3339, ci.NotBefore); err == nil {
				gauge(d.notBefore, float64(t.Unix()), chain, pos, ci.Subject, ci.Issuer, ci.Serial, ci.SHA256)
			}
		}
	}
	certs("sent", rep.Chain)
	certs("verified", rep.VerifiedPath)
	certs("client", res.client)
	type key struct{ id, sev string }
	var order []key
	var counts []int
	for _, f := range rep.Findings {
		k := key{f.ID, string(f.Severity)}
		if i := slices.Index(order, k); i >= 0 {
			counts[i]++
			continue
		}
		order = append(order, k)
		counts = append(counts, 1)
	}
	for i, k := range order {
		gauge(d.finding, float64(counts[i]), k.id, k.sev)
	}
}

// fileDescs describe certificates read from files.
type fileDescs struct {
	notAfter, notBefore, err *prometheus.Desc
}

func newFileDescs() fileDescs {
	labels := []string{"path", "position", "subject", "issuer", "serial", "sha256"}
	return fileDescs{
		notAfter:  prometheus.NewDesc(MetricFileNotAfter, "End of validity of each certificate in the configured certificate files, Unix seconds; position is its place in the file.", labels, nil),
		notBefore: prometheus.NewDesc(MetricFileNotBefore, "Start of validity of each certificate in the configured certificate files, Unix seconds.", labels, nil),
		err:       prometheus.NewDesc(MetricFileError, "1 for a configured certificate file (or pattern) that could not be read as certificates, with the reason.", []string{"path", "error"}, nil),
	}
}

// fileCollector reads the configured certificate files at each collection.
type fileCollector struct{ e *Exporter }

func (c *fileCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.e.fileD.notAfter
	ch <- c.e.fileD.notBefore
	ch <- c.e.fileD.err
}

// maxCertFile bounds a certificate file's size.
const maxCertFile = 1 << 20

func (c *fileCollector) Collect(ch chan<- prometheus.Metric) {
	d := c.e.fileD
	paths, errs := expandFiles(c.e.cur.Load().cfg.CertificateFiles)
	for p, err := range errs {
		ch <- prometheus.MustNewConstMetric(d.err, prometheus.GaugeValue, 1, p, err)
	}
	for _, p := range paths {
		certs, err := readCertFile(p)
		if err != nil {
			ch <- prometheus.MustNewConstMetric(d.err, prometheus.GaugeValue, 1, p, errText(err))
			continue
		}
		for i, cert := range certs {
			ci := trust.Describe(cert)
			labels := []string{p, strconv.Itoa(i), ci.Subject, ci.Issuer, ci.Serial, ci.SHA256}
			ch <- prometheus.MustNewConstMetric(d.notAfter, prometheus.GaugeValue, float64(cert.NotAfter.Unix()), labels...)
			ch <- prometheus.MustNewConstMetric(d.notBefore, prometheus.GaugeValue, float64(cert.NotBefore.Unix()), labels...)
		}
	}
}

// moduleFilesCollector exports, at each collection, what the modules'
// files hold as their probes use them (read again when a file changed):
// when each CRL was issued and when the next is due, so that a CRL nobody
// refreshes is an alert before it turns stale and every probe of its
// module fails closed (crl.invalid); and the CRL and client certificate
// files that no longer read, whose last good contents are in use.
type moduleFilesCollector struct {
	e                             *Exporter
	nextUpdate, thisUpdate, error *prometheus.Desc
}

func newModuleFilesCollector(e *Exporter) *moduleFilesCollector {
	labels := []string{"module", "path", "position", "issuer", "number"}
	return &moduleFilesCollector{e: e,
		nextUpdate: prometheus.NewDesc(MetricCRLNextUpdate, "When the next CRL is due, Unix seconds, for each CRL a module checks revocation against (its policy's crl files, read again when they change); position is its place in the file. Past it the CRL is stale and the module's probes fail (crl.invalid).", labels, nil),
		thisUpdate: prometheus.NewDesc(MetricCRLThisUpdate, "When each CRL a module checks revocation against was issued, Unix seconds; labels as tlskit_crl_next_update_seconds.", labels, nil),
		error:      prometheus.NewDesc(MetricModuleFileError, "1 for a module's file that changed on disk and no longer reads, with the reason (files: crl, a CRL file; certificate, the client certificate's certificate and key files, which no longer load together): the module's probes go on with what was last read from it (for a CRL, tlskit_crl_next_update_seconds says until when).", []string{"module", "files", "path", "error"}, nil),
	}
}

func (c *moduleFilesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.nextUpdate
	ch <- c.thisUpdate
	ch <- c.error
}

func (c *moduleFilesCollector) Collect(ch chan<- prometheus.Metric) {
	modules := c.e.cur.Load().modules
	names := slices.Sorted(maps.Keys(modules))
	for _, name := range names {
		m := modules[name]
		if m.verifier == nil {
			continue
		}
		inFile := map[string]int{}
		for _, crl := range m.verifier().CRLs {
			l := crl.List
			pos := inFile[crl.Source]
			inFile[crl.Source]++
			number := ""
			if l.Number != nil {
				number = l.Number.String()
			}
			labels := []string{name, crl.Source, strconv.Itoa(pos), dn.String(l.RawIssuer), number}
			if !l.NextUpdate.IsZero() {
				ch <- prometheus.MustNewConstMetric(c.nextUpdate, prometheus.GaugeValue, float64(l.NextUpdate.Unix()), labels...)
			}
			ch <- prometheus.MustNewConstMetric(c.thisUpdate, prometheus.GaugeValue, float64(l.ThisUpdate.Unix()), labels...)
		}
		if m.cert != nil {
			m.cert() // the client certificate's files read again if they changed
		}
		failed := m.fileErrors() // as the files were read above
		for _, f := range slices.SortedFunc(maps.Keys(failed), func(a, b fileOf) int {
			return cmp.Or(strings.Compare(a.files, b.files), strings.Compare(a.path, b.path))
		}) {
			ch <- prometheus.MustNewConstMetric(c.error, prometheus.GaugeValue, 1, name, f.files, f.path, failed[f].Error())
		}
	}
}

// certExtensions are the files of a directory that are read.
var certExtensions = []string{".pem", ".crt", ".cer", ".der"}

// expandFiles turns files, directories and globs into the files to read,
// sorted and without duplicates, and the patterns that failed.
func expandFiles(patterns []string) ([]string, map[string]string) {
	seen := map[string]bool{}
	errs := map[string]string{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, pat := range patterns {
		var matches []string
		if strings.ContainsAny(pat, "*?[") {
			m, err := filepath.Glob(pat)
			if err != nil {
				errs[pat] = err.Error()
				continue
			}
			if len(m) == 0 {
				errs[pat] = "no file matches"
				continue
			}
			matches = m
		} else {
			matches = []string{pat}
		}
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				errs[m] = errText(err)
				continue
			}
			if !st.IsDir() {
				add(m)
				continue
			}
			ents, err := os.ReadDir(m)
			if err != nil {
				errs[m] = errText(err)
				continue
			}
			for _, ent := range ents {
				if ent.Type().IsRegular() || ent.Type()&os.ModeSymlink != 0 {
					if slices.Contains(certExtensions, strings.ToLower(filepath.Ext(ent.Name()))) {
						add(filepath.Join(m, ent.Name()))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out, errs
}

// errText is an error's reason without the path (the path is a label).
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	var ie *truststore.InputError
	if errors.As(err, &ie) {
		return ie.Err.Error()
	}
	return err.Error()
}

// readCertFile reads the certificates of a file as a user's trust anchors
// are read (truststore.ParseCertificates: PEM, DER, PKCS#7, Java keystores;
// private keys are skipped and never exported). Only a regular file is read (through symbolic links): a
// named pipe would hold every scrape until something wrote to it, a device
// would be read to the size bound at each.
func readCertFile(path string) ([]*x509.Certificate, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errors.New(errText(err))
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.New(errText(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCertFile+1))
	if err != nil {
		return nil, errors.New(errText(err))
	}
	if len(data) > maxCertFile {
		return nil, fmt.Errorf("larger than %d KiB", maxCertFile>>10)
	}
	return truststore.ParseCertificates(data, path)
}
