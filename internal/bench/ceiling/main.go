// Command ceiling is the least a server can do for bench-peer's Parley
// driver (../shared/bench-peer/load-parley): it answers the login, the room
// creation, the sends and the streams that driver uses, stores nothing,
// checks nothing, and fans each sent message out to the open streams. Run
// in bench-peer's place of Parley, it measures the ceiling the driver and
// the machine set for any server that speaks one HTTP request a message
// (docs/PERFORMANCE.md, "Issue 18: the driver's ceiling"):
//
//	mkdir -p /tmp/ceiling/cmd/parley
//	cp internal/bench/ceiling/main.go /tmp/ceiling/cmd/parley/
//	printf 'module ceiling\ngo 1.26\n' >/tmp/ceiling/go.mod
//	cd /tmp/ceiling && /path/to/shared/bench-peer/run.sh
//
// It listens on PARLEY_ADDR (bench-peer sets it); it is not part of Parley.
package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// hub hands every event to every open stream; a full stream skips it.
type hub struct {
	mu   sync.Mutex
	subs map[chan []byte]struct{}
}

func (h *hub) publish(ev []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- ev:
		default:
		}
	}
}

func (h *hub) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	f.Flush()
	c := make(chan []byte, 1<<16)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}()
	for {
		select {
		case ev := <-c:
			w.Write(ev)
			for n := len(c); n > 0; n-- { // what queued meanwhile, one flush
				w.Write(<-c)
			}
			f.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

func reply(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func main() {
	h := &hub{subs: map[chan []byte]struct{}{}}
	var seq atomic.Int64
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/readyz":
			w.WriteHeader(http.StatusOK)
		case p == "/api/v1/admin/login":
			io.Copy(io.Discard, r.Body)
			reply(w, http.StatusOK, []byte(`{"token":"t"}`))
		case p == "/api/v1/rooms":
			io.Copy(io.Discard, r.Body)
			id := strconv.FormatInt(seq.Add(1), 10)
			reply(w, http.StatusCreated, []byte(`{"room":{"id":"r`+id+`"},"token":"v"}`))
		case strings.HasSuffix(p, "/messages"):
			var m struct{ Content string }
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &m)
			out, _ := json.Marshal(map[string]any{"seq": seq.Add(1), "content": m.Content, "from": "visitor"})
			h.publish([]byte("event: message\ndata: " + string(out) + "\n\n"))
			reply(w, http.StatusCreated, out)
		case strings.HasSuffix(p, "/events"):
			h.stream(w, r)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	if err := http.ListenAndServe(os.Getenv("PARLEY_ADDR"), nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
