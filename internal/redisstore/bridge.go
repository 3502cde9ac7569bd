package redisstore

import (
	"context"
	"errors"
	"log/slog"
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
// events channel. It decodes every event and hands it to hub.Deliver. When
// Redis goes away it subscribes again by itself, with backoff, for as long as
// ctx lasts; it returns nil when ctx ends.
//
// Events published while the subscription was down are lost to it. Streams
// resume from the stored messages, so callers should end the streams that
// were open across an outage: see Subscribed and Generation.
func (s *Store) Run(ctx context.Context, hub *chat.Hub, log *slog.Logger) error {
	backoff := bridgeMinBackoff
	for {
		gen := s.generation.Load()
		err := s.subscribeOnce(ctx, hub, log)
		s.subscribed.Store(false)
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
// the bridge know exactly when it is subscribed.
func (s *Store) subscribeOnce(ctx context.Context, hub *chat.Hub, log *slog.Logger) error {
	ps := s.rdb.Subscribe(ctx, s.keys.Events())
	defer ps.Close()
	// Closing the PubSub is what interrupts a blocked receive when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, bridgeIdle)
		if err != nil {
			var nerr interface{ Timeout() bool }
			if errors.As(err, &nerr) && nerr.Timeout() && !pinged && s.subscribed.Load() {
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
			if m.Kind == "subscribe" {
				s.generation.Add(1)
				s.subscribed.Store(true)
				log.Info("redis pub/sub subscribed", "channel", m.Channel)
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
