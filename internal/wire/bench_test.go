package wire

import "testing"

func BenchmarkParseClientHello(b *testing.B) {
	raws, _ := rfc8448Messages(b, "testdata/rfc8448/rfc8448-sec3-Simple_1RTT_Handshake.json")
	body := raws[0].Body
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseMessage(TypeClientHello, body, Context{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitRecords(b *testing.B) {
	_, s := flows(b, "testdata/gotls/Client-TLSv12-ClientCert-RSA-RSA")
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, _, err := SplitRecords(s); err != nil {
			b.Fatal(err)
		}
	}
}
