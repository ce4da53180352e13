package admin

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/usage"
)

// LogsService reads and manages the request log. Errors are gateway
// errors (a missing log is a 404).
type LogsService interface {
	ListLogs(ctx context.Context, f usage.Filter, o usage.ListOptions) (usage.Page, error)
	Log(ctx context.Context, id string) (*usage.Record, error)
	DeleteLogs(ctx context.Context, f usage.Filter) (int64, error)
	SetFeedback(ctx context.Context, id string, fb usage.FeedbackUpdate) error
}

// AnalyticsService aggregates the request log.
type AnalyticsService interface {
	Analytics(ctx context.Context, q usage.AnalyticsQuery) ([]usage.AnalyticsRow, error)
}

// logRoutes mounts the log and analytics endpoints.
func (a *api) logRoutes(handle func(pattern string, h http.HandlerFunc)) {
	handle("GET /logs", a.listLogs)
	handle("DELETE /logs", a.deleteLogs)
	handle("GET /logs/export", a.exportLogs)
	handle("GET /logs/{id}", a.getLog)
	handle("POST /logs/{id}/feedback", a.logFeedback)
	handle("GET /analytics", a.analytics)
}

func (a *api) logs(w http.ResponseWriter) (LogsService, bool) {
	s, ok := a.src().(LogsService)
	if !ok {
		WriteError(w, gwerr.NotFound("unknown_endpoint", "request logs are not available in this gateway"))
	}
	return s, ok
}

// listParams are the non-filter parameters of listings and exports.
var listParams = []string{"limit", "cursor", "payloads", "format"}

// parseList reads the filter and the page options of a listing.
func parseList(r *http.Request) (usage.Filter, usage.ListOptions, error) {
	q := r.URL.Query()
	f, err := usage.ParseFilter(q, time.Now(), listParams...)
	if err != nil {
		return f, usage.ListOptions{}, gwerr.BadRequest("", "%v", err)
	}
	var o usage.ListOptions
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > usage.MaxPageSize {
			return f, o, gwerr.BadRequest("limit", "limit must be a whole number from 1 to %d", usage.MaxPageSize)
		}
		o.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		if _, err := usage.DecodeCursor(v); err != nil {
			return f, o, gwerr.BadRequest("cursor", "cursor is not one this API returned")
		}
		o.Cursor = v
	}
	if v := q.Get("payloads"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, o, gwerr.BadRequest("payloads", "payloads must be true or false")
		}
		o.Payloads = b
	}
	return f, o, nil
}

// GET /admin/v1/logs: a page of records, newest first, with next_cursor.
func (a *api) listLogs(w http.ResponseWriter, r *http.Request) {
	s, ok := a.logs(w)
	if !ok {
		return
	}
	f, o, err := parseList(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	page, err := s.ListLogs(r.Context(), f, o)
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, page)
}

// GET /admin/v1/logs/{id}: one record with its bodies.
func (a *api) getLog(w http.ResponseWriter, r *http.Request) {
	s, ok := a.logs(w)
	if !ok {
		return
	}
	rec, err := s.Log(r.Context(), r.PathValue("id"))
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, rec)
}

// DELETE /admin/v1/logs?FILTER: deletes what the filter selects. An empty
// filter must say all=true, so a forgotten parameter never wipes the log.
func (a *api) deleteLogs(w http.ResponseWriter, r *http.Request) {
	s, ok := a.logs(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	f, err := usage.ParseFilter(q, time.Now(), "all")
	if err != nil {
		WriteError(w, gwerr.BadRequest("", "%v", err))
		return
	}
	if f.IsZero() && q.Get("all") != "true" {
		WriteError(w, gwerr.BadRequest("", "refusing to delete every log record: give a filter, or all=true"))
		return
	}
	n, err := s.DeleteLogs(r.Context(), f)
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]int64{"deleted": n})
}

// POST /admin/v1/logs/{id}/feedback: {"feedback":-1|0|1,"score":0-100,
// "comment":"…"}, any subset; answers with the updated record.
func (a *api) logFeedback(w http.ResponseWriter, r *http.Request) {
	s, ok := a.logs(w)
	if !ok {
		return
	}
	var fb usage.FeedbackUpdate
	if err := DecodeBody(r, &fb); err != nil {
		WriteError(w, err)
		return
	}
	if err := fb.Validate(); err != nil {
		WriteError(w, gwerr.BadRequest("", "%v", err))
		return
	}
	id := r.PathValue("id")
	if err := s.SetFeedback(r.Context(), id, fb); err != nil {
		WriteError(w, err)
		return
	}
	rec, err := s.Log(r.Context(), id)
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, rec)
}

// exportPage is how many records an export reads at a time.
const exportPage = 500

// GET /admin/v1/logs/export?format=jsonl|csv&FILTER: every matching
// record, newest first, streamed page by page (memory stays flat however
// large the export). payloads=true adds the bodies.
func (a *api) exportLogs(w http.ResponseWriter, r *http.Request) {
	s, ok := a.logs(w)
	if !ok {
		return
	}
	f, o, err := parseList(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" {
		WriteError(w, gwerr.BadRequest("format", "format must be jsonl or csv"))
		return
	}
	o.Limit = exportPage
	page, err := s.ListLogs(r.Context(), f, o)
	if err != nil {
		WriteError(w, err) // before anything is written: a proper error response
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	name := "aigateway-logs-" + time.Now().UTC().Format("20060102T150405Z")
	var write func(*usage.Record) error
	var cw *csv.Writer
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		cw = csv.NewWriter(w)
		_ = cw.Write(usage.CSVHeader(o.Payloads))
		write = func(rec *usage.Record) error { return cw.Write(rec.CSVRow(o.Payloads)) }
	} else {
		h.Set("Content-Type", "application/x-ndjson")
		h.Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		enc := json.NewEncoder(w)
		write = func(rec *usage.Record) error { return enc.Encode(rec) }
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for {
		for _, rec := range page.Records {
			if err := write(rec); err != nil {
				return // the client went away
			}
		}
		if cw != nil {
			cw.Flush()
		}
		_ = rc.Flush()
		if page.NextCursor == "" {
			return
		}
		o.Cursor = page.NextCursor
		if page, err = s.ListLogs(r.Context(), f, o); err != nil {
			// Headers are gone: the truncated export ends without its
			// last line, and the operator's log says why.
			a.log.Error("log export failed midway", "error", err)
			return
		}
	}
}

// GET /admin/v1/analytics?interval=&group_by=&FILTER: aggregates per time
// bucket and group.
func (a *api) analytics(w http.ResponseWriter, r *http.Request) {
	s, ok := a.src().(AnalyticsService)
	if !ok {
		WriteError(w, gwerr.NotFound("unknown_endpoint", "analytics are not available in this gateway"))
		return
	}
	q, err := usage.ParseAnalytics(r.URL.Query(), time.Now())
	if err != nil {
		WriteError(w, gwerr.BadRequest("", "%v", err))
		return
	}
	rows, err := s.Analytics(r.Context(), q)
	if err != nil {
		WriteError(w, err)
		return
	}
	if rows == nil {
		rows = []usage.AnalyticsRow{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"data": rows})
}
