// Package observability sets up the gateway's own telemetry: the structured
// operator log (log/slog), and — as they land — Prometheus metrics and
// OpenTelemetry traces.
package observability

import (
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns a slog logger writing text or JSON at the given level.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
