package wire

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

func fmtType(v any) string { return fmt.Sprintf("%T", v) }

type cryptobyteBuilder = cryptobyte.Builder
