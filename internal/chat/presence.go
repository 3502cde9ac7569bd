package chat

import (
	"context"
	"time"
)

// PresenceInterval is how often an instance renews its admin heartbeat and
// re-checks whether any admin is online anywhere. A heartbeat lives three
// intervals, so a dead instance stops counting within 3×PresenceInterval.
const PresenceInterval = 10 * time.Second

// RunPresence keeps this instance's admin heartbeat in the store from the
// hub's admin stream count, and publishes EventPresence whenever "is any admin
// online anywhere" changes. It returns when ctx ends, after removing this
// instance's heartbeat. Register it before any stream subscribes.
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
		if err := s.store.Heartbeat(ctx, instance, admins, 3*interval); err != nil {
			return // the store is down; try again on the next tick
		}
		online, err := s.store.AdminsOnline(ctx)
		if err != nil || (known && online == last) {
			return
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
			_ = s.store.Heartbeat(bg, instance, 0, interval)
			if online, err := s.store.AdminsOnline(bg); err == nil && !online {
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
