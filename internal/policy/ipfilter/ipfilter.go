// Package ipfilter is the first policy stage: it finds the client's
// address (believing X-Forwarded-For only when the connection comes from a
// trusted proxy) and refuses addresses the allow and deny lists exclude.
// The same lists, per key, are checked by the auth stage.
package ipfilter

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// List is a set of addresses and CIDR ranges.
type List []netip.Prefix

// ParseList parses addresses ("10.1.2.3", "::1") and ranges
// ("10.0.0.0/8").
func ParseList(ss []string) (List, error) {
	out := make(List, 0, len(ss))
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// MustParseList is ParseList for lists validated before (config, keys).
func MustParseList(ss []string) List {
	l, err := ParseList(ss)
	if err != nil {
		panic(err)
	}
	return l
}

// Contains reports whether a is in the list.
func (l List) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range l {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Rules are an allow and a deny list. Deny wins; an empty allow list
// allows every address not denied.
type Rules struct {
	Allow, Deny List
}

// Empty reports whether the rules admit everything.
func (r Rules) Empty() bool { return len(r.Allow) == 0 && len(r.Deny) == 0 }

// Permits reports whether the rules admit ip (a textual address; an
// unparsable one is admitted only when there are no rules).
func (r Rules) Permits(ip string) bool {
	if r.Empty() {
		return true
	}
	a, err := ParseAddr(ip)
	if err != nil {
		return false
	}
	if r.Deny.Contains(a) {
		return false
	}
	return len(r.Allow) == 0 || r.Allow.Contains(a)
}

// ParseAddr parses an address as found in RemoteAddr or
// X-Forwarded-For: with or without brackets, port and zone.
func ParseAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}

// ClientIP returns the client's address for a connection from peer with
// the given X-Forwarded-For header values. Only when peer is a trusted
// proxy are the forwarded addresses believed, and then only from the
// right: each trusted proxy appends the address it saw, so the first
// untrusted address from the right is the client, and whatever a client
// wrote to the left of it is ignored.
func ClientIP(peer string, xff []string, trusted List) string {
	pa, err := ParseAddr(peer)
	if err != nil {
		return peer
	}
	client := pa
	if len(trusted) == 0 || !trusted.Contains(pa) {
		return client.String()
	}
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			if strings.TrimSpace(parts[j]) == "" {
				continue
			}
			a, err := ParseAddr(parts[j])
			if err != nil {
				return client.String() // garbage: stop at the last hop we can vouch for
			}
			client = a
			if !trusted.Contains(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

// Options configure the stage.
type Options struct {
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies List
	// Rules admit or refuse client addresses.
	Rules Rules
}

// New returns the stage: it sets Call.ClientIP and refuses addresses the
// rules exclude with 403.
func New(o Options) pipeline.Middleware {
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			if c.HTTP != nil {
				c.ClientIP = ClientIP(c.HTTP.RemoteAddr, c.HTTP.Header.Values("X-Forwarded-For"), o.TrustedProxies)
			}
			if !o.Rules.Permits(c.ClientIP) {
				e := gwerr.Forbidden("requests from %s are not allowed by this gateway's IP rules", c.ClientIP)
				e.Code = "ip_not_allowed"
				return nil, e
			}
			return next.Serve(ctx, c)
		})
	}
}
