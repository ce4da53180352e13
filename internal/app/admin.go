package app

import (
	"go.yaml.in/yaml/v3"

	"github.com/aigateway/aigateway/internal/httpapi/admin"
)

// AdminToken implements admin.Backend.
func (rt *Runtime) AdminToken() string { return rt.cfg.Admin.Token }

// ProviderInfo implements admin.Backend.
func (rt *Runtime) ProviderInfo() []admin.ProviderInfo {
	var out []admin.ProviderInfo
	enabled := map[string]bool{}
	for _, id := range rt.registry.IDs() {
		enabled[id] = true
	}
	for _, p := range rt.cfg.Providers {
		if enabled[p.ID] {
			out = append(out, admin.ProviderInfo{ID: p.ID, Type: p.Type, BaseURL: p.BaseURL, Models: p.Models})
		}
	}
	return out
}

// secretKeys are config fields whose values never leave the process.
var secretKeys = map[string]bool{
	"api_key": true, "token": true, "secret_access_key": true, "session_token": true,
	"access_key_id": true, "password": true, "dsn": true, "url": true, "secret": true,
}

// RedactedConfig implements admin.Backend: the effective config as JSON
// objects with every secret-bearing field replaced.
func (rt *Runtime) RedactedConfig() any {
	b, err := yaml.Marshal(rt.cfg)
	if err != nil {
		return map[string]string{"error": "config could not be rendered"}
	}
	var tree any
	if err := yaml.Unmarshal(b, &tree); err != nil {
		return map[string]string{"error": "config could not be rendered"}
	}
	return redact(tree)
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && secretKeys[k] && s != "" {
				x[k] = "[redacted]"
				continue
			}
			if k == "headers" {
				if hm, ok := val.(map[string]any); ok {
					for hk := range hm {
						hm[hk] = "[redacted]"
					}
					continue
				}
			}
			x[k] = redact(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
		return x
	}
	return v
}

var _ admin.Backend = (*Runtime)(nil)
