package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// TestShutdownEndsAStuckStream checks that shutdown ends a stream whose
// client stopped reading: its replay is stuck in a write that the socket
// buffers cannot take, which http.Server.Shutdown does not see (the
// connection is hijacked) or would wait for (the handler writes), and the
// write deadline would end only 10 s later. When Shutdown returns, the
// stream is gone and its client sees the connection end.
func TestShutdownEndsAStuckStream(t *testing.T) {
	t.Parallel()
	forEachStreamMode(t, testShutdownEndsAStuckStream)
}

func testShutdownEndsAStuckStream(t *testing.T, noHijack bool) {
	e := newEnv(t, startEmbedded(t), envConfig{NoHijack: noHijack})
	room, tok := e.mustRoom(nil)
	// 5 MB of history, more than the socket buffers hold with the client's
	// receive buffer at its minimum.
	content := strings.Repeat("x", chat.MaxContent)
	ctx := context.Background()
	for i := 0; i < 2500; i++ {
		if _, _, err := e.svc.SendAdmin(ctx, room.ID, "Ana", chat.NewMessage{Content: content}); err != nil {
			t.Fatal(err)
		}
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /api/v1/rooms/"+room.ID+"/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tok+"\r\n\r\n")
	open := func() bool {
		m := e.do(req{method: "GET", path: "/metrics", token: testMetricsToken})
		return bytes.Contains(m.body, []byte(`parley_open_streams{kind="visitor"} 1`))
	}
	waitFor(t, "the stream to open", open)
	time.Sleep(200 * time.Millisecond) // the replay fills the buffers and blocks

	e.mustShutdownStreams()
	if open() {
		t.Fatal("the stuck stream is still open after Shutdown")
	}
	// The client gets what was written and then the end of the connection.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, conn)
	if err != nil {
		t.Fatalf("after %d bytes: %v, want the connection's end", n, err)
	}
	if n >= int64(2500*chat.MaxContent) {
		t.Fatalf("got all %d bytes: the stream was not stuck, the test proves nothing", n)
	}
}
