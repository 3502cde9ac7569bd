//go:build linux

package stream

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// connWatcher tells hijacked stream connections that their client went away
// (closed or reset the connection), without a goroutine per connection: one
// goroutine waits on an epoll set of every watched connection for a hang-up.
// It runs while at least one connection is watched, and ends (closing its
// epoll set) within watchWaitMs after the last one is unwatched. Go's own
// poller keeps the connections in its epoll set too; a file descriptor may
// be in several.
type connWatcher struct {
	mu      sync.Mutex
	epfd    int
	running bool
	next    int32
	gone    map[int32]func()
}

const (
	// watchWaitMs is how long the watcher waits for events before it looks
	// whether it still has connections to watch.
	watchWaitMs = 250
	// epollET is EPOLLET as a uint32 (syscall has it as a negative int).
	epollET = 1 << 31
)

// watch calls gone (once or more; it must be cheap, non-blocking and
// idempotent) when the client of conn hangs up. Call the returned unwatch
// before closing conn. ok is false when conn cannot be watched this way
// (not a plain socket, epoll failed): the caller then reads conn itself.
func (cw *connWatcher) watch(conn net.Conn, gone func()) (unwatch func(), ok bool) {
	sc, isSys := conn.(syscall.Conn)
	if !isSys {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return nil, false
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if !cw.running {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, false
		}
		cw.epfd, cw.running = epfd, true
		if cw.gone == nil {
			cw.gone = make(map[int32]func())
		}
		go cw.run(epfd)
	}
	cw.next++
	id := cw.next
	ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR | epollET, Fd: int32(fd), Pad: id}
	if err := syscall.EpollCtl(cw.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, false // the watcher ends on its own if nothing else is watched
	}
	cw.gone[id] = gone
	epfd := cw.epfd
	return func() {
		cw.mu.Lock()
		defer cw.mu.Unlock()
		delete(cw.gone, id)
		if cw.running && cw.epfd == epfd {
			_ = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, fd, nil)
		}
	}, true
}

// run waits for hang-ups until nothing is watched any more. Events are
// matched by the id given at watch, never by file descriptor, so an event
// of a connection unwatched meanwhile (whose descriptor may be reused)
// reaches no one.
func (cw *connWatcher) run(epfd int) {
	events := make([]syscall.EpollEvent, 64)
	for {
		n, err := syscall.EpollWait(epfd, events, watchWaitMs)
		if err != nil && err != syscall.EINTR {
			n = 0
			time.Sleep(watchWaitMs * time.Millisecond) // never spin
		}
		cw.mu.Lock()
		var call []func()
		for _, ev := range events[:max(n, 0)] {
			if f := cw.gone[ev.Pad]; f != nil {
				call = append(call, f)
			}
		}
		if n <= 0 && len(cw.gone) == 0 {
			cw.running = false
			_ = syscall.Close(epfd)
			cw.mu.Unlock()
			return
		}
		cw.mu.Unlock()
		for _, f := range call {
			f()
		}
	}
}
