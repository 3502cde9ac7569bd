package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// statusError is a non-2xx answer of the API, with its error code.
type statusError struct {
	Status int
	Code   string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d %s", e.Status, e.Code) }

// client talks to one Parley (or baseline) server the way the widget and the
// console do: JSON over keep-alive connections, and one connection per event
// stream.
type client struct {
	base         string
	metricsToken string
	dial         *dialer
	reqs         *http.Client
	streams      *http.Client
	bufs         sync.Pool
}

// requestTimeout bounds every plain request; streams are bounded by their
// context only.
const requestTimeout = 10 * time.Second

func newClient(base string, conns int, dial *dialer) *client {
	reqs := &http.Transport{
		DialContext:         dial.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	streams := &http.Transport{
		DialContext:           dial.DialContext,
		MaxIdleConnsPerHost:   1,
		DisableCompression:    true,
		ResponseHeaderTimeout: requestTimeout,
		ForceAttemptHTTP2:     false,
		// Small buffers: the streams scenario holds thousands of them.
		ReadBufferSize:  2 << 10,
		WriteBufferSize: 2 << 10,
	}
	return &client{
		base:    strings.TrimRight(base, "/"),
		dial:    dial,
		reqs:    &http.Client{Transport: reqs, Timeout: requestTimeout},
		streams: &http.Client{Transport: streams},
		bufs:    sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
}

func (c *client) close() {
	c.reqs.CloseIdleConnections()
	c.streams.CloseIdleConnections()
}

// do sends one request with a JSON body (nil: none) and decodes a 2xx JSON
// answer into out (nil: discarded). A non-2xx answer is a *statusError.
func (c *client) do(ctx context.Context, method, path, token string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	if token != "" {
		req.Header["Authorization"] = []string{"Bearer " + token}
	}
	res, err := c.reqs.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	buf := c.bufs.Get().(*bytes.Buffer)
	defer c.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(res.Body, 8<<20)); err != nil {
		return err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(buf.Bytes(), &e)
		if e.Error.Code == "" {
			e.Error.Code = "-"
		}
		return &statusError{Status: res.StatusCode, Code: e.Error.Code}
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			return fmt.Errorf("bench: %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// visitor is one room as its visitor holds it.
type visitor struct {
	roomID string
	token  string
}

func (c *client) createRoom(ctx context.Context, name string) (visitor, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "page": "http://localhost/bench"})
	var out struct {
		Room struct {
			ID string `json:"id"`
		} `json:"room"`
		Token string `json:"token"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/rooms", "", body, &out); err != nil {
		return visitor{}, err
	}
	if out.Room.ID == "" || out.Token == "" {
		return visitor{}, errors.New("bench: create room: no room id or token in the answer")
	}
	return visitor{roomID: out.Room.ID, token: out.Token}, nil
}

func (c *client) login(ctx context.Context, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	var out struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/login", "", body, &out); err != nil {
		return "", fmt.Errorf("admin login as %q: %w", user, err)
	}
	return out.Token, nil
}

// sendBody builds the JSON of a message send; content is plain ASCII built
// by the tool, so no escaping is needed beyond what json.Marshal does.
func sendBody(content string) []byte {
	b, _ := json.Marshal(struct {
		Content string `json:"content"`
	}{content})
	return b
}

// stream is one open event stream.
type stream struct {
	body io.ReadCloser
	sse  *sseReader
}

// openStream opens an event stream and returns once the response headers are
// in. The stream lives until ctx ends or close is called.
func (c *client) openStream(ctx context.Context, path, token string) (*stream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header["Accept"] = []string{"text/event-stream"}
	if token != "" {
		req.Header["Authorization"] = []string{"Bearer " + token}
	}
	res, err := c.streams.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&e)
		return nil, &statusError{Status: res.StatusCode, Code: e.Error.Code}
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		res.Body.Close()
		return nil, fmt.Errorf("bench: stream answered Content-Type %q", ct)
	}
	return &stream{body: res.Body, sse: newSSEReader(res.Body, 2<<10)}, nil
}

func (s *stream) close() { _ = s.body.Close() }

// serverStats are the server's own numbers, read from its /metrics.
type serverStats struct {
	RSS         float64 `json:"rss_bytes"`
	HeapInuse   float64 `json:"heap_inuse_bytes"`
	StackInuse  float64 `json:"stack_inuse_bytes"`
	Goroutines  float64 `json:"goroutines"`
	OpenStreams float64 `json:"open_streams"`
}

// stats scrapes /metrics (Prometheus text format).
func (c *client) stats(ctx context.Context) (serverStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return serverStats{}, err
	}
	if c.metricsToken != "" {
		req.Header["Authorization"] = []string{"Bearer " + c.metricsToken}
	}
	res, err := c.reqs.Do(req)
	if err != nil {
		return serverStats{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return serverStats{}, &statusError{Status: res.StatusCode, Code: "metrics"}
	}
	var st serverStats
	found := false
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		metric := name
		if i := strings.IndexByte(name, '{'); i >= 0 {
			metric = name[:i]
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			continue
		}
		switch metric {
		case "process_resident_memory_bytes":
			st.RSS, found = v, true
		case "go_memstats_heap_inuse_bytes":
			st.HeapInuse = v
		case "go_memstats_stack_inuse_bytes":
			st.StackInuse = v
		case "go_goroutines":
			st.Goroutines = v
		case "parley_open_streams":
			st.OpenStreams += v
		}
	}
	if err := sc.Err(); err != nil {
		return serverStats{}, err
	}
	if !found {
		return st, errors.New("bench: /metrics has no process_resident_memory_bytes (not Linux?)")
	}
	return st, nil
}

// dialer dials from a rotating set of loopback source addresses, so that one
// client process can hold more connections to one server port than one
// source address has ephemeral ports.
type dialer struct {
	d     net.Dialer
	addrs []*net.TCPAddr
	next  atomic.Uint64
}

func newDialer(sources int, target *url.URL) *dialer {
	d := &dialer{d: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}}
	ip := net.ParseIP(target.Hostname())
	if sources <= 1 || ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return d
	}
	for i := 0; i < sources && i < 250; i++ {
		d.addrs = append(d.addrs, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))})
	}
	return d
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if len(d.addrs) == 0 {
		return d.d.DialContext(ctx, network, addr)
	}
	nd := d.d
	nd.LocalAddr = d.addrs[d.next.Add(1)%uint64(len(d.addrs))]
	return nd.DialContext(ctx, network, addr)
}

// CheckTarget refuses a URL that does not point at this machine, unless
// allowRemote: the tool is a load generator, and by default it only loads
// loopback servers.
func CheckTarget(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bench: --url %q: want http://host:port", raw)
	}
	if allowRemote {
		return u, nil
	}
	host := u.Hostname()
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if host == "localhost" {
		return u, nil
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("bench: --url %q: %w", raw, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("bench: refusing to load %s, which is not a loopback address (pass --allow-remote to load another machine)", host)
		}
	}
	return u, nil
}
