package config

import (
	"net/url"
	"strings"
)

// Storage drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Storage selects the persistent store (keys, logs, prompts …).
type Storage struct {
	// Driver is sqlite (default: a file in data_dir) or postgres.
	Driver string `yaml:"driver"`
	// DSN is the PostgreSQL connection string (postgres://user:pass@host/db).
	DSN string `yaml:"dsn"`
}

// Redis is the shared store for cache, rate limits and budgets across
// replicas; without it that state is in-memory per process.
type Redis struct {
	// URL is redis://[user:pass@]host:port/db; empty disables Redis.
	URL string `yaml:"url"`
}

func (s *Storage) defaults() {
	if s.Driver == "" {
		s.Driver = DriverSQLite
	}
}

func (s *Storage) validate() Errors {
	var errs Errors
	switch s.Driver {
	case DriverSQLite:
		if s.DSN != "" {
			errs = append(errs, FieldError{Path: "storage.dsn", Msg: "is only used with driver postgres"})
		}
	case DriverPostgres:
		if !strings.HasPrefix(s.DSN, "postgres://") && !strings.HasPrefix(s.DSN, "postgresql://") {
			errs = append(errs, FieldError{Path: "storage.dsn", Msg: "must be a postgres:// URL"})
		}
	default:
		errs = append(errs, FieldError{Path: "storage.driver", Msg: "must be sqlite or postgres"})
	}
	return errs
}

func (r *Redis) validate() Errors {
	if r.URL == "" {
		return nil
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return Errors{{Path: "redis.url", Msg: "must be a redis:// or rediss:// URL with a host"}}
	}
	return nil
}
