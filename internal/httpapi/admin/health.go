package admin

import (
	"net/http"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// HealthService reports the health of upstream deployments: circuit
// breaker state and recent load.
type HealthService interface {
	DeploymentHealth() []DeploymentHealth
}

// DeploymentHealth is one upstream deployment as routing sees it.
type DeploymentHealth struct {
	Deployment string `json:"deployment"`
	Provider   string `json:"provider,omitempty"`
	Model      string `json:"model,omitempty"`
	// State is closed, open or half_open.
	State               string     `json:"state"`
	Requests            uint32     `json:"requests"`
	Failures            uint32     `json:"failures"`
	ConsecutiveFailures uint32     `json:"consecutive_failures"`
	OpenedAt            *time.Time `json:"opened_at,omitempty"`
	RetryAt             *time.Time `json:"retry_at,omitempty"`
	InFlight            int64      `json:"in_flight"`
	// LatencyMS and FirstEventMS are moving averages of the time to a
	// complete answer and to a stream's first event.
	LatencyMS         *float64 `json:"latency_ms,omitempty"`
	FirstEventMS      *float64 `json:"first_event_ms,omitempty"`
	RequestsPerMinute float64  `json:"requests_per_minute"`
	TokensPerMinute   float64  `json:"tokens_per_minute"`
	RPM               int64    `json:"rpm,omitempty"`
	TPM               int64    `json:"tpm,omitempty"`
}

func (a *api) health(w http.ResponseWriter, r *http.Request) {
	hs, ok := a.src().(HealthService)
	if !ok {
		WriteError(w, gwerr.NotFound("unknown_endpoint", "provider health is not available in this build"))
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"data": hs.DeploymentHealth()})
}
