package keys

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"unicode"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// Limits on what a key may carry, so one key cannot bloat every lookup.
const (
	maxNameLen      = 128
	maxPatterns     = 100
	maxPatternLen   = 200
	maxMetadata     = 32
	maxMetaKeyLen   = 64
	maxMetaValueLen = 512
)

// Budget periods.
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
)

// validate checks every field of a key about to be written; the first
// problem is a 400 naming the field.
func validate(k *keyFields) error {
	bad := func(field, format string, args ...any) error {
		return gwerr.BadRequest(field, "%s: %s", field, fmt.Sprintf(format, args...))
	}
	if err := checkText(k.Name, maxNameLen); err != "" || k.Name == "" {
		if k.Name == "" {
			err = "is required"
		}
		return bad("name", "%s", err)
	}
	if err := checkText(k.Tenant, maxNameLen); err != "" {
		return bad("tenant", "%s", err)
	}
	for field, list := range map[string][]string{"models": k.Models, "providers": k.Providers} {
		if len(list) > maxPatterns {
			return bad(field, "at most %d patterns", maxPatterns)
		}
		for _, p := range list {
			if p == "" || len(p) > maxPatternLen || strings.IndexFunc(p, unicode.IsSpace) >= 0 || strings.IndexFunc(p, unicode.IsControl) >= 0 {
				return bad(field, "%q is not a valid pattern (no spaces, 1 to %d characters)", p, maxPatternLen)
			}
		}
	}
	for field, list := range map[string][]string{"allow_ips": k.AllowIPs, "deny_ips": k.DenyIPs} {
		if len(list) > maxPatterns {
			return bad(field, "at most %d entries", maxPatterns)
		}
		for _, s := range list {
			if !ValidCIDR(s) {
				return bad(field, "%q is neither an IP address nor a CIDR range", s)
			}
		}
	}
	if k.RPM < 0 {
		return bad("rpm", "must not be negative")
	}
	if k.TPM < 0 {
		return bad("tpm", "must not be negative")
	}
	if k.BudgetUSD < 0 || math.IsNaN(k.BudgetUSD) || math.IsInf(k.BudgetUSD, 0) {
		return bad("budget_usd", "must be a non-negative number")
	}
	switch k.BudgetPeriod {
	case PeriodDay, PeriodMonth:
	case "":
		if k.BudgetUSD > 0 {
			k.BudgetPeriod = PeriodMonth
		}
	default:
		return bad("budget_period", "must be day or month")
	}
	if len(k.Metadata) > maxMetadata {
		return bad("metadata", "at most %d entries", maxMetadata)
	}
	for mk, mv := range k.Metadata {
		if mk == "" || len(mk) > maxMetaKeyLen || checkText(mk, maxMetaKeyLen) != "" {
			return bad("metadata", "key %q must be 1 to %d printable characters", mk, maxMetaKeyLen)
		}
		if e := checkText(mv, maxMetaValueLen); e != "" {
			return bad("metadata", "value of %q %s", mk, e)
		}
	}
	return nil
}

func checkText(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("must be at most %d characters", max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "must not contain control characters"
	}
	return ""
}

// ValidCIDR reports whether s is an IP address or a CIDR range.
func ValidCIDR(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
