// Package rules evaluates dynamic routes: a route is a small tree of
// decisions (switch cases over conditions on the request and the caller,
// percentage splits sticky per user, limits per node) that ends in the
// model to serve. Routes are compiled once per config snapshot; evaluating
// one allocates little beyond the decision it returns.
package rules

import (
	"fmt"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// Set is the compiled routes of one config snapshot.
type Set struct {
	byName   map[string]*route
	matching []*route // routes with match globs, in config order
	names    []string
	counters Counters
	now      func() time.Time
}

type route struct {
	name  string
	match []string
	root  *node
}

type node struct {
	path  string // config path below the route ("default.split.branches[1]")
	label string // for logs: the case or branch name
	model string
	cases []*kase
	deflt *node
	split *split
	limit *limit
}

type kase struct {
	conds []*cond
	node  *node
}

type split struct {
	by       string
	branches []*node
	cum      []float64 // cumulative percent upper bounds
}

type limit struct {
	requests  int64
	tokens    int64
	budget    float64
	window    time.Duration
	per       string
	otherwise *node
}

// Options configure a Set.
type Options struct {
	// Counters keep limit state (default: a new in-memory Memory). Pass a
	// shared one to keep counts across config reloads or replicas.
	Counters Counters
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Compile compiles validated routes.
func Compile(routes []config.Route, o Options) (*Set, error) {
	if o.Counters == nil {
		o.Counters = NewMemory(MemoryOptions{Now: o.Now})
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Set{byName: map[string]*route{}, counters: o.Counters, now: o.Now}
	for i := range routes {
		r := &routes[i]
		root, err := compileNode(&r.RouteNode, "", "")
		if err != nil {
			return nil, fmt.Errorf("routes[%d] (%s): %w", i, r.Name, err)
		}
		cr := &route{name: r.Name, match: r.Match, root: root}
		s.byName[r.Name] = cr
		s.names = append(s.names, r.Name)
		if len(r.Match) > 0 {
			s.matching = append(s.matching, cr)
		}
	}
	return s, nil
}

func compileNode(n *config.RouteNode, p, label string) (*node, error) {
	out := &node{path: p, label: label, model: n.Model}
	for i := range n.Switch {
		c := &n.Switch[i]
		cp := join(p, fmt.Sprintf("switch[%d]", i))
		k := &kase{}
		for j := range c.If {
			cc, err := compileCond(&c.If[j])
			if err != nil {
				return nil, fmt.Errorf("%s.if[%d]: %w", cp, j, err)
			}
			k.conds = append(k.conds, cc)
		}
		name := c.Name
		if name == "" {
			name = strconv.Itoa(i)
		}
		sub, err := compileNode(&c.RouteNode, cp, name)
		if err != nil {
			return nil, err
		}
		k.node = sub
		out.cases = append(out.cases, k)
	}
	if n.Default != nil {
		sub, err := compileNode(n.Default, join(p, "default"), "default")
		if err != nil {
			return nil, err
		}
		out.deflt = sub
	}
	if n.Split != nil {
		sp := &split{by: n.Split.By}
		total := 0.0
		for i := range n.Split.Branches {
			b := &n.Split.Branches[i]
			name := b.Name
			if name == "" {
				name = strconv.Itoa(i)
			}
			sub, err := compileNode(&b.RouteNode, join(p, fmt.Sprintf("split.branches[%d]", i)), name)
			if err != nil {
				return nil, err
			}
			total += b.Percent
			sp.branches = append(sp.branches, sub)
			sp.cum = append(sp.cum, total)
		}
		out.split = sp
	}
	if l := n.Limit; l != nil {
		cl := &limit{requests: l.Requests, tokens: l.Tokens, budget: l.BudgetUSD, window: l.Window.D(), per: l.Per}
		if cl.window <= 0 {
			cl.window = time.Minute
		}
		if l.Otherwise != nil {
			sub, err := compileNode(l.Otherwise, join(p, "limit.otherwise"), "otherwise")
			if err != nil {
				return nil, err
			}
			cl.otherwise = sub
		}
		out.limit = cl
	}
	return out, nil
}

func join(p, s string) string {
	if p == "" {
		return s
	}
	return p + "." + s
}

// Names returns the route names, in config order.
func (s *Set) Names() []string { return s.names }

// Has reports whether name is a route.
func (s *Set) Has(name string) bool {
	_, ok := s.byName[name]
	return ok
}

// Lookup returns the route serving a requested model: the route of that
// name, or the first whose match globs match it.
func (s *Set) Lookup(model string) (name string, ok bool) {
	if s == nil {
		return "", false
	}
	if r, ok := s.byName[model]; ok {
		return r.name, true
	}
	for _, r := range s.matching {
		for _, m := range r.match {
			if ok, _ := path.Match(m, model); ok {
				return r.name, true
			}
		}
	}
	return "", false
}

// Decision is what a route chose for one request.
type Decision struct {
	// Model is the alias or "provider/model" to serve.
	Model string
	// Path names the route and the branches taken ("support/default/canary"),
	// for logs and A/B analysis.
	Path string

	charges []charge
	set     *Set
}

type charge struct {
	key    string
	window time.Duration
}

// Evaluate runs route name for the call.
func (s *Set) Evaluate(name string, c *pipeline.Call) (*Decision, error) {
	r, ok := s.byName[name]
	if !ok {
		return nil, gwerr.NotFound("model_not_found", "route %q does not exist", name)
	}
	d := &Decision{set: s}
	labels := []string{r.name}
	in := &input{c: c}
	n := r.root
	for depth := 0; ; depth++ {
		if depth > 4*config.MaxRouteDepth {
			return nil, gwerr.Internal(fmt.Errorf("route %s nests too deep", r.name))
		}
		if n.label != "" {
			labels = append(labels, n.label)
		}
		if n.limit != nil {
			key, over, retry := s.checkLimit(r.name, n, c)
			if over {
				if n.limit.otherwise == nil {
					return nil, gwerr.RateLimited("route_limit_exceeded", retry,
						"route %s has reached its limit at %s; try again later", r.name, strings.Join(labels, "/"))
				}
				n = n.limit.otherwise
				continue
			}
			s.counters.Add(key, n.limit.window, Usage{Requests: 1})
			d.charges = append(d.charges, charge{key: key, window: n.limit.window})
		}
		switch {
		case n.model != "":
			d.Model = n.model
			if n.model == config.RequestedModel {
				d.Model = c.Model
			}
			d.Path = strings.Join(labels, "/")
			return d, nil
		case n.split != nil:
			n = n.split.pick(r.name, n.path, in)
		default:
			next := n.deflt
			for _, k := range n.cases {
				if k.matches(in) {
					next = k.node
					break
				}
			}
			if next == nil {
				return nil, gwerr.Internal(fmt.Errorf("route %s: no case matched and no default", r.name))
			}
			n = next
		}
	}
}

// checkLimit reports whether the node's limit is reached for this caller.
func (s *Set) checkLimit(route string, n *node, c *pipeline.Call) (key string, over bool, retry time.Duration) {
	l := n.limit
	key = route + "|" + n.path + "|" + l.window.String()
	switch l.per {
	case "user":
		key += "|u:" + userOf(c)
	case "key":
		key += "|k:" + c.Identity.KeyID
	case "tenant":
		key += "|t:" + c.Identity.Tenant
	}
	u, retry := s.counters.Usage(key, l.window)
	over = (l.requests > 0 && u.Requests >= float64(l.requests)) ||
		(l.tokens > 0 && u.Tokens >= float64(l.tokens)) ||
		(l.budget > 0 && u.CostUSD >= l.budget)
	return key, over, retry
}

// Finish charges the tokens and cost of the finished request to every
// limit on the path the decision took.
func (d *Decision) Finish(tokens int64, costUSD float64) {
	if d == nil || (tokens <= 0 && costUSD <= 0) || math.IsNaN(costUSD) {
		return
	}
	for _, ch := range d.charges {
		d.set.counters.Add(ch.key, ch.window, Usage{Tokens: float64(tokens), CostUSD: costUSD})
	}
}

// pick chooses a branch: by the hash of the sticky value, so a caller
// stays on one branch for as long as the split is unchanged, or at random
// when the request has no such value.
func (sp *split) pick(route, p string, in *input) *node {
	var x float64
	if v := in.sticky(sp.by); v != "" {
		x = float64(hash(route+"\x00"+p+"\x00"+v)%1_000_000) / 10_000
	} else {
		x = randPercent()
	}
	for i, upper := range sp.cum {
		if x < upper {
			return sp.branches[i]
		}
	}
	return sp.branches[len(sp.branches)-1]
}

// hash is FNV-1a with a splitmix64 finaliser, so similar ids ("user-1",
// "user-2") land far apart.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// input is a call as conditions see it; the prompt text is built once, on
// first use.
type input struct {
	c         *pipeline.Call
	prompt    string
	promptSet bool
}

func (in *input) promptText() string {
	if !in.promptSet {
		in.promptSet = true
		in.prompt = PromptText(in.c)
	}
	return in.prompt
}

// PromptText is the text of every message of a chat call (or the input of
// an embeddings call), one message per line.
func PromptText(c *pipeline.Call) string {
	switch {
	case c.Chat != nil:
		var b strings.Builder
		for i, m := range c.Chat.Messages {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(m.Content.Text())
		}
		return b.String()
	case c.Embed != nil:
		return string(c.Embed.Input)
	}
	return ""
}

// userOf is the end user: the authenticated user, else the request's
// "user" field, else metadata user or user_id.
func userOf(c *pipeline.Call) string {
	if c.Identity.User != "" {
		return c.Identity.User
	}
	if c.Chat != nil && c.Chat.User != "" {
		return c.Chat.User
	}
	for _, k := range []string{"user", "user_id"} {
		if v, ok := c.Options.Metadata[k]; ok {
			if s, ok := str(v); ok && s != "" {
				return s
			}
		}
	}
	return ""
}

func (in *input) sticky(by string) string {
	c := in.c
	switch by {
	case "random":
		return ""
	case "user", "":
		return userOf(c)
	case "key":
		return c.Identity.KeyID
	case "tenant":
		return c.Identity.Tenant
	}
	v, ok := in.field(by)
	if !ok {
		return ""
	}
	return v.s
}

// value is a field's value: its text, and its number when it is one.
type value struct {
	s     string
	f     float64
	isNum bool
}

func str(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return "", false
}

func valueOf(v any) (value, bool) {
	s, ok := str(v)
	if !ok {
		return value{}, false
	}
	out := value{s: s}
	switch x := v.(type) {
	case float64:
		out.f, out.isNum = x, true
	case int:
		out.f, out.isNum = float64(x), true
	case int64:
		out.f, out.isNum = float64(x), true
	case uint64:
		out.f, out.isNum = float64(x), true
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			out.f, out.isNum = f, true
		}
	}
	return out, true
}

func (in *input) field(f string) (value, bool) {
	c := in.c
	text := func(s string) (value, bool) {
		if s == "" {
			return value{}, false
		}
		return valueOf(s)
	}
	switch f {
	case "model":
		return text(c.Model)
	case "tenant":
		return text(c.Identity.Tenant)
	case "tier":
		return text(c.Identity.Tier)
	case "key":
		return text(c.Identity.KeyName)
	case "user":
		return text(userOf(c))
	case "stream":
		return valueOf(c.Chat != nil && c.Chat.Stream)
	case "prompt":
		return value{s: in.promptText()}, true
	case "prompt_length":
		n := float64(len([]rune(in.promptText())))
		return value{s: strconv.Itoa(int(n)), f: n, isNum: true}, true
	}
	if name, ok := strings.CutPrefix(f, "metadata."); ok {
		v, ok := c.Options.Metadata[name]
		if !ok {
			return value{}, false
		}
		return valueOf(v)
	}
	if name, ok := strings.CutPrefix(f, "header."); ok && c.HTTP != nil {
		vs := c.HTTP.Header.Values(http.CanonicalHeaderKey(name))
		if len(vs) == 0 {
			return value{}, false
		}
		return valueOf(strings.Join(vs, ", "))
	}
	return value{}, false
}

func (k *kase) matches(in *input) bool {
	for _, c := range k.conds {
		if !c.eval(in) {
			return false
		}
	}
	return true
}
