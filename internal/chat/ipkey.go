package chat

import "net/netip"

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one
// client for the per-IP limits: a subscriber usually gets a whole /64, and
// can pick a new address in it for every request.
const DefaultIPv6Prefix = 64

// IPLimitKey is the one function that turns a client IP into the key every
// per-IP limit counts it under: an IPv4 address as it is, an IPv4-mapped
// IPv6 address as its IPv4 address, any other IPv6 address as its network
// of v6Prefix bits ("2001:db8:1:2::/64"; a v6Prefix outside 1–128 means
// DefaultIPv6Prefix). Anything that is not an address is used as given.
func IPLimitKey(ip string, v6Prefix int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	if v6Prefix < 1 || v6Prefix > 128 {
		v6Prefix = DefaultIPv6Prefix
	}
	p, err := a.Prefix(v6Prefix)
	if err != nil {
		return a.String()
	}
	return p.String()
}
