package chat

import (
	"context"
	"time"
)

// PresenceInterval is how often an instance renews its admin heartbeat and
// re-checks whether any admin is online anywhere. A heartbeat lives
// presenceLives intervals, so when an instance dies without removing its
// heartbeat, the others see it gone and publish EventPresence within
// (presenceLives+1)×PresenceInterval: 12 s. Each tick is one store call (the
// heartbeat answers the count), a third of a command per second per instance.
const PresenceInterval = 3 * time.Second

// presenceLives is a heartbeat's life in intervals: two renewals may be lost
// (a slow store, a pause) before the instance stops counting.
const presenceLives = 3

// RunPresence keeps this instance's admin heartbeat in the store from the
// hub's admin stream count, and publishes EventPresence whenever "is any admin
// online anywhere" changes, whichever instance changed it (one that died
// included: every instance re-reads the answer on each tick). It returns when
// ctx ends, after removing this instance's heartbeat. Register it before any
// stream subscribes.
func (s *Service) RunPresence(ctx context.Context, hub *Hub, instance string, interval time.Duration) {
	if interval <= 0 {
		interval = PresenceInterval
	}
	nudge := make(chan struct{}, 1)
	hub.OnAdminCount(func(int) {
		select {
		case nudge <- struct{}{}:
		default:
		}
	})
	tick := time.NewTicker(interval)
	defer tick.Stop()
	known, last := false, false
	check := func() {
		_, admins := hub.Counts() // the live count: nudges may arrive out of order
		if n := s.notify.Store; n != nil {
			// Who is online, for the agents' "offline" preference; a failure
			// only makes them count as offline a little early.
			now := s.now()
			_ = n.AgentsHeartbeat(ctx, hub.Agents(), now, now.Add(presenceLives*interval))
		}
		online, err := s.store.Heartbeat(ctx, instance, admins, presenceLives*interval)
		if err != nil || (known && online == last) {
			return // the store is down: try again on the next tick
		}
		if s.store.Publish(ctx, Event{Type: EventPresence, AdminsOnline: online}) == nil {
			known, last = true, online
		}
	}
	check()
	for {
		select {
		case <-ctx.Done():
			bg, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if online, err := s.store.Heartbeat(bg, instance, 0, interval); err == nil && !online {
				_ = s.store.Publish(bg, Event{Type: EventPresence, AdminsOnline: false})
			}
			cancel()
			return
		case <-nudge:
			check()
		case <-tick.C:
			check()
		}
	}
}
