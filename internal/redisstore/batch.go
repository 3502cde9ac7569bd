package redisstore

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher sends the scripts of concurrent requests to Redis together: the
// calls that arrive while earlier ones are on the wire wait in a queue, and
// the next flush writes all of them in one pipeline. Under load a round trip
// carries tens of sends instead of one, which saves a write and a read on
// both sides of the connection for each of them (the largest cost of a send
// after the script itself); alone, a call goes out at once, so a quiet server
// pays only a goroutine hand-off.
//
// Each call still gets its own reply: batching changes how commands travel,
// not what they do (each script stays atomic, and one failing does not fail
// the others). No goroutine outlives the queue: a flusher starts when a call
// finds fewer than maxFlushers running, and returns when the queue is empty.
type batcher struct {
	rdb redis.UniversalClient

	mu     sync.Mutex
	queue  []*batched
	active int
}

// batched is one queued call.
type batched struct {
	ctx  context.Context
	cmd  *redis.Cmd
	done chan struct{}
}

const (
	// maxFlushers bounds the pipelines in flight at once, and so the
	// connections the batched calls hold.
	maxFlushers = 4
	// maxBatch bounds one pipeline, so a burst is split in several that
	// Redis works on while the next is being written.
	maxBatch = 64
)

// run runs script as script.Run would, through the queue.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", script.Hash(), len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	p := &batched{ctx: ctx, cmd: redis.NewCmd(ctx, cmdArgs...), done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.active < maxFlushers {
		b.active++
		go b.flush()
	}
	b.mu.Unlock()
	// The wait is bounded by the client's timeouts (the pipeline's reads
	// and writes time out like any command), not by ctx: once written, a
	// call's fate must reach its caller, since a send may have been stored.
	<-p.done
	if redis.HasErrorPrefix(p.cmd.Err(), "NOSCRIPT") {
		// Redis restarted or was flushed: EVAL loads the script again.
		return script.Run(ctx, b.rdb, keys, args...)
	}
	return p.cmd
}

// do runs one plain command (args as for redis.NewCmd) through the queue,
// as run does a script: a send's read of its sender's block marker shares
// the round trip of other requests' calls.
func (b *batcher) do(ctx context.Context, args ...any) *redis.Cmd {
	p := &batched{ctx: ctx, cmd: redis.NewCmd(ctx, args...), done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.active < maxFlushers {
		b.active++
		go b.flush()
	}
	b.mu.Unlock()
	<-p.done
	return p.cmd
}

// flush writes the queue out, a batch at a time, until it is empty.
func (b *batcher) flush() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.active--
			b.mu.Unlock()
			return
		}
		batch := make([]*batched, n)
		copy(batch, b.queue)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.mu.Unlock()
		b.exec(batch)
	}
}

func (b *batcher) exec(batch []*batched) {
	pipe := b.rdb.Pipeline()
	sent := 0
	for _, p := range batch {
		// A call whose request is gone before it was written is not sent.
		if err := p.ctx.Err(); err != nil {
			p.cmd.SetErr(err)
			continue
		}
		_ = pipe.Process(p.ctx, p.cmd)
		sent++
	}
	if sent > 0 {
		// The pipeline's own context is not any one request's: a request
		// cancelled mid-flight must not fail the others written with it.
		_, _ = pipe.Exec(context.Background())
	}
	for _, p := range batch {
		settle(p.cmd)
		close(p.done)
	}
}

// settle undoes what go-redis does when a pipeline's connection fails part
// way: it gives the transport error to every command without a reply error,
// those whose replies it had read included. A call whose reply came back
// (a script always replies with a value) ran and was answered: it keeps
// its reply, so a stored send is acked rather than reported as a timeout.
// Reply errors (NOSCRIPT, OOM…) are the command's own and stay.
func settle(cmd *redis.Cmd) {
	err := cmd.Err()
	if err == nil || cmd.Val() == nil {
		return
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		return
	}
	cmd.SetErr(nil)
}
