// Package tlskit makes a verified TLS connection easy to set up and its
// failure easy to explain. It fits the standard library rather than
// replacing it: a [Policy] builds ordinary [*tls.Config] values for clients
// and servers, and [Dial], [DialContext], [Listen] and [Policy.Transport]
// wrap net and net/http.
//
// # Trust
//
// A Policy names its trust sources explicitly: "system" (the system roots,
// honouring SSL_CERT_FILE and SSL_CERT_DIR), "file:PATH", "dir:PATH" and
// "pem:<inline PEM>". A listed set replaces the system roots unless it names
// "system": "trust only my CA" means exactly that CA. An empty trust set is
// an error, never a silent fallback.
//
// Pins (SPKI SHA-256, "sha256/<base64>") must match a certificate of a
// verified chain, never merely one the peer sent. A pin set needs a backup
// pin (at least two) unless [Policy.AllowSinglePin] is set, and may expire
// ([Policy.PinsExpire]); an expired pin set that no longer matches fails
// closed with the finding pin.expired.
//
// # Verification is replaced, never skipped
//
// The configs set InsecureSkipVerify and install a VerifyConnection
// callback that runs package trust's verifier, so that a refused peer is
// explained with the same finding ids as `tlskit check`. A failed handshake
// returns a [*VerifyError]:
//
//	var ve *tlskit.VerifyError
//	if errors.As(err, &ve) && ve.ID == finding.PinMismatch { … }
//
// # Policy files
//
// [LoadPolicy] reads a JSON policy file (see [ParsePolicy] for the format).
// JSON was chosen over a TOML subset because encoding/json is in the
// standard library, already hardened and fuzzed, and rejects unknown keys
// with DisallowUnknownFields: a typo must not silently weaken security.
// Lines whose first non-blank characters are "#" or "//" are comments;
// error messages carry the file name and line.
//
// # Certificates and reload
//
// [Policy.CertFile] and [Policy.KeyFile] are re-read when either file
// changes on disk (checked at each handshake of a [Policy.ServerConfig]
// config); a pair that no longer loads is not used: the last good pair
// stays in use. The first load, in ServerConfig, must succeed. Trust
// sources and pins are read when a config is built: build a new config
// to pick up their changes (`tlskit tunnel` does so on SIGHUP).
package tlskit
