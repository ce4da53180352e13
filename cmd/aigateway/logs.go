package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aigateway/aigateway/internal/app"
	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/httpapi/admin"
	logusage "github.com/aigateway/aigateway/internal/usage"
)

const logsUsage = `usage:
  aigateway logs query [SOURCE] [FILTERS] [--limit N] [--cursor C] [--payloads] [--json]
  aigateway logs tail  [SOURCE] [FILTERS] [--interval 1s] [--window 2m] [--json]

SOURCE: the store of --config FILE / --data-dir DIR (env AIGATEWAY_CONFIG,
AIGATEWAY_DATA_DIR), or a running gateway: --url URL --admin-token TOKEN
(env AIGATEWAY_URL, AIGATEWAY_ADMIN_TOKEN).

FILTERS: --since/--until (RFC 3339, unix seconds, or a duration ago: 1h),
--key, --tenant, --user, --model, --provider, --status (429, 5xx, error,
success), --cache-status, --event-id, --metadata KEY=VALUE (repeatable).
`

// logReader is what both sources offer.
type logReader interface {
	ListLogs(ctx context.Context, f logusage.Filter, o logusage.ListOptions) (logusage.Page, error)
}

// metadataFlags collects repeated --metadata KEY=VALUE.
type metadataFlags []string

func (m *metadataFlags) String() string     { return strings.Join(*m, ",") }
func (m *metadataFlags) Set(v string) error { *m = append(*m, v); return nil }

type logsFlags struct {
	config, dataDir, url, token string
	filter                      map[string]*string
	metadata                    metadataFlags
	limit                       int
	cursor                      string
	payloads, json              bool
	interval, window            time.Duration
}

func parseLogsFlags(cmd string, args []string, stderr io.Writer, getenv func(string) string) (*logsFlags, error) {
	f := &logsFlags{filter: map[string]*string{}}
	fs := flag.NewFlagSet("logs "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, logsUsage) }
	fs.StringVar(&f.config, "config", getenv("AIGATEWAY_CONFIG"), "config `file` whose store to read")
	fs.StringVar(&f.dataDir, "data-dir", getenv("AIGATEWAY_DATA_DIR"), "data `directory` of the embedded store")
	fs.StringVar(&f.url, "url", getenv("AIGATEWAY_URL"), "a running gateway's `URL` (uses the admin API)")
	fs.StringVar(&f.token, "admin-token", getenv("AIGATEWAY_ADMIN_TOKEN"), "admin `token` for --url")
	for flagName, param := range map[string]string{
		"since": logusage.ParamSince, "until": logusage.ParamUntil, "key": logusage.ParamKey, "tenant": logusage.ParamTenant,
		"user": logusage.ParamUser, "model": logusage.ParamModel, "provider": logusage.ParamProvider, "status": logusage.ParamStatus,
		"cache-status": logusage.ParamCacheStatus, "event-id": logusage.ParamEventID,
	} {
		f.filter[param] = fs.String(flagName, "", "filter by "+flagName)
	}
	fs.Var(&f.metadata, "metadata", "filter by metadata `KEY=VALUE` (repeatable)")
	fs.BoolVar(&f.json, "json", false, "print JSON (one record per line for tail)")
	if cmd == "query" {
		fs.IntVar(&f.limit, "limit", 50, "most records to print (1-1000)")
		fs.StringVar(&f.cursor, "cursor", "", "continue after a previous page")
		fs.BoolVar(&f.payloads, "payloads", false, "include request and response bodies (with --json)")
	} else {
		fs.IntVar(&f.limit, "limit", 10, "recent records to print first")
		fs.DurationVar(&f.interval, "interval", time.Second, "how often to poll")
		fs.DurationVar(&f.window, "window", 2*time.Minute, "how far back to look for records written late (long streams)")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.limit < 1 || f.limit > logusage.MaxPageSize {
		return nil, fmt.Errorf("--limit must be from 1 to %d", logusage.MaxPageSize)
	}
	if cmd == "tail" && (f.interval < 100*time.Millisecond || f.window < f.interval) {
		return nil, fmt.Errorf("--interval must be at least 100ms and --window at least --interval")
	}
	return f, nil
}

// parseFilter validates the filter flags exactly as the admin API does.
func (f *logsFlags) parseFilter(now time.Time) (logusage.Filter, error) {
	q := url.Values{}
	for param, v := range f.filter {
		if *v != "" {
			q.Set(param, *v)
		}
	}
	for _, kv := range f.metadata {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return logusage.Filter{}, fmt.Errorf("--metadata takes KEY=VALUE, got %q", kv)
		}
		q.Set(logusage.ParamMetadataPrefix+k, v)
	}
	return logusage.ParseFilter(q, now)
}

// open returns the source the flags name.
func (f *logsFlags) open(ctx context.Context, getenv func(string) string) (logReader, func() error, error) {
	if f.url != "" {
		if f.token == "" {
			return nil, nil, errors.New("--url needs --admin-token (or AIGATEWAY_ADMIN_TOKEN)")
		}
		return &admin.Client{BaseURL: f.url, Token: f.token}, func() error { return nil }, nil
	}
	cfg, err := config.Load(f.config, getenv)
	if err != nil {
		return nil, nil, err
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	return app.OpenLogReader(ctx, cfg)
}

// runLogs handles "logs query" and "logs tail".
func runLogs(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || (args[0] != "query" && args[0] != "tail") {
		fmt.Fprint(stderr, logsUsage)
		return 2
	}
	cmd := args[0]
	f, err := parseLogsFlags(cmd, args[1:], stderr, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "aigateway logs %s: %v\n", cmd, err)
		return 2
	}
	filter, err := f.parseFilter(time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "aigateway logs %s: %v\n", cmd, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, closeSrc, err := f.open(ctx, getenv)
	if err != nil {
		if errs := (config.Errors{}); errors.As(err, &errs) {
			printConfigError(stderr, f.config, err)
			return 1
		}
		fmt.Fprintf(stderr, "aigateway logs %s: %v\n", cmd, err)
		return 1
	}
	defer closeSrc()
	if cmd == "query" {
		err = logsQuery(ctx, src, filter, f, stdout)
	} else {
		err = logsTail(ctx, src, filter, f, stdout)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "aigateway logs %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func logsQuery(ctx context.Context, src logReader, filter logusage.Filter, f *logsFlags, w io.Writer) error {
	page, err := src.ListLogs(ctx, filter, logusage.ListOptions{Limit: f.limit, Cursor: f.cursor, Payloads: f.payloads && f.json})
	if err != nil {
		return err
	}
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(page)
	}
	tw := newTable(w)
	for _, r := range page.Records {
		tableRow(tw, r)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.NextCursor != "" {
		fmt.Fprintf(w, "\nmore: --cursor %s\n", page.NextCursor)
	}
	return nil
}

// logsTail prints the latest records, then new ones as they are written.
// Records are written when their answer ends, so a poll looks back a
// window before the newest record seen and skips what it printed.
func logsTail(ctx context.Context, src logReader, filter logusage.Filter, f *logsFlags, w io.Writer) error {
	first, err := src.ListLogs(ctx, filter, logusage.ListOptions{Limit: f.limit})
	if err != nil {
		return err
	}
	seen := map[string]time.Time{}
	var newest time.Time
	var tw *tabwriter.Writer
	if !f.json {
		tw = newTable(w)
	}
	enc := json.NewEncoder(w)
	print := func(recs []*logusage.Record) error {
		sort.Slice(recs, func(i, j int) bool {
			if !recs[i].CreatedAt.Equal(recs[j].CreatedAt) {
				return recs[i].CreatedAt.Before(recs[j].CreatedAt)
			}
			return recs[i].ID < recs[j].ID
		})
		for _, r := range recs {
			seen[r.ID] = r.CreatedAt
			if r.CreatedAt.After(newest) {
				newest = r.CreatedAt
			}
			if f.json {
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				tableRow(tw, r)
			}
		}
		if tw != nil {
			return tw.Flush()
		}
		return nil
	}
	if err := print(first.Records); err != nil {
		return err
	}
	if newest.IsZero() {
		newest = time.Now()
	}
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		pf := filter
		from := newest.Add(-f.window)
		if pf.Since.Before(from) {
			pf.Since = from
		}
		var fresh []*logusage.Record
		o := logusage.ListOptions{Limit: logusage.MaxPageSize}
		for {
			page, err := src.ListLogs(ctx, pf, o)
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				if _, ok := seen[r.ID]; !ok {
					fresh = append(fresh, r)
				}
			}
			if page.NextCursor == "" {
				break
			}
			o.Cursor = page.NextCursor
		}
		if err := print(fresh); err != nil {
			return err
		}
		for id, t := range seen {
			if t.Before(from) {
				delete(seen, id)
			}
		}
	}
}

func newTable(w io.Writer) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tSTATUS\tPROVIDER\tMODEL\tTOKENS IN/OUT\tCOST USD\tLATENCY\tTTFT\tCACHE\tKEY\tID")
	return tw
}

func tableRow(tw io.Writer, r *logusage.Record) {
	model := r.ServedModel
	if model == "" {
		model = r.Model
	}
	tokens := fmt.Sprintf("%d/%d", r.InputTokens, r.OutputTokens)
	if r.Estimated {
		tokens += "~"
	}
	ttft := "-"
	if r.TTFTMS != nil {
		ttft = strconv.FormatInt(*r.TTFTMS, 10) + "ms"
	}
	status := strconv.Itoa(r.Status)
	if r.Error != "" && r.Status < 400 {
		status += "!"
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.6f\t%dms\t%s\t%s\t%s\t%s\n",
		r.CreatedAt.UTC().Format("2006-01-02 15:04:05.000"), status, dash(r.Provider), dash(model), tokens,
		r.CostUSD, r.DurationMS, ttft, dash(r.CacheStatus), dash(r.KeyName), r.ID)
}
