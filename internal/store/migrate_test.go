package store_test

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/store/storetest"
)

// migrator is what both backends offer.
type migrator interface {
	Migrate(ctx context.Context, component string, migrations []string) error
}

func TestMigrationsRunOnceAndInOrder(t *testing.T) {
	backends := map[string]func(t *testing.T) (migrator, func(q string) int){
		"sqlite": func(t *testing.T) (migrator, func(string) int) {
			db := storetest.SQLite(t)
			return db, func(q string) int {
				var n int
				if err := db.QueryRow(q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
		},
		"postgres": func(t *testing.T) (migrator, func(string) int) {
			db := storetest.Postgres(t)
			return db, func(q string) int {
				var n int
				if err := db.QueryRow(context.Background(), q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			db, count := open(t)
			ctx := context.Background()
			m := []string{
				`CREATE TABLE widgets (id INTEGER PRIMARY KEY)`,
				`INSERT INTO widgets (id) VALUES (1)`,
			}
			for i := 0; i < 2; i++ {
				if err := db.Migrate(ctx, "widgets", m); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(`SELECT COUNT(*) FROM widgets`); n != 1 {
				t.Fatalf("migration ran %d times", n)
			}
			m = append(m, `INSERT INTO widgets (id) VALUES (2)`)
			if err := db.Migrate(ctx, "widgets", m); err != nil {
				t.Fatal(err)
			}
			if n := count(`SELECT COUNT(*) FROM widgets`); n != 2 {
				t.Fatalf("appended migration: %d rows", n)
			}
			if err := db.Migrate(ctx, "broken", []string{`NOT SQL`}); err == nil {
				t.Fatal("a bad migration must fail")
			}
		})
	}
}
