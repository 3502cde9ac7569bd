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
	return s.receive(ctx, ps, 1, hub, log, func() error {
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
}

// errShardMoved ends a shard subscription Redis ended: its slot moved (a
// failover, a migration), so the bridge regroups the channels.
var errShardMoved = errors.New("redis pub/sub: a shard channel's slot moved")

// subscribeShards is the bridge on Cluster: the plain SUBSCRIBE of the one
// channel (the team's events, typing, activity, presence, read marks:
// published in slots of their own) and the partitions' shard channels
// (PartEvents, the rooms' events), grouped by the primary that serves
// their slot, one PubSub (one connection) per primary. go-redis's cluster
// PubSub holds one connection, to the primary of its first channel's slot,
// so one SSubscribe of all 16 would not spread; and SSUBSCRIBE takes the
// channels of one slot per command, so each channel has its own.
//
// The bridge is up once every channel is confirmed, and down as soon as any
// subscription ends (a lost connection, a MOVED reply to SSUBSCRIBE, or
// the sunsubscribe Redis sends when a slot moves): then all of them are
// closed and the next attempt regroups from the slot map, reloaded.
// Every instance subscribes to all 16 partitions: an instance serving any
// admin stream needs them all, and a room event reaches each instance once
// either way (docs/ARCHITECTURE.md, "Sharded pub/sub").
func (s *Store) subscribeShards(ctx context.Context, cc *redis.ClusterClient, hub *chat.Hub, log *slog.Logger) error {
	type group struct {
		node     *redis.Client
		channels []string
	}
	var groups []*group
	byAddr := map[string]*group{}
	for _, tag := range indexTags {
		ch := s.keys.PartEvents(tag)
		node, err := cc.MasterForKey(ctx, ch)
		if err != nil {
			cc.ReloadState(ctx)
			return err
		}
		addr := node.Options().Addr
		g := byAddr[addr]
		if g == nil {
			g = &group{node: node}
			byAddr[addr] = g
			groups = append(groups, g)
		}
		g.channels = append(g.channels, ch)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Up once every subscription is confirmed, unless one failed first:
	// then this attempt is over (a late confirmation must not mark it up).
	var (
		mu        sync.Mutex
		confirmed int
		failed    bool
	)
	up := func() {
		mu.Lock()
		defer mu.Unlock()
		if confirmed++; confirmed == 1+len(groups) && !failed {
			s.up(hub)
			log.Info("redis pub/sub subscribed", "channel", s.keys.Events(), "shards", len(groups))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(groups)+1)
	hold := func(ps *redis.PubSub, want int, ready func() error) {
		wg.Go(func() {
			errs <- s.receive(ctx, ps, want, hub, log, ready)
			// One down: all down at once (the others may still deliver
			// until they notice, to no subscription), and regroup.
			mu.Lock()
			failed = true
			s.lost(hub)
			mu.Unlock()
			cancel()
		})
	}
	hold(cc.Subscribe(ctx, s.keys.Events()), 1, func() error { up(); return nil })
	var err error
	for _, g := range groups {
		ps := g.node.SSubscribe(ctx)
		for _, ch := range g.channels {
			if err = ps.SSubscribe(ctx, ch); err != nil {
				break
			}
		}
		if err != nil {
			_ = ps.Close()
			cancel()
			break
		}
		hold(ps, len(g.channels), func() error {
			// A replica takes SSUBSCRIBE for its primary's slots too, and a
			// stale slot map can send the bridge to a primary just demoted:
			// there it would hear only what the cluster bus relays, and
			// could miss events silently. Once subscribed, the node must
			// still be a primary: from then on a demotion, or a slot moving
			// away, ends the subscriptions with sunsubscribe.
			if err := isPrimary(ctx, g.node); err != nil {
				return err
			}
			up()
			return nil
		})
	}
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs // the first to end says why
	}
	// The next attempt groups from a fresh slot map.
	cc.ReloadState(context.WithoutCancel(ctx))
	return err
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
// to hub. want is how many subscriptions this PubSub makes; once all are
// confirmed, ready is called (its error ends the PubSub). Until then a
// quiet connection is a failure, after it a ping checks it. A subscription
// Redis ends by itself (sunsubscribe, unsubscribe: a slot moved) ends it
// too.
func (s *Store) receive(ctx context.Context, ps *redis.PubSub, want int, hub *chat.Hub, log *slog.Logger, ready func() error) error {
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
			if errors.As(err, &nerr) && nerr.Timeout() && !pinged && got >= want {
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
			switch m.Kind {
			case "subscribe", "ssubscribe":
				got++
				if got == want {
					if err := ready(); err != nil {
						return err
					}
				}
			case "unsubscribe", "sunsubscribe":
				return fmt.Errorf("%w: %s %s", errShardMoved, m.Kind, m.Channel)
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
