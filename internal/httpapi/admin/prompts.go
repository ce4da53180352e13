package admin

import (
	"context"
	"net/http"
	"strconv"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/prompt"
)

// PromptsService is a Backend that manages prompt templates.
type PromptsService interface {
	Prompts() Prompts
}

// Prompts manages prompt templates: those declared in the config file are
// listed but read-only; the others live in the store.
type Prompts interface {
	// List returns the latest version of every template, by name.
	List(ctx context.Context) ([]*prompt.Template, error)
	// Versions returns every version of a template, oldest first.
	Versions(ctx context.Context, name string) ([]*prompt.Template, error)
	// Template returns one version (0: the latest).
	Template(ctx context.Context, name string, version int) (*prompt.Template, error)
	// Create stores t as the next version of its name.
	Create(ctx context.Context, t *prompt.Template) (*prompt.Template, error)
	// Delete deletes every version of a stored template.
	Delete(ctx context.Context, name string) error
}

// promptView is a template as the admin API shows it.
type promptView struct {
	*prompt.Template
	Variables []string `json:"variables"`
}

func viewOf(t *prompt.Template) promptView {
	v := promptView{Template: t, Variables: t.Variables()}
	if v.Variables == nil {
		v.Variables = []string{}
	}
	return v
}

func viewsOf(ts []*prompt.Template) []promptView {
	out := make([]promptView, len(ts))
	for i, t := range ts {
		out[i] = viewOf(t)
	}
	return out
}

// promptInput is what POST /prompts accepts: the version is assigned.
type promptInput struct {
	Name        string            `json:"name"`
	Model       string            `json:"model"`
	Description string            `json:"description"`
	Messages    []prompt.Message  `json:"messages"`
	Params      map[string]any    `json:"params"`
	Defaults    map[string]string `json:"defaults"`
}

func (a *api) promptService(w http.ResponseWriter) (Prompts, bool) {
	ps, ok := a.src().(PromptsService)
	if !ok {
		WriteError(w, gwerr.NotFound("unknown_endpoint", "prompt templates are not available"))
		return nil, false
	}
	return ps.Prompts(), true
}

func (a *api) listPrompts(w http.ResponseWriter, r *http.Request) {
	ps, ok := a.promptService(w)
	if !ok {
		return
	}
	ts, err := ps.List(r.Context())
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"data": viewsOf(ts)})
}

func (a *api) createPrompt(w http.ResponseWriter, r *http.Request) {
	ps, ok := a.promptService(w)
	if !ok {
		return
	}
	var in promptInput
	if err := DecodeBody(r, &in); err != nil {
		WriteError(w, err)
		return
	}
	t, err := ps.Create(r.Context(), &prompt.Template{Name: in.Name, Model: in.Model, Description: in.Description,
		Messages: in.Messages, Params: in.Params, Defaults: in.Defaults})
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, viewOf(t))
}

func (a *api) promptVersions(w http.ResponseWriter, r *http.Request) {
	ps, ok := a.promptService(w)
	if !ok {
		return
	}
	ts, err := ps.Versions(r.Context(), r.PathValue("name"))
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"data": viewsOf(ts)})
}

func (a *api) promptVersion(w http.ResponseWriter, r *http.Request) {
	ps, ok := a.promptService(w)
	if !ok {
		return
	}
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		WriteError(w, gwerr.BadRequest("version", "version must be a whole number of at least 1"))
		return
	}
	t, err := ps.Template(r.Context(), r.PathValue("name"), v)
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, viewOf(t))
}

func (a *api) deletePrompt(w http.ResponseWriter, r *http.Request) {
	ps, ok := a.promptService(w)
	if !ok {
		return
	}
	if err := ps.Delete(r.Context(), r.PathValue("name")); err != nil {
		WriteError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
