package store

import (
	"context"
	"time"
)

// Prompt is one version of a prompt template as stored. Times have
// millisecond precision.
type Prompt struct {
	Name    string
	Version int
	// Model is what the template runs on ("provider/model", an alias or a
	// route).
	Model       string
	Description string
	Messages    []PromptMessage
	// Params are further chat request members; numbers read back as
	// float64 (they are stored as JSON).
	Params map[string]any
	// Defaults are values of optional variables.
	Defaults  map[string]string
	CreatedAt time.Time
}

// PromptMessage is one templated chat message.
type PromptMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// PromptStore persists prompt templates, every version of them. Versions
// only grow: a name's next version is one more than the highest it ever
// had, also after its versions were deleted, so a version named in an old
// log never means a different template.
type PromptStore interface {
	// CreatePrompt stores p as the next version of p.Name and sets
	// p.Version; every other field is stored as given.
	CreatePrompt(ctx context.Context, p *Prompt) error
	// Prompt returns version of name (0: the latest), or ErrNotFound.
	Prompt(ctx context.Context, name string, version int) (*Prompt, error)
	// Prompts lists the latest version of every prompt, ordered by name.
	Prompts(ctx context.Context) ([]*Prompt, error)
	// PromptVersions lists every version of name, oldest first, or
	// ErrNotFound when it has none.
	PromptVersions(ctx context.Context, name string) ([]*Prompt, error)
	// DeletePrompt deletes every version of name, or returns ErrNotFound.
	DeletePrompt(ctx context.Context, name string) error
}
