package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/sqlite"
	"github.com/aigateway/aigateway/internal/store/storetest"
	"github.com/aigateway/aigateway/internal/usage"
)

func TestLogStoreContract(t *testing.T) {
	storetest.TestLogStore(t, func(t *testing.T) store.LogStore {
		s, err := sqlite.NewLogStore(context.Background(), storetest.SQLite(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Batches of any size go through the prepared chunks, and a batch
// replayed (with new records among the old) adds only the new ones.
func TestInsertLogsChunksAndReplays(t *testing.T) {
	db := storetest.SQLite(t)
	s, err := sqlite.NewLogStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	var recs []*usage.Record
	for i := range 359 {
		r := storetest.FullRecord(fmt.Sprintf("log-%04d", i), base.Add(time.Duration(i)*time.Millisecond))
		r.Metadata = map[string]any{"team": fmt.Sprintf("t%d", i%3), "n": float64(i)}
		recs = append(recs, r)
	}
	ctx := context.Background()
	if err := s.InsertLogs(ctx, recs[:339]); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertLogs(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var logs, md int
	if err := db.QueryRow("SELECT (SELECT COUNT(*) FROM aig_logs), (SELECT COUNT(*) FROM aig_log_metadata)").Scan(&logs, &md); err != nil {
		t.Fatal(err)
	}
	if logs != 359 || md != 2*359 {
		t.Fatalf("%d logs and %d metadata rows, want 359 and %d", logs, md, 2*359)
	}
	page, err := s.ListLogs(ctx, usage.Filter{Metadata: map[string]string{"n": "358"}}, usage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 || page.Records[0].ID != "log-0358" {
		t.Fatalf("metadata filter found %d records", len(page.Records))
	}
}
