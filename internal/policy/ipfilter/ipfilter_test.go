package ipfilter

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
)

func TestClientIP(t *testing.T) {
	trusted := MustParseList([]string{"10.0.0.0/8", "fd00::/8"})
	for _, tc := range []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"no proxy", "203.0.113.7:5555", nil, "203.0.113.7"},
		{"spoofed header from an untrusted peer is ignored", "203.0.113.7:5555", []string{"1.1.1.1"}, "203.0.113.7"},
		{"trusted proxy forwards the client", "10.0.0.1:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client-written entries left of the proxy's are ignored", "10.0.0.1:80", []string{"1.1.1.1, 198.51.100.9"}, "198.51.100.9"},
		{"chain of trusted proxies", "10.0.0.1:80", []string{"198.51.100.9, 10.2.3.4", "10.9.9.9"}, "198.51.100.9"},
		{"only trusted hops: the leftmost", "10.0.0.1:80", []string{"10.2.3.4, 10.3.3.3"}, "10.2.3.4"},
		{"garbage stops at the last vouched hop", "10.0.0.1:80", []string{"1.1.1.1, not-an-ip, 10.2.3.4"}, "10.2.3.4"},
		{"trusted peer, no header", "10.0.0.1:80", nil, "10.0.0.1"},
		{"ipv6 with brackets and port", "[fd00::1]:80", []string{"[2001:db8::5]:443"}, "2001:db8::5"},
		{"ipv4-mapped ipv6 peer", "[::ffff:10.0.0.1]:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"unparsable peer is kept as is", "pipe", []string{"1.1.1.1"}, "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClientIP(tc.peer, tc.xff, trusted); got != tc.want {
				t.Errorf("ClientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	r := Rules{Allow: MustParseList([]string{"10.0.0.0/8", "192.0.2.1"}), Deny: MustParseList([]string{"10.6.6.0/24"})}
	for ip, want := range map[string]bool{
		"10.1.1.1": true, "192.0.2.1": true, "192.0.2.2": false, "10.6.6.6": false, "::ffff:10.1.1.1": true, "garbage": false,
	} {
		if got := r.Permits(ip); got != want {
			t.Errorf("Permits(%s) = %v, want %v", ip, got, want)
		}
	}
	if !(Rules{}).Permits("garbage") {
		t.Error("no rules must admit anything")
	}
	if _, err := ParseList([]string{"10.0.0.0/33"}); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestStageRefusesDeniedAndSpoofedClients(t *testing.T) {
	stage := New(Options{
		TrustedProxies: MustParseList([]string{"10.0.0.1"}),
		Rules:          Rules{Allow: MustParseList([]string{"198.51.100.0/24"})},
	})
	var seen string
	h := stage(pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
		seen = c.ClientIP
		return &pipeline.Result{}, nil
	}))
	serve := func(peer string, xff string) error {
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		_, err := h.Serve(context.Background(), &pipeline.Call{HTTP: r})
		return err
	}
	if err := serve("10.0.0.1:1234", "198.51.100.20"); err != nil || seen != "198.51.100.20" {
		t.Fatalf("allowed client through trusted proxy: %v, ip %q", err, seen)
	}
	err := serve("203.0.113.5:1234", "198.51.100.20") // spoofs an allowed address
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusForbidden || !strings.Contains(ge.Message, "203.0.113.5") {
		t.Fatalf("spoofed X-Forwarded-For from an untrusted peer: %v", err)
	}
	if err := serve("10.0.0.1:1234", "203.0.113.5"); err == nil {
		t.Fatal("denied client through trusted proxy was admitted")
	}
}

// FuzzClientIP feeds arbitrary X-Forwarded-For values: no panic, and an
// untrusted peer's header never changes the answer.
func FuzzClientIP(f *testing.F) {
	for _, s := range []string{"1.1.1.1", "1.1.1.1, 10.0.0.2", "[::1]:80, garbage", ",,,", "fd00::1%eth0", "300.1.1.1"} {
		f.Add("10.0.0.1:80", s)
		f.Add("203.0.113.1:80", s)
	}
	trusted := MustParseList([]string{"10.0.0.0/8", "fd00::/8"})
	f.Fuzz(func(t *testing.T, peer, xff string) {
		got := ClientIP(peer, []string{xff}, trusted)
		if a, err := ParseAddr(peer); err == nil && !trusted.Contains(a) && got != a.String() {
			t.Fatalf("untrusted peer %q with header %q gave %q", peer, xff, got)
		}
	})
}
