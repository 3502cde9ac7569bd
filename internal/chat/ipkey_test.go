package chat

import "testing"

func TestIPLimitKey(t *testing.T) {
	cases := []struct {
		ip     string
		prefix int
		want   string
	}{
		{"203.0.113.7", 64, "203.0.113.7"},
		{"::ffff:203.0.113.7", 64, "203.0.113.7"},
		{"2001:db8:1:2::1", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:eeee:dddd:cccc", 64, "2001:db8:1:2::/64"},
		{"2001:DB8:1:2::1", 0, "2001:db8:1:2::/64"},
		{"fe80::1%eth0", 64, "fe80::/64"},
		{"2001:db8:1:2::1", 48, "2001:db8:1::/48"},
		{"2001:db8:1:2::1", 128, "2001:db8:1:2::1/128"},
		{"not an ip", 64, "not an ip"},
	}
	for _, c := range cases {
		if got := IPLimitKey(c.ip, c.prefix); got != c.want {
			t.Errorf("IPLimitKey(%q, %d): got %q, want %q", c.ip, c.prefix, got, c.want)
		}
	}
}
