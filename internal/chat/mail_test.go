package chat

import "testing"

func TestNotifyPrefWants(t *testing.T) {
	for _, c := range []struct {
		pref          NotifyPref
		online, wants bool
	}{
		{NotifyAlways, true, true}, {NotifyAlways, false, true},
		{NotifyOffline, true, false}, {NotifyOffline, false, true},
		{"", true, false}, {"", false, true}, // never chosen: offline
		{NotifyNever, true, false}, {NotifyNever, false, false},
	} {
		if got := c.pref.Wants(c.online); got != c.wants {
			t.Errorf("%q online=%v: got %v, want %v", c.pref, c.online, got, c.wants)
		}
	}
}
