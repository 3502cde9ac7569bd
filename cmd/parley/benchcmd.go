package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/bench"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/embedded"
	"github.com/parley-chat/parley/internal/httpapi/baseline"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redisbench"
)

const benchUsage = `usage: parley bench [flags]

Loads a Parley over HTTP the way its clients do and reports throughput,
latency percentiles and server memory against the budget of docs/PERFORMANCE.md.

With --url it loads that server (loopback only unless --allow-remote; give
--redis-url, the server's Redis, for the baseline and the raw Redis ceiling,
and --admin-user/--admin-password). Without --url it starts a Parley itself,
with rate limits off, on PARLEY_REDIS_URL when set (under a scratch key
prefix, deleted afterwards) or on an embedded Redis in this process:
--server=process runs it as a child process (honest memory numbers, the
default), --server=inprocess inside this process.

Scenarios: baseline (closed-loop sends against Parley and a bare handler
running the same Redis script), send (fixed rate with streams open; delivery
latency), list (admin room list over --rooms rooms), streams (memory per idle
stream), all.

`

// benchOptions are the flags of `parley bench`.
type benchOptions struct {
	url, server, redisURL, redisPrefix string
	adminUser, adminPassword           string
	scenario                           string
	serverLog, pprofURL                string
	jsonOut, allowRemote, keepData     bool
	ceilingOps                         int
	cfg                                bench.Config
}

// parseBenchFlags reads the flags; those that name the server's settings
// default to env, the settings of the environment the tool runs in.
func parseBenchFlags(args []string, env config.Config, stderr io.Writer) (benchOptions, error) {
	var o benchOptions
	adminUser := env.AdminUser
	if adminUser == "" {
		adminUser = "admin"
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.url, "url", "", "the Parley to load (default: start one)")
	fs.StringVar(&o.server, "server", "process", "without --url: process (a child parley serve) or inprocess")
	fs.StringVar(&o.redisURL, "redis-url", env.RedisURL, "the Redis the server uses (default $PARLEY_REDIS_URL; none: embedded)")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "", "with --url: the server's key prefix (default $PARLEY_REDIS_PREFIX or parley:)")
	fs.StringVar(&o.adminUser, "admin-user", adminUser, "with --url: an admin's username")
	fs.StringVar(&o.adminPassword, "admin-password", env.AdminPassword, "with --url: that admin's password")
	// The default is filled in after parsing, so -help never prints it.
	fs.StringVar(&o.cfg.MetricsToken, "metrics-token", "", "with --url: the server's PARLEY_METRICS_TOKEN, to read its /metrics (default $PARLEY_METRICS_TOKEN)")
	fs.StringVar(&o.scenario, "scenario", "all", "send, streams, list, baseline, all, or a comma-separated list")
	fs.StringVar(&o.serverLog, "server-log", "", "where a started server logs (default: a temporary file)")
	fs.StringVar(&o.pprofURL, "pprof-url", "", "with --url: the server's PARLEY_PPROF address (http://127.0.0.1:6060), to collect garbage before memory readings")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a --url or --redis-url that is not on this machine")
	fs.BoolVar(&o.keepData, "keep-data", false, "keep the rooms the run created in a PARLEY_REDIS_URL Redis")
	c := &o.cfg
	fs.IntVar(&c.Visitors, "visitors", 100, "send, baseline: visitors (rooms), each with its stream open in send")
	fs.IntVar(&c.Admins, "admins", 2, "send: admin streams watching")
	fs.Float64Var(&c.Rate, "rate", 1000, "send: messages per second, all visitors together")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "send: how long to send; baseline: per target")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "baseline: closed-loop senders per target")
	fs.IntVar(&c.Streams, "streams", 10_000, "streams: idle streams to open")
	fs.IntVar(&c.SourceAddrs, "source-addrs", 0, "streams: loopback source addresses 127.0.0.2… (0: one per 20,000 streams)")
	fs.DurationVar(&c.Settle, "settle", 3*time.Second, "streams: wait before reading the server's memory")
	fs.IntVar(&c.Rooms, "rooms", 100_000, "list: rooms to seed")
	fs.IntVar(&c.ListRequests, "list-requests", 1000, "list: requests per kind of page")
	fs.IntVar(&o.ceilingOps, "ceiling-ops", 200_000, "baseline: RPUSHes timed for the raw Redis ceiling")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	if c.MetricsToken == "" {
		c.MetricsToken = env.MetricsToken
	}
	var err error
	if c.Scenarios, err = bench.Scenarios(o.scenario); err != nil {
		return o, err
	}
	if o.ceilingOps < 1 || o.ceilingOps > 10_000_000 {
		return o, fmt.Errorf("bench: --ceiling-ops: want 1..10000000")
	}
	if o.server != "process" && o.server != "inprocess" {
		return o, fmt.Errorf("bench: --server: want process or inprocess")
	}
	return o, nil
}

// runBench is `parley bench`. getenv is the environment, read through
// config as `parley serve` reads it: the flags default to its settings, and
// a server the tool starts gets them too, under the tool's own.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	envCfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	o, err := parseBenchFlags(args, envCfg, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.redisURL != "" {
		if err := checkRedisURL(o.redisURL, o.allowRemote); err != nil {
			return err
		}
	}
	if n, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "bench: could not raise the open file limit (%v); many streams may fail: raise `ulimit -n`\n", err)
	} else if need := uint64(o.cfg.Streams)*2 + 1000; n < need && containsScenario(o.cfg.Scenarios, bench.ScenarioStreams) {
		fmt.Fprintf(stderr, "bench: the open file limit is %d; %d streams with the server in this process need about %d\n", n, o.cfg.Streams, need)
	}
	o.cfg.Progress = stderr
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			o.cfg.TTY = true
		}
	}

	env, err := startBenchEnv(ctx, &o, getenv, stderr)
	if env != nil {
		defer env.close()
	}
	if err != nil {
		return err
	}
	rep, err := bench.Run(ctx, o.cfg)
	if rep != nil {
		var werr error
		if o.jsonOut {
			werr = rep.WriteJSON(stdout)
		} else {
			werr = rep.WriteText(stdout)
		}
		if err == nil {
			err = werr
		}
	}
	if err != nil && env != nil && env.logPath != "" {
		fmt.Fprintf(stderr, "bench: the server's log is in %s\n", env.logPath)
	}
	return err
}

// benchEnv is what a run set up around the tool: the server it started (or
// none), its own clients of the server's Redis, the baseline handler.
type benchEnv struct {
	closers []func()
	logPath string
}

func (e *benchEnv) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func (e *benchEnv) onClose(fn func()) { e.closers = append(e.closers, fn) }

// startBenchEnv starts what the run needs and fills o.cfg's URL, hooks and
// descriptions.
func startBenchEnv(ctx context.Context, o *benchOptions, getenv func(string) string, stderr io.Writer) (*benchEnv, error) {
	env := &benchEnv{}
	quiet := slog.New(slog.DiscardHandler)
	cfg := &o.cfg

	if o.url != "" {
		u, err := bench.CheckTarget(o.url, o.allowRemote)
		if err != nil {
			return env, err
		}
		cfg.URL = u.String()
		cfg.Server = "external: " + cfg.URL
		cfg.AdminUser, cfg.AdminPassword = o.adminUser, o.adminPassword
		if o.pprofURL != "" {
			pu, err := bench.CheckTarget(o.pprofURL, o.allowRemote)
			if err != nil {
				return env, err
			}
			cfg.GC = pprofGC(pu.String())
		}
		if o.redisURL == "" {
			cfg.Redis = "unknown (no --redis-url: no baseline, no raw ceiling, rooms seeded through the API)"
			return env, nil
		}
		// The server's own settings, from the same environment it reads.
		scfg, err := config.Load(func(k string) string {
			switch k {
			case "PARLEY_REDIS_URL":
				return o.redisURL
			case "PARLEY_REDIS_PREFIX":
				if o.redisPrefix != "" {
					return o.redisPrefix
				}
			}
			return getenv(k)
		})
		if err != nil {
			return env, err
		}
		r, err := openBenchRedis(ctx, env, o.redisURL, scfg)
		if err != nil {
			return env, err
		}
		cfg.Redis = r.desc
		return env, benchHooks(env, cfg, r, scfg.RedisPrefix, o.ceilingOps)
	}

	// Start a Parley: its Redis first.
	redisURL, prefix := o.redisURL, "parley:"
	if redisURL == "" {
		// No snapshots: a load run's data is not worth keeping.
		emb, err := embedded.Start("", quiet)
		if err != nil {
			return env, err
		}
		env.onClose(func() { _ = emb.Close() })
		// As `parley serve` does: nobody else on this machine may use it.
		password := randomHex(16)
		emb.RequirePassword(password)
		redisURL = "redis://:" + password + "@" + emb.Addr()
	} else {
		prefix = "parleybench-" + randomHex(4) + ":"
	}
	dataDir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return env, err
	}
	env.onClose(func() { _ = os.RemoveAll(dataDir) })
	password := randomHex(12)
	cfg.MetricsToken = randomHex(16)
	vars := map[string]string{
		"PARLEY_ADDR":           "127.0.0.1:0",
		"PARLEY_REDIS_URL":      redisURL,
		"PARLEY_REDIS_PREFIX":   prefix,
		"PARLEY_DATA_DIR":       dataDir,
		"PARLEY_ADMIN_USER":     "bench",
		"PARLEY_ADMIN_PASSWORD": password,
		"PARLEY_JWT_SECRET":     randomHex(32),
		"PARLEY_RATE_LIMITS":    "off",
		"PARLEY_MAX_STREAMS":    strconv.Itoa(max(20_000, cfg.Streams+1_000)),
		// The tool reads /metrics on the main listener, with this token.
		"PARLEY_METRICS_TOKEN": cfg.MetricsToken,
		"PARLEY_METRICS_ADDR":  "off",
	}
	scfg, err := config.Load(func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return getenv(k)
	})
	if err != nil {
		return env, err
	}
	cfg.AdminUser, cfg.AdminPassword = "bench", password
	r, err := openBenchRedis(ctx, env, redisURL, scfg)
	if err != nil {
		return env, err
	}
	cfg.Redis = r.desc
	if o.redisURL != "" {
		cfg.Redis += ", keys under " + prefix
		if !o.keepData {
			env.onClose(func() {
				dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				n, err := r.raw.DeletePrefix(dctx, prefix)
				if err != nil {
					fmt.Fprintf(stderr, "bench: cleaning up %s*: %v\n", prefix, err)
				} else {
					fmt.Fprintf(stderr, "bench: removed the run's %d keys (%s*)\n", n, prefix)
				}
			})
		}
	}

	logPath := o.serverLog
	if logPath == "" {
		logPath = dataDir + "/server.log"
	}
	env.logPath = logPath
	logFile, err := os.Create(logPath)
	if err != nil {
		return env, err
	}
	env.onClose(func() { _ = logFile.Close() })

	switch o.server {
	case "inprocess":
		u, err := startInProcess(ctx, env, scfg, logFile)
		if err != nil {
			return env, err
		}
		cfg.URL, cfg.InProcess = u, true
		cfg.Server = "in-process (inside the load tool), " + u
		cfg.GC = func(context.Context) error { runtime.GC(); return nil }
	default:
		// The profiler's heap endpoint is how the tool makes the child
		// collect garbage before reading its memory.
		pprofAddr := scfg.Pprof
		if pprofAddr == "" {
			port, err := freePort()
			if err != nil {
				return env, err
			}
			pprofAddr = "127.0.0.1:" + strconv.Itoa(port)
			vars["PARLEY_PPROF"] = pprofAddr
		}
		cfg.GC = pprofGC("http://" + pprofAddr)
		u, pid, err := startChild(ctx, env, vars, logFile)
		if err != nil {
			return env, err
		}
		cfg.URL = u
		cfg.IdleAfter = 2 * time.Second // as bench-peer: after the start's pages are dropped
		cfg.Server = fmt.Sprintf("child process `parley serve` (pid %d), %s", pid, u)
	}
	cfg.Server += ", rate limits off, log level " + scfg.LogLevel.String() + " to " + logPath
	return env, benchHooks(env, cfg, r, prefix, o.ceilingOps)
}

// benchRedis is the tool's own access to the server's Redis: a store as the
// server's (for the baseline handler and the seeding), and the bench-only
// client (for the raw ceiling and the cleanup).
type benchRedis struct {
	store *redisstore.Store
	raw   *redisbench.Client
	desc  string // for the report
}

// openBenchRedis connects the tool to the server's Redis and checks that it
// answers.
func openBenchRedis(ctx context.Context, env *benchEnv, redisURL string, scfg config.Config) (*benchRedis, error) {
	client, err := redisstore.Connect(redisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	env.onClose(func() { _ = client.Close() })
	store := redisstore.New(client, redisstore.Options{Prefix: scfg.RedisPrefix, RoomTTL: scfg.RoomTTL, MaxMessages: scfg.MaxMessages})
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := store.Ping(pctx); err != nil {
		return nil, fmt.Errorf("redis at %s: %w", redact(redisURL), err)
	}
	raw, err := redisbench.Open(redisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	env.onClose(func() { _ = raw.Close() })
	return &benchRedis{store: store, raw: raw, desc: raw.Describe(ctx) + " at " + redact(redisURL)}, nil
}

// benchHooks starts the baseline handler on a loopback port and gives the
// tool the raw Redis ceiling and the bulk seeder.
func benchHooks(env *benchEnv, cfg *bench.Config, r *benchRedis, prefix string, ceilingOps int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: baseline.Handler(r.store), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	env.onClose(func() { _ = hs.Close() })
	cfg.BaselineURL = "http://" + ln.Addr().String()
	cfg.RedisCeiling = func(ctx context.Context) (float64, error) {
		return r.raw.RawPushCeiling(ctx, prefix, ceilingOps, 100)
	}
	cfg.Seed = func(ctx context.Context, n int, progress func(int)) error {
		return seedRooms(ctx, r.store, n, progress)
	}
	return nil
}

// seedRooms creates n rooms with one visitor message each, straight through
// the store, 32 at a time. A room that fails (a Redis timeout on a loaded
// machine) is tried again a few times before the seeding gives up.
func seedRooms(ctx context.Context, store chat.RoomStore, n int, progress func(int)) error {
	const attempts = 4
	var next, done atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				var err error
				for a := 0; a < attempts && ctx.Err() == nil; a++ {
					if a > 0 {
						time.Sleep(time.Duration(a) * 200 * time.Millisecond)
					}
					if err = seedRoom(ctx, store, i); err == nil {
						break
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				progress(int(done.Add(1)))
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("seed: %w", firstErr)
	}
	return ctx.Err()
}

func seedRoom(ctx context.Context, store chat.RoomStore, i int64) error {
	now := time.Now().UTC()
	r, err := store.CreateRoom(ctx, chat.Room{
		ID: chat.NewRoomID(), VisitorName: "Seed " + strconv.FormatInt(i, 10), Page: "http://localhost/bench",
		CreatedAt: chat.Time{Time: now}, UpdatedAt: chat.Time{Time: now},
	})
	if err != nil {
		return err
	}
	_, _, err = store.Append(ctx, chat.Message{
		ID: chat.NewMessageID(now), RoomID: r.ID, Sender: chat.SenderVisitor,
		Content: "Hello, I have a question about my order " + strconv.FormatInt(i, 10) + ".", CreatedAt: chat.Time{Time: now},
	}, chat.AppendOptions{})
	return err
}

// startInProcess runs a Parley inside this process, wired as `parley serve`
// wires it.
func startInProcess(ctx context.Context, env *benchEnv, cfg config.Config, logw io.Writer) (string, error) {
	log := newLogger(cfg, logw)
	b, err := openBackend(ctx, cfg, log)
	if err != nil {
		return "", err
	}
	s, err := newServer(ctx, cfg, b)
	if err != nil {
		b.close()
		return "", err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		b.close()
		return "", err
	}
	if cfg.Pprof != "" {
		stop := startPprof(cfg.Pprof, log)
		env.onClose(stop)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(sctx, ln, nil) }()
	env.onClose(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
		}
		b.close()
	})
	return "http://" + ln.Addr().String(), nil
}

// startChild runs `parley serve` from this very binary as a child process on
// a free loopback port, and waits until it is ready.
func startChild(ctx context.Context, env *benchEnv, vars map[string]string, logw io.Writer) (string, int, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, err
	}
	port, err := freePort()
	if err != nil {
		return "", 0, err
	}
	vars["PARLEY_ADDR"] = "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(exe, "serve")
	// The child inherits this process's environment, as any child does, with
	// the run's settings on top (a later entry wins).
	environ := cmd.Environ()
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return "", 0, fmt.Errorf("start the server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	env.onClose(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	u := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/readyz", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return u, cmd.Process.Pid, nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return "", 0, fmt.Errorf("the server exited at start (%v): see its log", err)
		case <-ctx.Done():
			return "", 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", 0, errors.New("the server was not ready within 30s: see its log")
		}
	}
}

// pprofGC collects garbage in a server through its profiler: the heap
// profile runs a GC first when asked with gc=1.
func pprofGC(base string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/debug/pprof/heap?gc=1", nil)
		if err != nil {
			return err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("pprof answered %d", res.StatusCode)
		}
		return nil
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// raiseFileLimit lifts RLIMIT_NOFILE as far as allowed (a privileged process
// may also lift the hard limit) and returns the soft limit now in force.
// Children started afterwards inherit it.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	want := syscall.Rlimit{Cur: max(lim.Max, 262_144), Max: max(lim.Max, 262_144)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return lim.Cur, err
		}
	}
	return want.Cur, nil
}

// checkRedisURL keeps the tool's writes on this machine unless allowed.
func checkRedisURL(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bench: --redis-url: malformed")
	}
	if allowRemote || u.Scheme == "unix" {
		return nil
	}
	for _, host := range strings.Split(u.Host, ",") {
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			h = host
		}
		if _, err := bench.CheckTarget("http://"+net.JoinHostPort(h, "1"), false); err != nil {
			return fmt.Errorf("bench: --redis-url: %s is not a loopback address (pass --allow-remote)", h)
		}
	}
	return nil
}

// redact hides a password in a Redis URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "redis"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func containsScenario(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
