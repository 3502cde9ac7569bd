package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
)

// Timing of the pub/sub bridge.
const (
	// bridgeIdle is how long the bridge waits for an event before it pings
	// Redis to find out whether the subscription still stands.
	bridgeIdle = 5 * time.Second
	// Resubscribe backoff after a failure, doubling up to the maximum.
	bridgeMinBackoff = 100 * time.Millisecond
	bridgeMaxBackoff = 2 * time.Second
)

// Run is the pub/sub bridge: the one subscription of this process to the
// events channel (on Cluster, also to the partitions' shard channels, one
// connection per primary: subscribeShards). It decodes every event and hands it to hub.Deliver. When
// Redis goes away it subscribes again by itself, with backoff, for as long as
// ctx lasts; it returns nil when ctx ends.
//
// Events published while the subscription was down are lost to it. Streams
// resume from the stored messages, so the streams open across an outage
// must end before the bridge delivers again: the bridge tells the hub
// (BridgeDown, BridgeUp), which ends their subscriptions, and callers that
// open streams refuse new ones while it is down (Subscribed, Generation).
func (s *Store) Run(ctx context.Context, hub *chat.Hub, log *slog.Logger) error {
	if s.demand != nil {
		hub.SetDemand(s.demand)
	}
	backoff := bridgeMinBackoff
	for {
		gen := s.generation.Load()
		err := s.subscribeOnce(ctx, hub, log)
		s.lost(hub)
		if ctx.Err() != nil {
			return nil
		}
		if s.generation.Load() != gen {
			// It had been working: say so once, and retry quickly.
			backoff = bridgeMinBackoff
			log.Warn("redis pub/sub lost; subscribing again until Redis is back", "err", err)
		} else {
			log.Debug("redis pub/sub: subscribing failed", "err", err, "retry_in", backoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, bridgeMaxBackoff)
	}
}

// subscribeOnce holds one subscription until it fails or ctx ends. A fresh
// PubSub per attempt, rather than go-redis's own silent reconnection, lets
// the bridge know exactly when it is subscribed. On Cluster it holds the
// shard subscriptions too (subscribeShards).
func (s *Store) subscribeOnce(ctx context.Context, hub *chat.Hub, log *slog.Logger) error {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok && s.sharded {
		return s.subscribeShards(ctx, cc, hub, log)
	}
	ps := s.rdb.Subscribe(ctx, s.keys.Events())
	confirmed := false
	return s.receive(ctx, ps, hub, log, func(kind, channel string) error {
		if kind != "subscribe" || confirmed {
			return fmt.Errorf("redis pub/sub: %s %s", kind, channel)
		}
		confirmed = true
		s.up(hub)
		log.Info("redis pub/sub subscribed", "channel", s.keys.Events())
		return nil
	})
}

// up marks the bridge subscribed, before it hands on the first event of
// the subscription.
func (s *Store) up(hub *chat.Hub) {
	s.generation.Add(1)
	s.subscribed.Store(true)
	hub.BridgeUp()
}

// lost marks the bridge down as soon as a subscription failed: the hub
// ends every subscription, before any event of the next one arrives.
func (s *Store) lost(hub *chat.Hub) {
	s.subscribed.Store(false)
	hub.BridgeDown()
	if s.demand != nil {
		s.demand.reset()
	}
}

// errShardMoved ends a shard subscription Redis ended: its slot moved (a
// failover, a migration), so the bridge regroups the channels.
var errShardMoved = errors.New("redis pub/sub: a shard channel's slot moved")

// subscribeShards is the bridge on Cluster: the plain SUBSCRIBE of the one
// channel (the team's events, typing, activity, presence, read marks:
// published in slots of their own), and the partitions' shard channels
// (PartEvents, the rooms' events) on demand: those this process's
// subscriptions need (shardDemand: all 16 while an admin stream is open,
// else its visitor streams' rooms' partitions), each on a connection to
// the primary that serves its slot, one PubSub per primary. go-redis's
// cluster PubSub holds one connection, to the primary of its first
// channel's slot, so one SSubscribe of all 16 would not spread; and
// SSUBSCRIBE takes the channels of one slot per command, so each channel
// has its own.
//
// The bridge is up once the plain channel is confirmed: every
// subscription was ended when the last one failed (Hub.BridgeDown), so
// none wants a partition yet. Then each new subscription that needs a
// partition not yet confirmed waits for it (Subscription.Ready) while
// shardBridge.follow subscribes; a partition no one wants stays for
// shardLinger, then is unsubscribed. The bridge is down as soon as any of
// its subscriptions ends (a lost connection, a MOVED reply to SSUBSCRIBE,
// or the sunsubscribe Redis sends when a slot moves): then all of them
// are closed, and the next attempt regroups from the slot map, reloaded.
func (s *Store) subscribeShards(ctx context.Context, cc *redis.ClusterClient, hub *chat.Hub, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &shardBridge{
		s: s, cc: cc, hub: hub, log: log, cancel: cancel,
		groups: map[string]*shardGroup{}, parts: map[string]int{}, leaving: map[string]bool{},
		errs: make(chan error, 1),
	}
	for p, tag := range indexTags {
		b.parts[s.keys.PartEvents(tag)] = p
	}
	plainUp := false
	b.hold(ctx, cc.Subscribe(ctx, s.keys.Events()), func(kind, channel string) error {
		if kind != "subscribe" || plainUp {
			// An unsubscribe, or go-redis subscribing again on a
			// connection it dialled again by itself.
			return fmt.Errorf("%w: %s %s", errShardMoved, kind, channel)
		}
		plainUp = true
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.failed {
			s.up(hub)
			log.Info("redis pub/sub subscribed", "channel", s.keys.Events(), "shards", "on demand")
		}
		return nil
	})
	if err := b.follow(ctx); err != nil {
		b.fail(err)
	}
	b.wg.Wait()
	// The next attempt groups from a fresh slot map.
	cc.ReloadState(context.WithoutCancel(ctx))
	select {
	case err := <-b.errs:
		return err
	default:
		return ctx.Err()
	}
}

// shardBridge is one attempt of subscribeShards.
type shardBridge struct {
	s      *Store
	cc     *redis.ClusterClient
	hub    *chat.Hub
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error     // the first failure
	parts  map[string]int // shard channel -> partition

	mu      sync.Mutex
	failed  bool
	groups  map[string]*shardGroup // by primary address
	of      [IndexPartitions]*shardGroup
	leaving map[string]bool // channels unsubscribed on purpose, until Redis confirms
}

// shardGroup is the PubSub of one primary's shard channels.
type shardGroup struct {
	node    *redis.Client
	ps      *redis.PubSub
	checked bool // the node answered ROLE master since the first confirmation
	// confirmed: the channels Redis confirmed on this connection. A second
	// confirmation of one, not given up in between, is go-redis
	// resubscribing on a connection it dialled again by itself (after a
	// failed write): events were lost meanwhile, so the bridge goes down.
	confirmed map[string]bool
}

// fail ends the attempt on its first failure: the bridge is down at once
// (the other subscriptions may still deliver until they notice, to no
// subscription), and every PubSub closes.
func (b *shardBridge) fail(err error) {
	b.mu.Lock()
	if !b.failed {
		b.failed = true
		b.s.lost(b.hub)
		select {
		case b.errs <- err:
		default:
		}
	}
	b.mu.Unlock()
	b.cancel()
}

// hold receives on ps until it fails; confirm is told of each
// subscription message.
func (b *shardBridge) hold(ctx context.Context, ps *redis.PubSub, confirm func(kind, channel string) error) {
	b.wg.Go(func() {
		err := b.s.receive(ctx, ps, b.hub, b.log, confirm)
		if err == nil {
			err = ctx.Err()
		}
		b.fail(err)
	})
}

// shardRetry is how soon follow tries again a partition whose primary
// could not be reached (a failover under way: its replica is not promoted
// yet, or the slot map is stale).
const shardRetry = 200 * time.Millisecond

// errShardUnreachable: a partition's primary could not be reached to
// subscribe there; the subscriptions waiting for it keep waiting (their
// streams give up after streamReadyTimeout), the others go on.
var errShardUnreachable = errors.New("redis pub/sub: a shard channel's primary is unreachable")

// follow subscribes and unsubscribes the shard channels as the demand
// changes, until ctx ends (nil) or a subscription fails.
func (b *shardBridge) follow(ctx context.Context) error {
	d := b.s.demand
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var requested uint32
	var idle [IndexPartitions]time.Time // since when a requested partition is unwanted
	for {
		wanted, now := d.plan(), time.Now()
		retry := false
		for p := range IndexPartitions {
			bit := uint32(1) << p
			switch {
			case wanted&bit != 0:
				idle[p] = time.Time{}
				if requested&bit == 0 {
					err := b.subscribe(ctx, p)
					if errors.Is(err, errShardUnreachable) {
						retry = true
						continue
					}
					if err != nil {
						return err
					}
					requested |= bit
				}
			case requested&bit != 0:
				if idle[p].IsZero() {
					idle[p] = now
				} else if now.Sub(idle[p]) >= d.linger {
					left, err := b.unsubscribe(ctx, p)
					if err != nil {
						return err
					}
					if left {
						requested &^= bit
					}
					idle[p] = time.Time{}
				}
			}
		}
		var again <-chan time.Time
		if retry {
			again = time.After(shardRetry)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.kick:
		case <-tick.C:
		case <-again:
		}
	}
}

// subscribe asks for partition p's shard channel, on its primary's PubSub
// (made for it when the primary has none yet). A primary that cannot be
// reached (no primary for the slot, or no connection to a new one) is
// errShardUnreachable, after reloading the slot map: the other partitions
// go on.
func (b *shardBridge) subscribe(ctx context.Context, p int) error {
	ch := b.s.keys.PartEvents(indexTags[p])
	node, err := b.cc.MasterForKey(ctx, ch)
	if err != nil {
		b.cc.ReloadState(ctx)
		return fmt.Errorf("%w: %v", errShardUnreachable, err)
	}
	addr := node.Options().Addr
	b.mu.Lock()
	g := b.groups[addr]
	b.mu.Unlock()
	if g == nil {
		// Before a new connection: a slot map still stale after a failover
		// names the demoted primary, which would take the SSUBSCRIBE and
		// then fail confirm's check, taking every channel down with it.
		if err := isPrimary(ctx, node); err != nil {
			b.cc.ReloadState(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: %v", errShardUnreachable, err)
		}
	}
	b.mu.Lock()
	g = b.groups[addr]
	fresh := g == nil
	if fresh {
		g = &shardGroup{node: node, ps: node.SSubscribe(ctx), confirmed: map[string]bool{}}
		b.groups[addr] = g
	}
	b.of[p] = g
	b.mu.Unlock()
	if err := g.ps.SSubscribe(ctx, ch); err != nil {
		if !fresh {
			return err // its connection failed: its receive fails too
		}
		_ = g.ps.Close()
		b.mu.Lock()
		delete(b.groups, addr)
		b.of[p] = nil
		b.mu.Unlock()
		b.cc.ReloadState(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.log.Debug("redis pub/sub: a shard's primary is unreachable; retrying", "channel", ch, "node", addr, "err", err)
		return fmt.Errorf("%w: %v", errShardUnreachable, err)
	}
	if fresh {
		b.hold(ctx, g.ps, func(kind, channel string) error { return b.confirm(ctx, g, kind, channel) })
	}
	return nil
}

// unsubscribe gives up partition p's shard channel: no subscription
// wants it any more. It says no when one came to want it meanwhile (the
// channel stays).
func (b *shardBridge) unsubscribe(ctx context.Context, p int) (bool, error) {
	if !b.s.demand.leave(p) {
		return false, nil
	}
	ch := b.s.keys.PartEvents(indexTags[p])
	b.mu.Lock()
	g := b.of[p]
	b.of[p] = nil
	if g != nil {
		b.leaving[ch] = true
		delete(g.confirmed, ch)
	}
	b.mu.Unlock()
	if g == nil {
		return true, nil
	}
	return true, g.ps.SUnsubscribe(ctx, ch)
}

// confirm handles a subscription message of group g: a confirmed channel
// lets its waiting subscriptions go, once the node is known to be a
// primary; a channel Redis ended that the bridge did not give up means
// its slot moved.
func (b *shardBridge) confirm(ctx context.Context, g *shardGroup, kind, channel string) error {
	switch kind {
	case "ssubscribe":
		b.mu.Lock()
		checked := g.checked
		b.mu.Unlock()
		if !checked {
			// A replica takes SSUBSCRIBE for its primary's slots too, and
			// a stale slot map can send the bridge to a primary just
			// demoted: there it would hear only what the cluster bus
			// relays, and could miss events silently. Once subscribed,
			// the node must still be a primary: from then on a demotion,
			// or a slot moving away, ends the subscriptions with
			// sunsubscribe.
			if err := isPrimary(ctx, g.node); err != nil {
				return err
			}
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		g.checked = true
		if g.confirmed[channel] {
			return fmt.Errorf("%w: %s confirmed again (the connection was dialled again)", errShardMoved, channel)
		}
		g.confirmed[channel] = true
		if p, ok := b.parts[channel]; ok && !b.failed && b.of[p] == g {
			b.s.demand.confirmed(p)
		}
		return nil
	case "sunsubscribe":
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.leaving[channel] {
			delete(b.leaving, channel)
			return nil
		}
	}
	return fmt.Errorf("%w: %s %s", errShardMoved, kind, channel)
}

// errNotPrimary: a shard subscription landed on a node that is not a
// primary (a stale slot map); the bridge regroups.
var errNotPrimary = errors.New("redis pub/sub: shard channels subscribed on a node that is not a primary")

// isPrimary tells whether node is a primary now (ROLE).
func isPrimary(ctx context.Context, node *redis.Client) error {
	role, err := node.Do(ctx, "ROLE").Slice()
	if err != nil {
		return err
	}
	if len(role) == 0 || role[0] != "master" {
		return fmt.Errorf("%w: %s is %v", errNotPrimary, node.Options().Addr, role[0:min(1, len(role))])
	}
	return nil
}

// receive holds one PubSub until it fails or ctx ends, handing its events
// to hub. confirm is told of every subscription message (subscribe,
// ssubscribe, and the unsubscribes Redis sends when a slot moves); its
// error ends the PubSub. Until the first confirmation a quiet connection
// is a failure, after it a ping checks it.
func (s *Store) receive(ctx context.Context, ps *redis.PubSub, hub *chat.Hub, log *slog.Logger, confirm func(kind, channel string) error) error {
	defer ps.Close()
	// Closing the PubSub is what interrupts a blocked receive when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	pinged := false
	got := 0
	for {
		msg, err := ps.ReceiveTimeout(ctx, bridgeIdle)
		if err != nil {
			var nerr interface{ Timeout() bool }
			if errors.As(err, &nerr) && nerr.Timeout() && !pinged && got > 0 {
				// Quiet channel: check the connection with a ping, whose
				// pong must arrive within the next wait.
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				pinged = true
				continue
			}
			return err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" || m.Kind == "ssubscribe" {
				got++
			}
			if err := confirm(m.Kind, m.Channel); err != nil {
				return err
			}
		case *redis.Message:
			ev, err := decodeEvent(m.Payload)
			if err != nil {
				log.Error("dropping malformed event", "err", err)
				continue
			}
			if l, _, ok := chat.ParseEventLogID(ev.LogID); ok && l < AdminLogs {
				s.wake.wake(l)
			}
			hub.Deliver(ev)
		case *redis.Pong:
		}
	}
}

// Subscribed tells whether the bridge holds a live subscription right now.
func (s *Store) Subscribed() bool { return s.subscribed.Load() }

// Generation counts the subscriptions the bridge has made. A stream that
// started under one generation and sees another may have missed events while
// the bridge was down, and should end so that its client resumes.
func (s *Store) Generation() uint64 { return s.generation.Load() }
