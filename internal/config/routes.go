package config

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"
)

// Route is a dynamic route: a name clients send as "model", and a small
// tree of decisions that picks the model to serve each request — by
// conditions on the request and the caller, percentage splits (A/B tests,
// canaries) sticky per user, and limits per branch.
//
//	routes:
//	  - name: support
//	    switch:
//	      - if: [{field: tier, equals: enterprise}]
//	        model: smart
//	    default:
//	      split:
//	        branches:
//	          - {name: control, percent: 90, model: openai/gpt-4o-mini}
//	          - {name: canary, percent: 10, model: anthropic/claude-haiku-4-5}
type Route struct {
	// Name is what clients send as "model".
	Name string `yaml:"name"`
	// Match lists further requested model names (path.Match globs such as
	// "gpt-4o*") that this route serves too, so traffic for existing model
	// names can be steered without changing clients.
	Match     []string `yaml:"match"`
	RouteNode `yaml:",inline"`
}

// RequestedModel, as a node's model, serves the model the client asked
// for (meaningful in routes with match).
const RequestedModel = "@requested"

// RouteNode is one decision. Exactly one of Model, Switch (with Default)
// or Split is set; Limit may guard any node.
type RouteNode struct {
	// Model ends the decision: an alias, "provider/model", or @requested.
	Model string `yaml:"model"`
	// Switch takes the first case whose conditions all hold, else Default.
	Switch  []RouteCase `yaml:"switch"`
	Default *RouteNode  `yaml:"default"`
	// Split sends shares of the traffic to branches.
	Split *Split `yaml:"split"`
	// Limit bounds the requests, tokens or spend through this node.
	Limit *RouteLimit `yaml:"limit"`
}

// RouteCase is one case of a switch.
type RouteCase struct {
	// Name labels the case in logs (default: its index).
	Name string `yaml:"name"`
	// If are conditions that must all hold.
	If        []Condition `yaml:"if"`
	RouteNode `yaml:",inline"`
}

// Split divides traffic by percentage.
type Split struct {
	// By is what keeps a caller on one branch: user (default: the
	// authenticated user, else the request's "user" field, else metadata
	// user or user_id), key, tenant, metadata.NAME, header.NAME, or random
	// (no stickiness). Requests without that value are split at random.
	By       string   `yaml:"by"`
	Branches []Branch `yaml:"branches"`
}

// Branch is one share of a split.
type Branch struct {
	// Name labels the branch in logs (default: its index).
	Name string `yaml:"name"`
	// Percent of the traffic; a split's percents add up to 100.
	Percent   float64 `yaml:"percent"`
	RouteNode `yaml:",inline"`
}

// RouteLimit bounds traffic through a node within a window. When a limit
// is reached the request takes Otherwise, or gets a 429 without it.
type RouteLimit struct {
	// Requests, Tokens and BudgetUSD are limits per window (0: none).
	Requests  int64   `yaml:"requests"`
	Tokens    int64   `yaml:"tokens"`
	BudgetUSD float64 `yaml:"budget_usd"`
	// Window is the sliding window (default 1m; budgets often use 24h).
	Window Duration `yaml:"window"`
	// Per counts separately for each user, key or tenant (default: one
	// count for the whole node).
	Per string `yaml:"per"`
	// Otherwise is taken while the limit is reached.
	Otherwise *RouteNode `yaml:"otherwise"`
}

// Condition tests one field of a request, or combines conditions. Fields:
// model (as requested), tenant, tier, key (key name), user, stream,
// prompt (the text of all messages), prompt_length (its characters),
// metadata.NAME (x-aig-metadata) and header.NAME (request headers).
type Condition struct {
	Field     string   `yaml:"field"`
	Equals    any      `yaml:"equals"`
	NotEquals any      `yaml:"not_equals"`
	In        []any    `yaml:"in"`
	NotIn     []any    `yaml:"not_in"`
	Contains  string   `yaml:"contains"`
	Prefix    string   `yaml:"prefix"`
	Matches   string   `yaml:"matches"` // a Go regular expression
	GT        *float64 `yaml:"gt"`
	GTE       *float64 `yaml:"gte"`
	LT        *float64 `yaml:"lt"`
	LTE       *float64 `yaml:"lte"`
	// Exists tests whether the field has a value at all.
	Exists *bool `yaml:"exists"`
	// Any holds when one of its conditions does; Not when its does not.
	Any []Condition `yaml:"any"`
	Not *Condition  `yaml:"not"`
}

// MaxRouteDepth bounds how deeply route nodes nest.
const MaxRouteDepth = 16

func (r *Route) defaults() { r.RouteNode.defaults() }

func (n *RouteNode) defaults() {
	if n.Limit != nil {
		setDuration(&n.Limit.Window, "1m")
		if n.Limit.Otherwise != nil {
			n.Limit.Otherwise.defaults()
		}
	}
	for i := range n.Switch {
		n.Switch[i].RouteNode.defaults()
	}
	if n.Default != nil {
		n.Default.defaults()
	}
	if n.Split != nil {
		if n.Split.By == "" {
			n.Split.By = "user"
		}
		for i := range n.Split.Branches {
			n.Split.Branches[i].RouteNode.defaults()
		}
	}
}

func (c *Config) validateRoutes(ids map[string]bool, aliases map[string]int) Errors {
	var errs Errors
	names := map[string]bool{}
	for i := range c.Routes {
		r := &c.Routes[i]
		p := fmt.Sprintf("routes[%d]", i)
		_, isAlias := aliases[r.Name]
		switch {
		case r.Name == "":
			errs = append(errs, FieldError{Path: p + ".name", Msg: "is required"})
		case names[r.Name]:
			errs = append(errs, FieldError{Path: p + ".name", Msg: fmt.Sprintf("%q is defined twice", r.Name)})
		case isAlias:
			errs = append(errs, FieldError{Path: p + ".name", Msg: fmt.Sprintf("%q is already a model alias", r.Name)})
		case strings.HasPrefix(r.Name, "@"):
			errs = append(errs, FieldError{Path: p + ".name", Msg: "must not start with @"})
		}
		names[r.Name] = true
		for j, m := range r.Match {
			if _, err := path.Match(m, ""); err != nil || m == "" {
				errs = append(errs, FieldError{Path: fmt.Sprintf("%s.match[%d]", p, j), Msg: "must be a model name or a glob such as gpt-4o*"})
			}
		}
		v := nodeValidator{ids: ids, aliases: aliases, hasMatch: len(r.Match) > 0}
		v.node(p, &r.RouteNode, 0)
		errs = append(errs, v.errs...)
	}
	return errs
}

type nodeValidator struct {
	ids      map[string]bool
	aliases  map[string]int
	hasMatch bool
	errs     Errors
}

func (v *nodeValidator) add(path, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *nodeValidator) node(p string, n *RouteNode, depth int) {
	if depth > MaxRouteDepth {
		v.add(p, "nests more than %d levels deep", MaxRouteDepth)
		return
	}
	kinds := 0
	for _, set := range []bool{n.Model != "", len(n.Switch) > 0, n.Split != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		v.add(p, "needs exactly one of model, switch (with default) or split")
	}
	switch {
	case n.Model == RequestedModel:
		if !v.hasMatch {
			v.add(p+".model", "@requested needs match on the route (the route's own name is not a model to serve)")
		}
	case n.Model != "":
		v.errs = append(v.errs, validateModelRef(p+".model", n.Model, v.ids, v.aliases)...)
	}
	if len(n.Switch) > 0 && n.Default == nil {
		v.add(p+".default", "is required with switch: it serves requests no case matches")
	}
	if n.Default != nil && len(n.Switch) == 0 {
		v.add(p+".default", "is only used with switch")
	}
	for i := range n.Switch {
		cp := fmt.Sprintf("%s.switch[%d]", p, i)
		cs := &n.Switch[i]
		if len(cs.If) == 0 {
			v.add(cp+".if", "needs at least one condition")
		}
		for j := range cs.If {
			v.cond(fmt.Sprintf("%s.if[%d]", cp, j), &cs.If[j], 0)
		}
		v.node(cp, &cs.RouteNode, depth+1)
	}
	if n.Default != nil {
		v.node(p+".default", n.Default, depth+1)
	}
	if s := n.Split; s != nil {
		v.split(p+".split", s, depth)
	}
	if l := n.Limit; l != nil {
		lp := p + ".limit"
		if l.Requests < 0 || l.Tokens < 0 || l.BudgetUSD < 0 || math.IsNaN(l.BudgetUSD) {
			v.add(lp, "requests, tokens and budget_usd must not be negative")
		}
		if l.Requests == 0 && l.Tokens == 0 && l.BudgetUSD == 0 {
			v.add(lp, "needs requests, tokens or budget_usd")
		}
		if l.Window.D() < 1_000_000_000 {
			v.add(lp+".window", "must be at least 1s")
		}
		if !oneOf(l.Per, []string{"", "user", "key", "tenant"}) {
			v.add(lp+".per", "must be user, key or tenant (or absent: one count for the node)")
		}
		if l.Otherwise != nil {
			v.node(lp+".otherwise", l.Otherwise, depth+1)
		}
	}
}

func (v *nodeValidator) split(p string, s *Split, depth int) {
	if !validSource(s.By) && s.By != "user" && s.By != "key" && s.By != "tenant" && s.By != "random" {
		v.add(p+".by", "must be user, key, tenant, random, metadata.NAME or header.NAME")
	}
	if len(s.Branches) == 0 {
		v.add(p+".branches", "needs at least one branch")
	}
	total := 0.0
	names := map[string]bool{}
	for i := range s.Branches {
		b := &s.Branches[i]
		bp := fmt.Sprintf("%s.branches[%d]", p, i)
		if b.Percent <= 0 || b.Percent > 100 {
			v.add(bp+".percent", "must be above 0 and at most 100")
		}
		total += b.Percent
		if b.Name != "" {
			if names[b.Name] {
				v.add(bp+".name", "%q is used twice in this split", b.Name)
			}
			names[b.Name] = true
		}
		v.node(bp, &b.RouteNode, depth+1)
	}
	if len(s.Branches) > 0 && math.Abs(total-100) > 1e-6 {
		v.add(p+".branches", "percents add up to %g, must be 100", total)
	}
}

// validSource reports whether a field name is metadata.NAME or header.NAME.
func validSource(f string) bool {
	for _, pre := range []string{"metadata.", "header."} {
		if name, ok := strings.CutPrefix(f, pre); ok && name != "" {
			return true
		}
	}
	return false
}

// ConditionFields are the fields a condition may test besides
// metadata.NAME and header.NAME.
var ConditionFields = []string{"model", "tenant", "tier", "key", "user", "stream", "prompt", "prompt_length"}

func (v *nodeValidator) cond(p string, c *Condition, depth int) {
	if depth > MaxRouteDepth {
		v.add(p, "nests more than %d levels deep", MaxRouteDepth)
		return
	}
	combined := len(c.Any) > 0 || c.Not != nil
	ops := 0
	for _, set := range []bool{c.Equals != nil, c.NotEquals != nil, c.In != nil, c.NotIn != nil,
		c.Contains != "", c.Prefix != "", c.Matches != "", c.GT != nil, c.GTE != nil,
		c.LT != nil, c.LTE != nil, c.Exists != nil} {
		if set {
			ops++
		}
	}
	switch {
	case combined && (c.Field != "" || ops > 0):
		v.add(p, "any and not stand alone: no field or operator beside them")
	case combined && len(c.Any) > 0 && c.Not != nil:
		v.add(p, "use either any or not")
	case !combined && c.Field == "":
		v.add(p+".field", "is required (%s, metadata.NAME or header.NAME)", strings.Join(ConditionFields, ", "))
	case !combined && !oneOf(c.Field, ConditionFields) && !validSource(c.Field):
		v.add(p+".field", "unknown field %q (%s, metadata.NAME or header.NAME)", c.Field, strings.Join(ConditionFields, ", "))
	case !combined && ops == 0:
		v.add(p, "needs an operator: equals, not_equals, in, not_in, contains, prefix, matches, gt, gte, lt, lte or exists")
	}
	if c.Equals != nil && !scalar(c.Equals) {
		v.add(p+".equals", "must be a string, number or boolean")
	}
	if c.NotEquals != nil && !scalar(c.NotEquals) {
		v.add(p+".not_equals", "must be a string, number or boolean")
	}
	for i, val := range c.In {
		if !scalar(val) {
			v.add(fmt.Sprintf("%s.in[%d]", p, i), "must be a string, number or boolean")
		}
	}
	for i, val := range c.NotIn {
		if !scalar(val) {
			v.add(fmt.Sprintf("%s.not_in[%d]", p, i), "must be a string, number or boolean")
		}
	}
	if c.Matches != "" {
		if _, err := regexp.Compile(c.Matches); err != nil {
			v.add(p+".matches", "not a valid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	}
	for i := range c.Any {
		v.cond(fmt.Sprintf("%s.any[%d]", p, i), &c.Any[i], depth+1)
	}
	if c.Not != nil {
		v.cond(p+".not", c.Not, depth+1)
	}
}

func scalar(v any) bool {
	switch v.(type) {
	case string, bool, int, int64, uint64, float64:
		return true
	}
	return false
}
