//go:build !linux

package stream

import "net"

// connWatcher has no shared implementation outside Linux: each stream reads
// its own connection (see Stream.watchClient).
type connWatcher struct{}

func (cw *connWatcher) watch(net.Conn, func()) (unwatch func(), ok bool) { return nil, false }
