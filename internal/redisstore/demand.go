package redisstore

import (
	"slices"
	"sync"
	"time"
)

// shardDemand is what this process's subscriptions need of the
// partitions' shard channels on Redis Cluster (the bridge subscribes on
// demand: subscribeShards): every partition while an admin subscription
// is open, else the partitions of the rooms that have a visitor
// subscription. It is the hub's chat.Demand: the hub tells it of each
// subscription made and ended, under the hub's lock, and a new
// subscription waits for its channels (Subscription.Ready) before its
// stream reads the store.
type shardDemand struct {
	mu     sync.Mutex
	admins int
	rooms  [IndexPartitions]int // visitor subscriptions per partition
	// live: the partitions whose channel the bridge's current
	// subscription has confirmed; waiters wait for some of them.
	live    uint32
	waiters []shardWaiter
	// kick is signalled (without blocking) when what is wanted changed.
	kick chan struct{}
	// linger is how long a partition no subscription wants stays
	// subscribed (shardLinger; set before the bridge runs).
	linger time.Duration
}

type shardWaiter struct {
	need uint32 // partitions, one bit each
	ch   chan struct{}
}

// allPartitions has the bit of every partition.
const allPartitions = uint32(1)<<IndexPartitions - 1

// shardLinger is how long a partition no subscription wants stays
// subscribed, so that a visitor who reloads the page, or a console that
// reconnects, does not make the bridge unsubscribe and subscribe again.
const shardLinger = 30 * time.Second

func newShardDemand() *shardDemand {
	return &shardDemand{kick: make(chan struct{}, 1), linger: shardLinger}
}

func (d *shardDemand) Want(roomID string) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	need := allPartitions
	if roomID == "" {
		d.admins++
	} else {
		p := PartitionOf(roomID)
		d.rooms[p]++
		need = 1 << p
	}
	if d.live&need == need {
		return nil
	}
	ch := make(chan struct{})
	d.waiters = append(d.waiters, shardWaiter{need: need, ch: ch})
	d.signal()
	return ch
}

func (d *shardDemand) Unwant(roomID string, ready <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if roomID == "" {
		d.admins--
	} else {
		d.rooms[PartitionOf(roomID)]--
	}
	// A subscription that ends still waiting (its stream gave up, or its
	// client left) takes its waiter along: otherwise, while other
	// subscriptions keep its partitions wanted, a partition that cannot be
	// reached would gather one waiter per attempt until it came back.
	if ready != nil {
		d.waiters = slices.DeleteFunc(d.waiters, func(w shardWaiter) bool { return w.ch == ready })
	}
	d.signal()
}

func (d *shardDemand) signal() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// plan returns the partitions wanted now, and lets go the waiters of
// partitions no longer wanted (their subscriptions ended before their
// channels were confirmed).
func (d *shardDemand) plan() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := allPartitions
	if d.admins == 0 {
		w = 0
		for p, n := range d.rooms {
			if n > 0 {
				w |= 1 << p
			}
		}
	}
	kept := d.waiters[:0]
	for _, x := range d.waiters {
		if x.need&^w != 0 {
			close(x.ch)
			continue
		}
		kept = append(kept, x)
	}
	d.waiters = kept
	return w
}

// confirmed marks partition p's channel confirmed, and lets go the
// subscriptions that have all they wait for.
func (d *shardDemand) confirmed(p int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.live |= 1 << p
	kept := d.waiters[:0]
	for _, w := range d.waiters {
		if w.need&^d.live == 0 {
			close(w.ch)
			continue
		}
		kept = append(kept, w)
	}
	d.waiters = kept
}

// leave marks partition p's channel unsubscribed, unless a subscription
// wants it again (then it stays, and leave says no): checked and marked
// under one lock, so that no Want finds it live as it goes.
func (d *shardDemand) leave(p int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.admins > 0 || d.rooms[p] > 0 {
		return false
	}
	d.live &^= 1 << p
	return true
}

// reset forgets every confirmed channel: the bridge's subscription is
// gone. The waiting subscriptions are let go (the hub ended them: their
// streams see Done and give up).
func (d *shardDemand) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.live = 0
	for _, w := range d.waiters {
		close(w.ch)
	}
	d.waiters = nil
}
