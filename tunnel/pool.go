package tunnel

import "sync"

// bufSize is the size of the pooled copy buffers, as io.Copy's.
const bufSize = 32 << 10

// smallBufSize is the size of the buffer a TLS source is read with while
// its reads are small.
const smallBufSize = 2048

// bufPool holds *[]byte copy buffers of bufSize. It is the package's only
// variable: a sync.Pool is safe for concurrent use and holds no state a
// caller can observe.
var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}
