package peertest

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// CorpusJSON decodes the JSON file rel of shared/corpora (gunzipped when
// its name ends in .gz: x509-limbo's and BetterTLS's suites) into v; a
// missing corpus skips as [Corpus] does.
func CorpusJSON(t testing.TB, rel string, v any) {
	t.Helper()
	f, err := os.Open(Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(rel, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		r = zr
	}
	if err := json.NewDecoder(r).Decode(v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}
