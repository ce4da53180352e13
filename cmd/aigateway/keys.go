package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aigateway/aigateway/internal/app"
	"github.com/aigateway/aigateway/internal/keys"
)

const keysUsage = `Usage:
  aigateway keys create --name NAME [key flags]
  aigateway keys list [--tenant T] [--name N] [--all]
  aigateway keys show ID|NAME
  aigateway keys update ID|NAME [key flags]
  aigateway keys revoke ID|NAME

Where: by default on the store of --config/--data-dir (as "serve" uses it;
the gateway need not be running); with --url on a running gateway's admin
API (--admin-token or AIGATEWAY_ADMIN_TOKEN). Either way a running gateway
sees the change within a second.

Key flags:
  --name NAME            --tenant TENANT
  --models 'openai/*,anthropic/claude-*'   --providers openai,azure
  --rpm N  --tpm N       requests and tokens per minute (0: unlimited)
  --budget-usd X  --budget-period day|month
  --expires 2026-01-31T00:00:00Z | 2026-01-31 | 30d | 12h | never
  --metadata k=v         (repeatable; tier and user set the caller's tier and user)
  --allow-ips CIDRS  --deny-ips CIDRS
  --enabled=false        create disabled / disable (update)
Other flags: --json (machine-readable output)
`

// keysFlags are every flag of "keys"; each subcommand uses its part.
type keysFlags struct {
	config, dataDir, url, token string
	json, all                   bool
	limit, offset               int

	name, tenant, models, providers, allowIPs, denyIPs string
	budgetPeriod, expires                              string
	rpm, tpm                                           int64
	budgetUSD                                          float64
	enabled                                            bool
	metadata                                           metaFlag
}

type metaFlag map[string]string

func (m *metaFlag) String() string { return "" }
func (m *metaFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	if *m == nil {
		*m = metaFlag{}
	}
	(*m)[k] = val
	return nil
}

func runKeys(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, keysUsage)
		return 2
	}
	cmd := args[0]
	var f keysFlags
	fs := flag.NewFlagSet("keys "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, keysUsage) }
	fs.StringVar(&f.config, "config", getenv("AIGATEWAY_CONFIG"), "config file (as for serve)")
	fs.StringVar(&f.dataDir, "data-dir", getenv("AIGATEWAY_DATA_DIR"), "data directory (as for serve)")
	fs.StringVar(&f.url, "url", getenv("AIGATEWAY_URL"), "a running gateway's base URL")
	fs.StringVar(&f.token, "admin-token", getenv("AIGATEWAY_ADMIN_TOKEN"), "admin token for --url")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	fs.BoolVar(&f.all, "all", false, "list revoked keys too")
	fs.IntVar(&f.limit, "limit", 0, "list at most this many")
	fs.IntVar(&f.offset, "offset", 0, "skip this many")
	fs.StringVar(&f.name, "name", "", "key name")
	fs.StringVar(&f.tenant, "tenant", "", "tenant")
	fs.StringVar(&f.models, "models", "", "allowed models (comma-separated globs)")
	fs.StringVar(&f.providers, "providers", "", "allowed providers (comma-separated globs)")
	fs.StringVar(&f.allowIPs, "allow-ips", "", "addresses/CIDRs the key may be used from")
	fs.StringVar(&f.denyIPs, "deny-ips", "", "addresses/CIDRs the key may not be used from")
	fs.Int64Var(&f.rpm, "rpm", 0, "requests per minute")
	fs.Int64Var(&f.tpm, "tpm", 0, "tokens per minute")
	fs.Float64Var(&f.budgetUSD, "budget-usd", 0, "budget in USD per period")
	fs.StringVar(&f.budgetPeriod, "budget-period", "", "day or month")
	fs.StringVar(&f.expires, "expires", "", "expiry: RFC 3339 time, date, duration (30d, 12h) or never")
	fs.BoolVar(&f.enabled, "enabled", true, "whether the key can be used")
	fs.Var(&f.metadata, "metadata", "key=value (repeatable)")
	// flags may come before and after the ID or NAME
	var positional []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })

	svc, done, err := keyService(f, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "aigateway keys: %v\n", err)
		return 1
	}
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := keysOutput{w: stdout, json: f.json}
	needRef := func() (string, bool) {
		if len(positional) != 1 {
			fmt.Fprintf(stderr, "aigateway keys %s: give exactly one key id or name\n", cmd)
			return "", false
		}
		return positional[0], true
	}
	switch cmd {
	case "create":
		if len(positional) > 0 {
			fmt.Fprintf(stderr, "aigateway keys create: unexpected argument %q (the name goes in --name)\n", positional[0])
			return 2
		}
		p, err := createParams(f, set)
		if err != nil {
			fmt.Fprintf(stderr, "aigateway keys create: %v\n", err)
			return 2
		}
		k, err := svc.Create(ctx, p)
		if err != nil {
			return fail(stderr, cmd, err)
		}
		if f.json {
			out.print(k)
			return 0
		}
		fmt.Fprintln(stdout, k.Secret)
		fmt.Fprintf(stderr, "\nCreated key %s (%q). The key is printed above: store it now, it is shown only this once.\n", k.ID, k.Name)
		return 0
	case "list":
		list, err := svc.List(ctx, keys.ListOptions{Tenant: f.tenant, Name: f.name, IncludeRevoked: f.all, Limit: f.limit, Offset: f.offset})
		if err != nil {
			return fail(stderr, cmd, err)
		}
		out.list(list)
		return 0
	case "show", "revoke":
		ref, ok := needRef()
		if !ok {
			return 2
		}
		var v *keys.View
		if cmd == "show" {
			v, err = svc.Get(ctx, ref)
		} else {
			v, err = svc.Revoke(ctx, ref)
		}
		if err != nil {
			return fail(stderr, cmd, err)
		}
		out.view(v)
		return 0
	case "update":
		ref, ok := needRef()
		if !ok {
			return 2
		}
		p, err := patchOf(f, set)
		if err != nil {
			fmt.Fprintf(stderr, "aigateway keys update: %v\n", err)
			return 2
		}
		v, err := svc.Update(ctx, ref, p)
		if err != nil {
			return fail(stderr, cmd, err)
		}
		out.view(v)
		return 0
	}
	fmt.Fprintf(stderr, "aigateway keys: unknown command %q\n\n%s", cmd, keysUsage)
	return 2
}

// keyService is the admin API client with --url, else the store.
func keyService(f keysFlags, getenv func(string) string) (keys.Service, func(), error) {
	if f.url != "" {
		if f.token == "" {
			return nil, nil, errors.New("--url needs the admin token (--admin-token or AIGATEWAY_ADMIN_TOKEN)")
		}
		return &keys.Client{URL: f.url, Token: f.token}, func() {}, nil
	}
	cfg, err := loadServeConfig(serveFlags{config: f.config, dataDir: f.dataDir}, getenv)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, done, err := app.OpenKeyManager(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return m, done, nil
}

func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "aigateway keys %s: %v\n", cmd, err)
	return 1
}

func createParams(f keysFlags, set map[string]bool) (keys.Params, error) {
	p := keys.Params{
		Name: f.name, Tenant: f.tenant, Models: splitList(f.models), Providers: splitList(f.providers),
		AllowIPs: splitList(f.allowIPs), DenyIPs: splitList(f.denyIPs), RPM: f.rpm, TPM: f.tpm,
		BudgetUSD: f.budgetUSD, BudgetPeriod: f.budgetPeriod, Metadata: f.metadata,
	}
	if set["enabled"] {
		p.Enabled = &f.enabled
	}
	if f.expires != "" {
		t, err := parseExpires(f.expires, time.Now())
		if err != nil {
			return p, err
		}
		if t.IsZero() {
			return p, errors.New("--expires never is the default for a new key")
		}
		p.ExpiresAt = &t
	}
	return p, nil
}

func patchOf(f keysFlags, set map[string]bool) (keys.Patch, error) {
	var p keys.Patch
	str := func(name string, v string) *string {
		if set[name] {
			return &v
		}
		return nil
	}
	list := func(name, v string) *[]string {
		if set[name] {
			l := splitList(v)
			return &l
		}
		return nil
	}
	p.Name, p.Tenant, p.BudgetPeriod = str("name", f.name), str("tenant", f.tenant), str("budget-period", f.budgetPeriod)
	p.Models, p.Providers = list("models", f.models), list("providers", f.providers)
	p.AllowIPs, p.DenyIPs = list("allow-ips", f.allowIPs), list("deny-ips", f.denyIPs)
	if set["rpm"] {
		p.RPM = &f.rpm
	}
	if set["tpm"] {
		p.TPM = &f.tpm
	}
	if set["budget-usd"] {
		p.BudgetUSD = &f.budgetUSD
	}
	if set["enabled"] {
		p.Enabled = &f.enabled
	}
	if set["metadata"] {
		m := map[string]string(f.metadata)
		p.Metadata = &m
	}
	if set["expires"] {
		t, err := parseExpires(f.expires, time.Now())
		if err != nil {
			return p, err
		}
		p.ExpiresAt = keys.OptionalTime{Set: true, Time: t}
	}
	changed := false
	for _, name := range []string{"name", "tenant", "models", "providers", "allow-ips", "deny-ips", "rpm", "tpm",
		"budget-usd", "budget-period", "expires", "metadata", "enabled"} {
		changed = changed || set[name]
	}
	if !changed {
		return p, errors.New("nothing to change: give at least one key flag")
	}
	return p, nil
}

// parseExpires reads an RFC 3339 time, a date (midnight UTC), a duration
// from now ("30d", "2w", "12h", "90m") or "never" (the zero time).
func parseExpires(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "never" || s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d > 0 {
			return now.AddDate(0, 0, d).UTC(), nil
		}
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		if w, err := strconv.Atoi(n); err == nil && w > 0 {
			return now.AddDate(0, 0, 7*w).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("--expires %q: want an RFC 3339 time, a date (2026-01-31), a duration (30d, 12h) or never", s)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// keysOutput prints views as text or JSON.
type keysOutput struct {
	w    io.Writer
	json bool
}

func (o keysOutput) print(v any) {
	enc := json.NewEncoder(o.w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (o keysOutput) list(list []keys.View) {
	if o.json {
		o.print(list)
		return
	}
	tw := tabwriter.NewWriter(o.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTENANT\tPREFIX\tSTATUS\tMODELS\tRPM\tTPM\tBUDGET\tEXPIRES\tLAST USED")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, dash(k.Tenant), k.Prefix+"…", k.Status,
			dash(strings.Join(k.Models, ",")), limit(k.RPM), limit(k.TPM), budgetText(k), when(k.ExpiresAt), when(k.LastUsedAt))
	}
	tw.Flush()
}

func (o keysOutput) view(k *keys.View) {
	if o.json {
		o.print(k)
		return
	}
	tw := tabwriter.NewWriter(o.w, 0, 4, 2, ' ', 0)
	row := func(name, v string) { fmt.Fprintf(tw, "%s:\t%s\n", name, v) }
	row("id", k.ID)
	row("name", k.Name)
	row("status", k.Status)
	row("source", k.Source)
	row("tenant", dash(k.Tenant))
	row("prefix", k.Prefix+"…")
	row("models", dash(strings.Join(k.Models, ", ")))
	row("providers", dash(strings.Join(k.Providers, ", ")))
	row("allow ips", dash(strings.Join(k.AllowIPs, ", ")))
	row("deny ips", dash(strings.Join(k.DenyIPs, ", ")))
	row("rpm", limit(k.RPM))
	row("tpm", limit(k.TPM))
	row("budget", budgetText(*k))
	row("expires", when(k.ExpiresAt))
	var meta []string
	for mk, mv := range k.Metadata {
		meta = append(meta, mk+"="+mv)
	}
	sort.Strings(meta)
	row("metadata", dash(strings.Join(meta, ", ")))
	row("created", when(&k.CreatedAt))
	row("updated", when(&k.UpdatedAt))
	row("last used", when(k.LastUsedAt))
	if k.RevokedAt != nil {
		row("revoked", when(k.RevokedAt))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func limit(n int64) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

func budgetText(k keys.View) string {
	if k.BudgetUSD == 0 {
		return "-"
	}
	return fmt.Sprintf("$%.2f/%s", k.BudgetUSD, k.BudgetPeriod)
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
