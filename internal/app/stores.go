package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/sqlite"
)

// Stores are the process-wide state backends, opened once at start (a
// reload does not reconnect; changing storage needs a restart). Exactly one
// of SQLite and Postgres is set; Redis is optional.
type Stores struct {
	SQLite   *sqlite.DB
	Postgres *postgres.DB
	Redis    *redis.Client

	prompts  promptStoreOnce
	cache    cacheHolder // the response cache's process-wide state (cache.go)
	accessMu sync.Mutex
	acc      *accessState // keys, limits, budgets (access.go)
}

// OpenStores connects the backends the config names.
func OpenStores(ctx context.Context, cfg *config.Config) (*Stores, error) {
	s := &Stores{}
	var err error
	switch cfg.Storage.Driver {
	case config.DriverPostgres:
		s.Postgres, err = postgres.Open(ctx, cfg.Storage.DSN)
	default:
		s.SQLite, err = sqlite.Open(ctx, filepath.Clean(cfg.DataDir))
	}
	if err != nil {
		return nil, fmt.Errorf("opening storage: %w", err)
	}
	if cfg.Redis.URL != "" {
		opts, err := redis.ParseURL(cfg.Redis.URL)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("redis.url: invalid URL") // may carry a password: not echoed
		}
		// bound every operation by its caller's context, so a hung Redis
		// costs a request its own timeout, not the client's 3s default
		opts.ContextTimeoutEnabled = true
		s.Redis = redis.NewClient(opts)
	}
	return s, nil
}

// Ping checks every backend.
func (s *Stores) Ping(ctx context.Context) error {
	var errs []error
	if s.SQLite != nil {
		if err := s.SQLite.PingContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: %w", err))
		}
	}
	if s.Postgres != nil {
		if err := s.Postgres.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("postgres: %w", err))
		}
	}
	if s.Redis != nil {
		if err := s.Redis.Ping(ctx).Err(); err != nil {
			errs = append(errs, fmt.Errorf("redis: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Close closes every backend.
func (s *Stores) Close() error {
	s.closeAccess()
	errs := []error{s.cache.close()}
	if s.SQLite != nil {
		errs = append(errs, s.SQLite.Close())
	}
	if s.Postgres != nil {
		s.Postgres.Close()
	}
	if s.Redis != nil {
		errs = append(errs, s.Redis.Close())
	}
	return errors.Join(errs...)
}
