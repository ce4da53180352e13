package app

import (
	"context"
	"errors"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/admin"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/usage"
)

// The admin API's log and analytics services, backed by the process-wide
// log store.

func (rt *Runtime) logStore() (store.LogStore, error) {
	if rt.obs.Logs == nil {
		return nil, gwerr.New(gwerr.KindGateway, 503, "request logs are not available")
	}
	return rt.obs.Logs, nil
}

// storeError turns a store failure into the API's error.
func storeError(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return gwerr.NotFound("log_not_found", "no log record with id %q", id)
	case errors.Is(err, context.Canceled):
		return gwerr.As(err)
	}
	return gwerr.Internal(err)
}

// ListLogs implements admin.LogsService.
func (rt *Runtime) ListLogs(ctx context.Context, f usage.Filter, o usage.ListOptions) (usage.Page, error) {
	s, err := rt.logStore()
	if err != nil {
		return usage.Page{}, err
	}
	p, err := s.ListLogs(ctx, f, o)
	return p, storeError(err, "")
}

// Log implements admin.LogsService.
func (rt *Runtime) Log(ctx context.Context, id string) (*usage.Record, error) {
	s, err := rt.logStore()
	if err != nil {
		return nil, err
	}
	r, err := s.Log(ctx, id)
	return r, storeError(err, id)
}

// DeleteLogs implements admin.LogsService.
func (rt *Runtime) DeleteLogs(ctx context.Context, f usage.Filter) (int64, error) {
	s, err := rt.logStore()
	if err != nil {
		return 0, err
	}
	n, err := s.DeleteLogs(ctx, f)
	return n, storeError(err, "")
}

// SetFeedback implements admin.LogsService.
func (rt *Runtime) SetFeedback(ctx context.Context, id string, fb usage.FeedbackUpdate) error {
	s, err := rt.logStore()
	if err != nil {
		return err
	}
	return storeError(s.SetFeedback(ctx, id, fb), id)
}

// Analytics implements admin.AnalyticsService.
func (rt *Runtime) Analytics(ctx context.Context, q usage.AnalyticsQuery) ([]usage.AnalyticsRow, error) {
	s, err := rt.logStore()
	if err != nil {
		return nil, err
	}
	rows, err := s.Analytics(ctx, q)
	return rows, storeError(err, "")
}

var (
	_ admin.LogsService      = (*Runtime)(nil)
	_ admin.AnalyticsService = (*Runtime)(nil)
)
