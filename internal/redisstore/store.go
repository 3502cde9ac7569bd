// Package redisstore is Parley's storage: it implements chat.Store on Redis
// and bridges Redis pub/sub into the in-process chat.Hub. It and its
// subpackages (redistest for tests, redisbench for `parley bench`) are the
// only packages that import go-redis. Key names live in keys.go, the atomic
// parts in lua/*.lua; Lua does atomicity, the Go side gives the data its
// meaning.
//
// Topology: a single Redis (redis://, rediss://), Sentinel and Redis
// Cluster (redis-cluster://) run the same code. Every script touches keys
// of one slot: each room's keys share the room's hash tag, the room index,
// its admin logs and search sets are partitioned under hash tags of their
// own (index.go), and the team, queues, notifications and visits have a
// tag per family (keys.go). cluster_audit_test.go enforces it.
package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/parley-chat/parley/internal/chat"
)

// DefaultPrefix starts every key unless Options.Prefix says otherwise.
const DefaultPrefix = "parley:"

// DefaultMaxMessages is how many messages a room keeps by default.
const DefaultMaxMessages = 5000

// Options tune a Store.
type Options struct {
	// Prefix starts every key and the events channel; "" means DefaultPrefix.
	Prefix string
	// RoomTTL is how long a room lives after its last write; 0 keeps rooms
	// forever.
	RoomTTL time.Duration
	// MaxMessages is how many messages a room keeps (older ones are trimmed);
	// 0 means DefaultMaxMessages.
	MaxMessages int
}

// Store implements chat.Store on Redis.
type Store struct {
	rdb   redis.UniversalClient
	keys  keys
	ttlMS int64
	max   int64

	// memberSeq and memberTag make rate-limit log entries unique across
	// instances without asking Redis.
	memberSeq atomic.Uint64
	memberTag string

	subscribed atomic.Bool
	generation atomic.Uint64

	// sharded: the client is a ClusterClient, so the rooms' events go on
	// the partitions' shard channels (SPUBLISH, SSUBSCRIBE: bridge.go).
	sharded bool
	// demand: what the hub's subscriptions need of the shard channels
	// (sharded only; the bridge subscribes on demand).
	demand *shardDemand

	// batch carries the sends of concurrent requests to Redis together.
	batch *batcher

	// dropFollowUps is for tests only: follow-ups are skipped, as if the
	// instance died between a room write and its follow-up (index.go).
	dropFollowUps atomic.Bool

	// wake wakes the admin logs' group readers when the bridge hears a
	// logged event (loggroups.go).
	wake waker
}

var _ chat.Store = (*Store)(nil)

// New returns a Store over client. The client stays the caller's: Close does
// not close it.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	_, sharded := client.(*redis.ClusterClient)
	var demand *shardDemand
	if sharded {
		demand = newShardDemand()
	}
	return &Store{
		sharded:   sharded,
		demand:    demand,
		rdb:       client,
		keys:      newKeys(opts.Prefix),
		ttlMS:     opts.RoomTTL.Milliseconds(),
		max:       int64(opts.MaxMessages),
		memberTag: hex.EncodeToString(tag[:]),
		batch:     &batcher{rdb: client},
	}
}

// Ping tells whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fail("ping", err)
	}
	return nil
}

// Ready tells whether the store can take writes: it answers, and, where the
// server reports its memory (INFO memory; the embedded server does not), it
// is below maxmemory. A full Redis answers PING but refuses every write, so
// /readyz must see it: it returns chat.ErrFull then.
func (s *Store) Ready(ctx context.Context) error {
	info, err := s.rdb.Info(ctx, "memory").Result()
	if err != nil {
		if classify(err) == errReply { // no INFO memory here: fall back to PING
			return s.Ping(ctx)
		}
		return fail("ready", err)
	}
	used, max := infoField(info, "used_memory"), infoField(info, "maxmemory")
	if max > 0 && used >= max {
		return fmt.Errorf("redisstore: ready: used_memory %d of maxmemory %d: %w", used, max, chat.ErrFull)
	}
	return nil
}

// infoField reads one integer field of an INFO reply; 0 when absent.
func infoField(info, name string) int64 {
	n, _ := strconv.ParseInt(infoText(info, name), 10, 64)
	return n
}

// EvictionPolicy returns Redis's maxmemory-policy, or "" when the server does
// not tell (CONFIG is often disabled on managed Redis; the embedded server
// never evicts). Any policy but noeviction deletes keys when memory is full:
// for Parley, whole conversations, silently.
func (s *Store) EvictionPolicy(ctx context.Context) string {
	v, err := s.rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return ""
	}
	return v["maxmemory-policy"]
}

// ErrClusterTooOld is CheckCluster's answer for a cluster node older than
// Redis 7.0, which has no sharded pub/sub (SPUBLISH, SSUBSCRIBE): the
// rooms' events could not be published nor heard.
var ErrClusterTooOld = errors.New("redisstore: Redis Cluster needs Redis 7.0 or later (sharded pub/sub)")

// CheckCluster tells whether every primary of a Redis Cluster runs Redis
// 7.0 or later (ErrClusterTooOld, naming the node and its version, when
// one does not); on one Redis or Sentinel it does nothing. A server calls
// it once Redis answers, before serving.
func (s *Store) CheckCluster(ctx context.Context) error {
	cc, ok := s.rdb.(*redis.ClusterClient)
	if !ok {
		return nil
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "server").Result()
		if err != nil {
			return fail("check cluster", err)
		}
		v := infoText(info, "redis_version")
		if major, _, _ := strings.Cut(v, "."); !versionAtLeast(major, 7) {
			return fmt.Errorf("%w: %s runs Redis %s", ErrClusterTooOld, c.Options().Addr, v)
		}
		return nil
	})
}

// infoText reads one field of an INFO reply as text; "" when absent.
func infoText(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// versionAtLeast tells whether a version's major number is at least min.
func versionAtLeast(major string, min int) bool {
	n, err := strconv.Atoi(major)
	return err == nil && n >= min
}

// SetDriverLog sends the Redis driver's own log lines (a failed dial, a
// dropped connection), which it otherwise prints to stderr, to log at debug
// level: the store's callers already get and log those failures as errors.
// The driver has one logger per process.
func SetDriverLog(log *slog.Logger) { redis.SetLogger(driverLog{log}) }

type driverLog struct{ log *slog.Logger }

func (d driverLog) Printf(ctx context.Context, format string, v ...any) {
	d.log.DebugContext(ctx, "redis driver: "+fmt.Sprintf(format, v...))
}

// Timeouts of every client Connect builds. A dead Redis must fail a request
// fast (an HTTP request answers 503 within about 2 s) rather than hang it; the
// pool dials again on the next command, so it recovers by itself.
//
// The driver never retries a command: a write whose reply timed out may have
// been applied, and sending it again could store a message twice. The pool
// already drops connections the server closed before handing them out.
const (
	dialTimeout  = time.Second
	ioTimeout    = time.Second
	poolTimeout  = time.Second
	maxRetries   = -1
	retryBackoff = 50 * time.Millisecond
)

// Connect builds a Redis client from a URL. The forms are:
//
//	redis://[user:password@]host:port[/db][?options]   one server (redis.ParseURL)
//	rediss://...                                          the same over TLS
//	redis-sentinel://[user:password@]host1:26379,host2:26379/mastername[/db][?sentinel_password=...]
//
//	redis-cluster://[user:password@]host1:6379,host2:6379,...[?options]
//
// and rediss-sentinel://, rediss-cluster:// for TLS. The credentials are
// those of the Redis servers (for Sentinel, sentinel_password authenticates
// to the sentinels themselves). The cluster form lists seed nodes (any of
// them finds the others) and has no database path: Cluster has database 0
// only. Its options are go-redis's (redis.ParseClusterURL) except the
// timeouts and retries, which are Parley's as for the other forms. Connect
// does not dial; the first command does.
func Connect(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: connect: malformed Redis URL")
	}
	scheme := u.Scheme
	var tlsConfig *tls.Config
	switch scheme {
	case "redis", "rediss", "unix":
		opt, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redisstore: connect: %w", err)
		}
		tune(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout,
			&opt.MaxRetries, &opt.MinRetryBackoff, &opt.MaxRetryBackoff, &opt.DialerRetries)
		opt.Protocol = 2
		opt.DisableIdentity = true
		// go-redis's dedicated pipeline pool (v9.23) reads without the read
		// timeout: a pipeline to a stalled Redis would hang past it. Pipelines
		// run on the main pool instead (TestStoreTimeoutSaysWhatItKnows).
		opt.PipelinePoolSize = -1
		opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		return redis.NewClient(opt), nil
	case "rediss-sentinel":
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		scheme = "redis-sentinel"
	case "redis-sentinel":
	case "redis-cluster", "rediss-cluster":
		return connectCluster(u)
	default:
		return nil, fmt.Errorf("redisstore: connect: unknown scheme %q (want redis, rediss, redis-sentinel or redis-cluster)", u.Scheme)
	}
	addrs := strings.Split(u.Host, ",")
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("redisstore: connect: address %q must be host:port", a)
		}
	}
	user := u.User.Username()
	password, _ := u.User.Password()
	q := u.Query()
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if parts[0] == "" {
		return nil, fmt.Errorf("redisstore: connect: a Sentinel URL needs the master name as its path")
	}
	db := 0
	if len(parts) > 1 {
		if db, err = strconv.Atoi(parts[1]); err != nil {
			return nil, fmt.Errorf("redisstore: connect: invalid database number %q", parts[1])
		}
	}
	opt := &redis.FailoverOptions{
		MasterName: parts[0], SentinelAddrs: addrs, SentinelPassword: q.Get("sentinel_password"),
		Username: user, Password: password, DB: db, TLSConfig: tlsConfig,
		Protocol: 2, DisableIdentity: true, PipelinePoolSize: -1,
	}
	tune(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout,
		&opt.MaxRetries, &opt.MinRetryBackoff, &opt.MaxRetryBackoff, &opt.DialerRetries)
	return redis.NewFailoverClient(opt), nil
}

// clusterReload is how often a cluster client refreshes its map of slots
// to nodes even when no reply told it to (MOVED does at once): a killed
// primary gives dial errors, not MOVED, so without it the client would
// keep dialing the dead node until go-redis's default 60 s passed.
const clusterReload = time.Second

// connectCluster builds a ClusterClient from a redis-cluster:// or
// rediss-cluster:// URL (Connect).
func connectCluster(u *url.URL) (redis.UniversalClient, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("redisstore: connect: a Redis Cluster URL needs at least one host:port")
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		return nil, fmt.Errorf("redisstore: connect: Redis Cluster has no database number or path (got %q): remove it", "/"+p)
	}
	addrs := strings.Split(u.Host, ",")
	for _, a := range addrs {
		if h, p, err := net.SplitHostPort(a); err != nil || h == "" || p == "" {
			return nil, fmt.Errorf("redisstore: connect: address %q must be host:port", a)
		}
	}
	// go-redis reads the options of a redis:// URL whose other seeds are
	// addr parameters; the timeouts are set below, whatever the URL says.
	q := u.Query()
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	seed := url.URL{Scheme: "redis", User: u.User, Host: addrs[0], RawQuery: q.Encode()}
	opt, err := redis.ParseClusterURL(seed.String())
	if err != nil {
		return nil, fmt.Errorf("redisstore: connect: %w", err)
	}
	if u.Scheme == "rediss-cluster" {
		// No ServerName: each node's certificate is checked against the
		// host the client dials, as the Sentinel form does.
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tune(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout,
		&opt.MaxRetries, &opt.MinRetryBackoff, &opt.MaxRetryBackoff, &opt.DialerRetries)
	// The cluster client resends a command on MOVED/ASK but also, under the
	// same MaxRedirects budget, after a timeout or a lost connection, which
	// could store a message twice: no resending at all, as for the other
	// forms. A command that meets a moved slot fails once (MOVED or ASK:
	// it did not run, so chat.ErrUnavailable) and the map is reloaded.
	opt.MaxRedirects = -1
	opt.ClusterStateReloadInterval = clusterReload
	opt.Protocol = 2
	opt.DisableIdentity = true
	opt.PipelinePoolSize = -1 // as for one server: see Connect
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClusterClient(opt), nil
}

func tune(dial, read, write, pool *time.Duration, retries *int, minBackoff, maxBackoff *time.Duration, dialRetries *int) {
	*dial, *read, *write, *pool = dialTimeout, ioTimeout, ioTimeout, poolTimeout
	*retries = maxRetries
	*minBackoff, *maxBackoff = retryBackoff, retryBackoff
	*dialRetries = 1
}

// fail wraps a Redis error for the caller, saying what Parley knows of it:
//
//   - chat.ErrUnavailable when the command provably never ran: no connection
//     could be had (a refused or timed-out dial, an exhausted pool, a closed
//     client), or the server refused it with a "not now" reply;
//   - chat.ErrFull when Redis refused it for want of memory (maxmemory);
//   - chat.ErrTimeout when the command was sent and no answer came (a read
//     timeout, a connection lost mid-command): it may have run, so a write
//     may be stored, and the client must retry with the same clientId;
//   - the error itself otherwise (an internal error).
//
// The cause stays in the chain for the log.
func fail(op string, err error) error {
	switch classify(err) {
	case errNeverRan:
		return fmt.Errorf("redisstore: %s: %w: %w", op, chat.ErrUnavailable, err)
	case errFull:
		return fmt.Errorf("redisstore: %s: %w: %w", op, chat.ErrFull, err)
	case errMayHaveRun:
		return fmt.Errorf("redisstore: %s: %w: %w", op, chat.ErrTimeout, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

type errClass int

const (
	errReply errClass = iota
	errNeverRan
	errFull
	errMayHaveRun
)

func classify(err error) errClass {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		if strings.HasPrefix(msg, "OOM ") {
			return errFull
		}
		for _, p := range busyReplies {
			if strings.HasPrefix(msg, p) {
				return errNeverRan
			}
		}
		return errReply
	}
	var op *net.OpError
	switch {
	case errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrPoolExhausted):
		return errNeverRan
	case errors.As(err, &op) && op.Op == "dial":
		return errNeverRan
	}
	// Not a reply from the server: a read timeout, a connection closed or
	// reset mid-command, a context that ended while waiting for the answer.
	return errMayHaveRun
}

// busyReplies are the server's answers that mean "not now" rather than "no".
// MOVED and ASK (Redis Cluster: the slot is served elsewhere) mean the
// command did not run; the cluster client reloads its slot map on them.
var busyReplies = []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "MISCONF", "NOREPLICAS", "MOVED ", "ASK "}
