package redisstore

import "testing"

// TestDemandWaitersLeaveWithTheirSubscription: while an admin subscription
// keeps every partition wanted and one partition cannot be confirmed (its
// primary is down), streams that give up and retry do not gather waiters;
// the ones still waiting are let go once the partition is confirmed.
func TestDemandWaitersLeaveWithTheirSubscription(t *testing.T) {
	d := newShardDemand()
	for p := range IndexPartitions - 1 {
		d.confirmed(p)
	}
	held := d.Want("") // the console that stays open
	if held == nil {
		t.Fatal("an admin subscription with a partition unconfirmed: no wait, want one")
	}
	for range 100 { // a console retrying: each attempt gives up
		ready := d.Want("")
		d.Unwant("", ready)
	}
	d.plan()
	if n := len(d.waiters); n != 1 {
		t.Fatalf("%d waiters after 100 attempts that gave up, want 1 (the open subscription's)", n)
	}
	d.confirmed(IndexPartitions - 1)
	select {
	case <-held:
	default:
		t.Fatal("the open subscription still waits once every partition is confirmed")
	}
	if n := len(d.waiters); n != 0 {
		t.Fatalf("%d waiters once every partition is confirmed, want 0", n)
	}
	if ready := d.Want(""); ready != nil {
		t.Fatal("a new admin subscription waits with every partition confirmed")
	}
}
