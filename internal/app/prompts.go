package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/admin"
	"github.com/aigateway/aigateway/internal/httpapi/prompts"
	"github.com/aigateway/aigateway/internal/prompt"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/sqlite"
)

// promptStoreOnce opens the prompt store (and runs its migrations) once
// per process, on the first runtime that needs it.
type promptStoreOnce struct {
	once  sync.Once
	store store.PromptStore
	err   error
}

// promptStore returns the prompt store of the backend in use; nil
// without one (a Stores built by hand in tests).
func (s *Stores) promptStore() (store.PromptStore, error) {
	s.prompts.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		switch {
		case s.Postgres != nil:
			ps, err := postgres.Prompts(ctx, s.Postgres)
			if err == nil {
				s.prompts.store = ps
			}
			s.prompts.err = err
		case s.SQLite != nil:
			ps, err := sqlite.Prompts(ctx, s.SQLite)
			if err == nil {
				s.prompts.store = ps
			}
			s.prompts.err = err
		}
	})
	return s.prompts.store, s.prompts.err
}

// promptService serves prompt templates: those declared in the config file
// (read-only) and those created through the admin API (in the store).
type promptService struct {
	byName map[string][]*prompt.Template // config, versions ascending
	store  store.PromptStore
	// known reports whether a model name can be served.
	known func(model string) bool
	now   func() time.Time
}

func (rt *Runtime) buildPrompts() error {
	ps := &promptService{byName: map[string][]*prompt.Template{}, known: rt.modelKnown, now: time.Now}
	for i := range rt.cfg.Prompts {
		t := rt.cfg.Prompts[i].Template()
		ps.byName[t.Name] = append(ps.byName[t.Name], t)
	}
	for _, vs := range ps.byName {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
	}
	if rt.stores != nil {
		s, err := rt.stores.promptStore()
		if err != nil {
			return fmt.Errorf("opening the prompt store: %w", err)
		}
		ps.store = s
	}
	rt.prompts = ps
	return nil
}

// modelKnown reports whether model is a route, an alias or the
// provider/model of an enabled provider.
func (rt *Runtime) modelKnown(model string) bool {
	if _, ok := rt.aliases[model]; ok {
		return true
	}
	if rt.routes != nil {
		if _, ok := rt.routes.Lookup(model); ok {
			return true
		}
	}
	pid, _, ok := provider.SplitModel(model)
	if !ok {
		return false
	}
	_, ok = rt.registry.Lookup(pid)
	return ok
}

func notFound(name string, version int) error {
	if version > 0 {
		return gwerr.NotFound("prompt_not_found", "prompt template %q has no version %d", name, version)
	}
	return gwerr.NotFound("prompt_not_found", "no prompt template named %q", name)
}

// Template returns version of the named template (0: the latest).
func (ps *promptService) Template(ctx context.Context, name string, version int) (*prompt.Template, error) {
	if vs, ok := ps.byName[name]; ok {
		if version == 0 {
			return vs[len(vs)-1], nil
		}
		for _, t := range vs {
			if t.Version == version {
				return t, nil
			}
		}
		return nil, notFound(name, version)
	}
	if ps.store == nil {
		return nil, notFound(name, 0)
	}
	p, err := ps.store.Prompt(ctx, name, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(name, version)
	}
	if err != nil {
		return nil, gwerr.Internal(err)
	}
	return fromStore(p), nil
}

// List returns the latest version of every template, by name.
func (ps *promptService) List(ctx context.Context) ([]*prompt.Template, error) {
	var out []*prompt.Template
	for _, vs := range ps.byName {
		out = append(out, vs[len(vs)-1])
	}
	if ps.store != nil {
		stored, err := ps.store.Prompts(ctx)
		if err != nil {
			return nil, gwerr.Internal(err)
		}
		for _, p := range stored {
			if _, shadowed := ps.byName[p.Name]; !shadowed {
				out = append(out, fromStore(p))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Versions returns every version of the named template, oldest first.
func (ps *promptService) Versions(ctx context.Context, name string) ([]*prompt.Template, error) {
	if vs, ok := ps.byName[name]; ok {
		return slices.Clone(vs), nil
	}
	if ps.store == nil {
		return nil, notFound(name, 0)
	}
	stored, err := ps.store.PromptVersions(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(name, 0)
	}
	if err != nil {
		return nil, gwerr.Internal(err)
	}
	out := make([]*prompt.Template, len(stored))
	for i, p := range stored {
		out[i] = fromStore(p)
	}
	return out, nil
}

// Create stores t as the next version of its name.
func (ps *promptService) Create(ctx context.Context, t *prompt.Template) (*prompt.Template, error) {
	if problems := t.Validate(); len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error()
		}
		return nil, gwerr.BadRequest(problems[0].Field, "invalid prompt template: %s", strings.Join(msgs, "; "))
	}
	if !ps.known(t.Model) {
		return nil, gwerr.BadRequest("model", "model %q is neither a route, an alias nor provider/model of an enabled provider", t.Model)
	}
	if _, ok := ps.byName[t.Name]; ok {
		return nil, conflict("prompt template %q is declared in the config file; change it there", t.Name)
	}
	if ps.store == nil {
		return nil, gwerr.New(gwerr.KindGateway, http.StatusServiceUnavailable, "no store is available for prompt templates")
	}
	p := toStore(t)
	p.CreatedAt = ps.now().UTC().Truncate(time.Millisecond)
	if err := ps.store.CreatePrompt(ctx, p); err != nil {
		return nil, gwerr.Internal(err)
	}
	return fromStore(p), nil
}

// Delete deletes every stored version of the named template.
func (ps *promptService) Delete(ctx context.Context, name string) error {
	if _, ok := ps.byName[name]; ok {
		return conflict("prompt template %q is declared in the config file; remove it there", name)
	}
	if ps.store == nil {
		return notFound(name, 0)
	}
	err := ps.store.DeletePrompt(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(name, 0)
	}
	if err != nil {
		return gwerr.Internal(err)
	}
	return nil
}

func conflict(format string, args ...any) error {
	e := gwerr.New(gwerr.KindCaller, http.StatusConflict, format, args...)
	e.Code = "prompt_in_config"
	return e
}

func fromStore(p *store.Prompt) *prompt.Template {
	t := &prompt.Template{Name: p.Name, Version: p.Version, Model: p.Model, Description: p.Description,
		Params: p.Params, Defaults: p.Defaults, Source: prompt.SourceStore, CreatedAt: p.CreatedAt}
	for _, m := range p.Messages {
		t.Messages = append(t.Messages, prompt.Message{Role: m.Role, Content: m.Content})
	}
	return t
}

func toStore(t *prompt.Template) *store.Prompt {
	p := &store.Prompt{Name: t.Name, Model: t.Model, Description: t.Description, Params: t.Params, Defaults: t.Defaults}
	for _, m := range t.Messages {
		p.Messages = append(p.Messages, store.PromptMessage{Role: m.Role, Content: m.Content})
	}
	return p
}

// PromptTemplate implements prompts.Backend.
func (rt *Runtime) PromptTemplate(ctx context.Context, name string, version int) (*prompt.Template, error) {
	return rt.prompts.Template(ctx, name, version)
}

// Prompts implements admin.PromptsService.
func (rt *Runtime) Prompts() admin.Prompts { return rt.prompts }

var (
	_ prompts.Backend      = (*Runtime)(nil)
	_ admin.PromptsService = (*Runtime)(nil)
	_ admin.Prompts        = (*promptService)(nil)
)
