// Package tunnel forwards TCP connections between a listener and a target,
// with TLS on either side: the engine of `tlskit tunnel` (stunnel's and
// ghostunnel's job).
//
// A [Proxy] knows nothing about certificates. It takes a listener, an
// optional Handshake hook run on each accepted connection (a TLS server
// handshake, in server mode) and a Dial hook that connects to the target (a
// verified TLS client connection, in client mode); package tlskit builds
// the TLS configs. Swapping the configs those hooks use is how a reload
// works: connections in flight keep the config they started with.
//
// # Behaviour
//
//   - Handshake and Dial are bounded by HandshakeTimeout: a client that
//     never finishes its handshake holds its slot for that long at most.
//   - Data is copied both ways by two goroutines started once connected.
//     A plain socket is read through its descriptor with a pooled 32 KiB
//     buffer taken only when data is there; a TLS side uses a 2 KiB buffer
//     that grows to a pooled one only while bulk data flows. An idle TLS
//     connection costs about 31 KiB (bench/tunnel.sh). A half-close is propagated: end of stream on
//     one side becomes CloseWrite on the other (close_notify over TLS, a
//     FIN over TCP), and the other direction keeps flowing.
//   - IdleTimeout closes a connection when neither direction moved data
//     for that long.
//   - MaxConns bounds concurrent connections: beyond it, a connection is
//     closed at once and refused with finding limit.max-conns.
//   - FirstByteTimeout (server mode) closes a client that sends nothing
//     that long after connecting (limit.first-byte), so silent clients
//     cannot hold the slots for a whole HandshakeTimeout.
//   - A refused peer is logged with slog as msg=refused and
//     finding=<finding id> (see [Classify]), and counted in [Metrics].
//     A TLS alert that ends a connection after its handshake is logged
//     too: as a refusal when that peer had sent no data yet (a TLS 1.3
//     server refuses a client certificate only after the client's side of
//     the handshake is over), else as msg="closed by an alert".
//   - [Proxy.Shutdown] stops accepting and lets connections drain until its
//     context ends, then closes what is left.
//   - With ProxyProtocol set, a PROXY protocol v2 header (haproxy
//     proxy-protocol.txt §2.2) is sent to the target first, with the
//     client's address and, over TLS, the SNI, ALPN and TLS version.
//
// # Metrics
//
// [Metrics] holds the Prometheus metrics, with client_golang: connections
// accepted, active and refused by finding id, bytes each way, a handshake
// duration histogram, reloads and reload errors.
//
// # Supervisor
//
// A [Supervisor] is `tlskit tunnel` without its flags: it runs [Service]s
// (from flags, or from a config file read by [LoadConfig]), each with the
// TLS config its [tlskit.Policy] builds: a client service dials its target
// with [tlskit.Policy.DialConfig], a server service accepts with
// [tlskit.Policy.ServerConfig]. It refuses a plain side that is not on
// loopback ([PublicPlaintextError]) unless allowed, serves the metrics,
// rebuilds every config on [Supervisor.Reload] or SIGHUP (a service whose
// new policy fails keeps its last good config, logged and counted), and on
// SIGTERM or when its context ends stops accepting and drains. Errors in
// the configuration are [*ConfigError]s, so that a caller can tell them
// from a listener that cannot be opened.
package tunnel
