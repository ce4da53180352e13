package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Validate returns every problem in a defaulted config. It is pure: no I/O,
// no environment.
func (c *Config) Validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if c.Server.MaxBodyBytes < 1024 {
		add("server.max_body_bytes", "must be at least 1024")
	}
	if c.Server.MaxMetadataEntries < 1 || c.Server.MaxMetadataEntries > 1000 {
		add("server.max_metadata_entries", "must be from 1 to 1000")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "must be debug, info, warn or error")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "must be text or json")
	}
	if c.Retry.MaxAttempts < 1 || c.Retry.MaxAttempts > 10 {
		add("retry.max_attempts", "must be from 1 to 10")
	}
	switch c.Retry.Backoff {
	case "constant", "linear", "exponential":
	default:
		add("retry.backoff", "must be constant, linear or exponential")
	}

	errs = append(errs, c.Storage.validate()...)
	errs = append(errs, c.Redis.validate()...)
	errs = append(errs, c.Cache.validate(c)...)
	errs = append(errs, c.validateAccess()...)
	errs = append(errs, c.Logs.validate()...)
	errs = append(errs, c.Pricing.validate()...)
	errs = append(errs, c.OTel.validate()...)

	ids := map[string]bool{}
	for i := range c.Providers {
		p := &c.Providers[i]
		path := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.ID == "":
			add(path+".id", "is required")
		case !validID(p.ID):
			add(path+".id", "must be lower-case letters, digits and '-'")
		case reservedIDs[p.ID]:
			add(path+".id", "%q is reserved for the gateway's own paths", p.ID)
		case ids[p.ID]:
			add(path+".id", "%q is configured twice", p.ID)
		}
		ids[p.ID] = true
		errs = append(errs, p.validate(path)...)
	}

	errs = append(errs, c.validateRouting(ids)...)
	errs = append(errs, c.validateGuardrails(ids)...)
	errs = append(errs, c.validatePrompts(ids)...)
	return errs
}

// reservedIDs are first path segments the gateway serves itself, so no
// provider may take them for passthrough.
var reservedIDs = map[string]bool{
	"v1": true, "compat": true, "admin": true, "ui": true, "metrics": true,
	"healthz": true, "readyz": true, "debug": true,
}

func validID(s string) bool {
	for _, c := range s {
		if c != '-' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

var knownTypes = map[string]bool{
	TypeOpenAI: true, TypeAzure: true, TypeAnthropic: true, TypeGemini: true,
	TypeWorkersAI: true, TypeBedrock: true,
}

func (p *Provider) validate(path string) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Path: path + "." + field, Msg: fmt.Sprintf(format, args...)})
	}
	if !knownTypes[p.Type] {
		add("type", "unknown type %q (one of openai, azure-openai, anthropic, google-ai-studio, workers-ai, aws-bedrock)", p.Type)
	}
	if p.BaseURL == "" {
		add("base_url", "is required for this provider")
	} else if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("base_url", "not a URL (must be http:// or https:// with a host)")
	} else if strings.Contains(p.BaseURL, "{") {
		add("base_url", "has an unfilled placeholder; set account_id or region")
	}
	switch p.Type {
	case TypeWorkersAI:
		if p.AccountID == "" && strings.Contains(p.BaseURL, "/accounts//") {
			add("account_id", "is required (or set CLOUDFLARE_ACCOUNT_ID)")
		}
	case TypeBedrock:
		if p.Region == "" {
			add("region", "is required (or set AWS_REGION)")
		}
		if p.AccessKeyID == "" || p.SecretAccessKey == "" {
			add("access_key_id", "and secret_access_key are required (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
		}
	}
	for k := range p.Headers {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " :\r\n") {
			add("headers."+k, "is not a valid header name")
		}
	}
	return errs
}
