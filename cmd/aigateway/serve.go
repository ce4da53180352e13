package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/aigateway/aigateway/internal/app"
	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/observability"
)

// serveFlags are the flags of "serve"; each falls back to its environment
// variable, then to the config file, then to the default.
type serveFlags struct {
	config, listen, dataDir string
	allowUnauthenticated    bool
}

func parseServeFlags(args []string, stderr io.Writer, getenv func(string) string) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", getenv("AIGATEWAY_CONFIG"), "YAML config `file` (env AIGATEWAY_CONFIG); none = zero-config mode")
	fs.StringVar(&f.listen, "listen", getenv("AIGATEWAY_LISTEN"), "listen `address` (env AIGATEWAY_LISTEN, default 127.0.0.1:8080)")
	fs.StringVar(&f.dataDir, "data-dir", getenv("AIGATEWAY_DATA_DIR"), "data `directory` for the embedded store (env AIGATEWAY_DATA_DIR, default ./aigateway-data)")
	fs.BoolVar(&f.allowUnauthenticated, "allow-unauthenticated", false, "serve without gateway keys on a non-loopback address")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// loadServeConfig loads the config and applies flag and environment
// overrides.
func loadServeConfig(f serveFlags, getenv func(string) string) (*config.Config, error) {
	cfg, err := config.Load(f.config, getenv)
	if err != nil {
		return nil, err
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if f.allowUnauthenticated {
		cfg.AllowUnauthenticated = true
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

func runServe(args []string, stderr io.Writer, getenv func(string) string) int {
	f, err := parseServeFlags(args, stderr, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "aigateway serve: %v\n", err)
		return 2
	}
	cfg, err := loadServeConfig(f, getenv)
	if err != nil {
		name := f.config
		if name == "" {
			name = "configuration"
		}
		printConfigError(stderr, name, err)
		return 1
	}
	log := observability.NewLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	g, err := app.New(cfg, app.Deps{Log: log, Version: version})
	if err != nil {
		fmt.Fprintf(stderr, "aigateway serve: %v\n", err)
		return 1
	}
	defer g.Close()
	// checked once the stores are open: keys may live there
	if err := app.CheckExposure(cfg, g.Runtime().AuthRequired()); err != nil {
		fmt.Fprintf(stderr, "aigateway serve: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "aigateway serve: %v\n", err)
		return 1
	}
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout.D(),
		IdleTimeout:       cfg.Server.IdleTimeout.D(),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("aigateway listening", "addr", ln.Addr().String(), "version", version,
		"providers", g.Runtime().Providers(), "config", f.config)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case err := <-serveErr:
			log.Error("server stopped", "error", err)
			return 1
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reload(g, f, getenv, log)
				continue
			}
			return shutdown(srv, g, cfg, log)
		}
	}
}

// reload re-reads the config file and swaps the runtime; a bad file is
// reported and the running config stays.
func reload(g *app.Gateway, f serveFlags, getenv func(string) string, log *slog.Logger) {
	cfg, err := loadServeConfig(f, getenv)
	if err == nil {
		err = g.Reload(cfg, cfg.Server.ShutdownTimeout.D())
	}
	if err != nil {
		log.Error("reload failed; keeping the running configuration", "error", err)
		return
	}
	log.Info("configuration reloaded", "providers", g.Runtime().Providers())
}

// shutdown stops accepting, lets in-flight requests and streams finish
// within the configured deadline, then cuts what is left. Only then is the
// gateway closed: every answered request's log record is queued by now,
// and Close writes the queue to the store (or the spill file).
func shutdown(srv *http.Server, g *app.Gateway, cfg *config.Config, log *slog.Logger) int {
	log.Info("shutting down", "deadline", cfg.Server.ShutdownTimeout.D().String())
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.D())
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("deadline reached; closing remaining connections", "error", err)
		_ = srv.Close()
	}
	if err := g.Close(); err != nil {
		log.Error("closing the gateway", "error", err)
	}
	log.Info("stopped")
	return 0
}
