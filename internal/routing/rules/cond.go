package rules

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"

	"github.com/aigateway/aigateway/internal/config"
)

// cond is a compiled condition.
type cond struct {
	field string

	equals, notEquals *value
	in, notIn         []value
	contains, prefix  string
	re                *regexp.Regexp
	gt, gte, lt, lte  *float64
	exists            *bool

	any []*cond
	not *cond
	// negOnly: the only tests are not_equals/not_in, which a missing
	// value passes
	negOnly bool
}

func compileCond(c *config.Condition) (*cond, error) {
	out := &cond{field: c.Field, contains: c.Contains, prefix: c.Prefix,
		gt: c.GT, gte: c.GTE, lt: c.LT, lte: c.LTE, exists: c.Exists}
	scalar := func(v any) (*value, error) {
		if v == nil {
			return nil, nil
		}
		x, ok := valueOf(v)
		if !ok {
			return nil, fmt.Errorf("%v is not a string, number or boolean", v)
		}
		return &x, nil
	}
	var err error
	if out.equals, err = scalar(c.Equals); err != nil {
		return nil, err
	}
	if out.notEquals, err = scalar(c.NotEquals); err != nil {
		return nil, err
	}
	for _, list := range []struct {
		src []any
		dst *[]value
	}{{c.In, &out.in}, {c.NotIn, &out.notIn}} {
		for _, v := range list.src {
			x, err := scalar(v)
			if err != nil {
				return nil, err
			}
			*list.dst = append(*list.dst, *x)
		}
	}
	if c.NotIn != nil && out.notIn == nil {
		out.notIn = []value{}
	}
	if c.Matches != "" {
		if out.re, err = regexp.Compile(c.Matches); err != nil {
			return nil, fmt.Errorf("matches: %w", err)
		}
	}
	out.negOnly = (out.notEquals != nil || out.notIn != nil) && out.equals == nil && out.in == nil &&
		out.contains == "" && out.prefix == "" && out.re == nil &&
		out.gt == nil && out.gte == nil && out.lt == nil && out.lte == nil
	for i := range c.Any {
		sub, err := compileCond(&c.Any[i])
		if err != nil {
			return nil, err
		}
		out.any = append(out.any, sub)
	}
	if c.Not != nil {
		if out.not, err = compileCond(c.Not); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// eval tests the condition. A field without a value satisfies only
// exists: false, not_equals and not_in.
func (c *cond) eval(in *input) bool {
	if c.any != nil {
		for _, sub := range c.any {
			if sub.eval(in) {
				return true
			}
		}
		return false
	}
	if c.not != nil {
		return !c.not.eval(in)
	}
	v, ok := in.field(c.field)
	if c.exists != nil && ok != *c.exists {
		return false
	}
	if !ok {
		return c.exists != nil || c.negOnly
	}
	if c.equals != nil && !equal(v, *c.equals) {
		return false
	}
	if c.notEquals != nil && equal(v, *c.notEquals) {
		return false
	}
	if c.in != nil && !member(v, c.in) {
		return false
	}
	if c.notIn != nil && member(v, c.notIn) {
		return false
	}
	if c.contains != "" && !strings.Contains(v.s, c.contains) {
		return false
	}
	if c.prefix != "" && !strings.HasPrefix(v.s, c.prefix) {
		return false
	}
	if c.re != nil && !c.re.MatchString(v.s) {
		return false
	}
	for _, b := range []struct {
		bound *float64
		ok    func(x, b float64) bool
	}{
		{c.gt, func(x, b float64) bool { return x > b }},
		{c.gte, func(x, b float64) bool { return x >= b }},
		{c.lt, func(x, b float64) bool { return x < b }},
		{c.lte, func(x, b float64) bool { return x <= b }},
	} {
		if b.bound != nil && (!v.isNum || !b.ok(v.f, *b.bound)) {
			return false
		}
	}
	return true
}

// equal compares numbers as numbers ("8" equals 8.0) and everything else
// as text (true equals "true").
func equal(a, b value) bool {
	if a.isNum && b.isNum {
		return a.f == b.f
	}
	return a.s == b.s
}

func member(v value, list []value) bool {
	for _, x := range list {
		if equal(v, x) {
			return true
		}
	}
	return false
}

// randPercent is a uniform number in [0,100) for requests a split cannot
// make sticky.
func randPercent() float64 { return rand.Float64() * 100 }
