package chat

import "net/netip"

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one
// client: a home or a phone gets a whole /64 and picks addresses in it at
// will, so only the prefix tells clients apart.
const DefaultIPv6Prefix = 64

// ClientKey is the name of the client at ip for limits, blocks and the
// visitor counter: an IPv4 address as it is, an IPv6 address cut to its
// first v6prefix bits ("2001:db8:1:2::/64"). Something that is not an
// address is returned as given.
func ClientKey(ip string, v6prefix int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	if v6prefix <= 0 || v6prefix > 128 {
		v6prefix = DefaultIPv6Prefix
	}
	p, err := a.Prefix(v6prefix)
	if err != nil {
		return a.String()
	}
	return p.String()
}
