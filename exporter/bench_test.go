package exporter

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkProbe is one /probe of the lab's healthy TLS 1.3 server, the
// server in the same process (bench/exporter.sh measures the exporter
// alone, against blackbox_exporter).
func BenchmarkProbe(b *testing.B) {
	_, srv := labExporterB(b)
	c, _ := theLab.Case("good")
	url := srv.URL + "/probe?module=lab&target=" + c.Addr + "&servername=" + c.ServerName()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func labExporterB(b *testing.B) (*Exporter, *httptest.Server) {
	f := theLab.Files()
	cfg, err := ParseConfig("b.json", []byte(`{"modules": {"lab": {"trust": ["file:`+f.Root+`"]}}}`))
	if err != nil {
		b.Fatal(err)
	}
	ex, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ex.Handler())
	b.Cleanup(srv.Close)
	return ex, srv
}
