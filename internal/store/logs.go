package store

import (
	"context"

	"github.com/aigateway/aigateway/internal/usage"
)

// LogStore keeps request log records. Listing is newest first with an
// opaque cursor; every query takes the same usage.Filter.
type LogStore interface {
	// InsertLogs stores a batch; records whose id is already stored are
	// skipped, so replays never duplicate.
	InsertLogs(ctx context.Context, recs []*usage.Record) error
	// ListLogs returns one page of matching records.
	ListLogs(ctx context.Context, f usage.Filter, o usage.ListOptions) (usage.Page, error)
	// Log returns one record with its bodies, or ErrNotFound.
	Log(ctx context.Context, id string) (*usage.Record, error)
	// DeleteLogs deletes the matching records and says how many.
	DeleteLogs(ctx context.Context, f usage.Filter) (int64, error)
	// SetFeedback updates a record's feedback, or returns ErrNotFound.
	SetFeedback(ctx context.Context, id string, fb usage.FeedbackUpdate) error
	// PruneLogs applies a retention policy and says how many records went.
	PruneLogs(ctx context.Context, r usage.Retention) (int64, error)
	// Analytics aggregates the matching records per bucket and group.
	Analytics(ctx context.Context, q usage.AnalyticsQuery) ([]usage.AnalyticsRow, error)
}
