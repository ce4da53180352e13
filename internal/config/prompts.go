package config

import (
	"fmt"
	"strings"

	"github.com/aigateway/aigateway/internal/prompt"
)

// PromptTemplate is a prompt template declared in the file, served as
// POST /v1/prompts/{name}. Templates created through the admin API live in
// the store; a name declared here cannot be changed there.
type PromptTemplate struct {
	Name string `yaml:"name"`
	// Version of this declaration (default 1); declare a name several
	// times with different versions to keep old ones callable.
	Version int `yaml:"version"`
	// Model is "provider/model", an alias or a route.
	Model       string          `yaml:"model"`
	Description string          `yaml:"description"`
	Messages    []PromptMessage `yaml:"messages"`
	// Params are further chat request members (temperature, max_tokens,
	// response_format …).
	Params map[string]any `yaml:"params"`
	// Defaults make variables optional.
	Defaults map[string]string `yaml:"defaults"`
}

// PromptMessage is one templated message; {{name}} marks a variable.
type PromptMessage struct {
	Role    string `yaml:"role"`
	Content string `yaml:"content"`
}

// Template converts the declaration.
func (p *PromptTemplate) Template() *prompt.Template {
	t := &prompt.Template{Name: p.Name, Version: p.Version, Model: p.Model, Description: p.Description,
		Params: p.Params, Defaults: p.Defaults, Source: prompt.SourceConfig}
	for _, m := range p.Messages {
		t.Messages = append(t.Messages, prompt.Message{Role: m.Role, Content: m.Content})
	}
	return t
}

func (c *Config) defaultPrompts() {
	for i := range c.Prompts {
		if c.Prompts[i].Version == 0 {
			c.Prompts[i].Version = 1
		}
	}
}

// validatePrompts checks the prompts section: each template, unique name
// and version, and a model that names a configured provider or alias.
func (c *Config) validatePrompts(providers map[string]bool) Errors {
	var errs Errors
	aliases := map[string]bool{}
	for _, a := range c.Models {
		aliases[a.Name] = true
	}
	for _, r := range c.Routes {
		aliases[r.Name] = true
	}
	seen := map[string]bool{}
	for i := range c.Prompts {
		p := &c.Prompts[i]
		path := fmt.Sprintf("prompts[%d]", i)
		for _, pr := range p.Template().Validate() {
			errs = append(errs, FieldError{Path: path + "." + pr.Field, Msg: pr.Msg})
		}
		if p.Version < 1 {
			errs = append(errs, FieldError{Path: path + ".version", Msg: "must be at least 1"})
		}
		key := fmt.Sprintf("%s@%d", p.Name, p.Version)
		if seen[key] {
			errs = append(errs, FieldError{Path: path + ".version", Msg: fmt.Sprintf("%s version %d is declared twice", p.Name, p.Version)})
		}
		seen[key] = true
		if m := p.Model; m != "" && !aliases[m] {
			pid, model, ok := strings.Cut(m, "/")
			switch {
			case !ok || pid == "" || model == "":
				errs = append(errs, FieldError{Path: path + ".model", Msg: "must be provider/model, an alias or a route"})
			case !providers[pid]:
				errs = append(errs, FieldError{Path: path + ".model", Msg: fmt.Sprintf("provider %q is not configured (neither in providers nor from the environment)", pid)})
			}
		}
	}
	return errs
}
