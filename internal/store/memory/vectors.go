package memory

import (
	"container/list"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// VectorOptions configure a VectorIndex.
type VectorOptions struct {
	// MaxPerScope bounds the vectors of one scope (required); a lookup
	// scans at most this many.
	MaxPerScope int
	// MaxTotal bounds all vectors (required); the oldest give way.
	MaxTotal int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// VectorIndex is an in-process store.VectorIndex: a brute-force scan of a
// bounded set per scope. With at most a few thousand vectors per scope a
// scan of int8 vectors takes well under a millisecond, which needs no
// approximate index.
type VectorIndex struct {
	opts VectorOptions

	mu     sync.Mutex
	scopes map[string]*scope
	order  *list.List // of *vector, oldest first, across scopes
}

type scope struct {
	name string
	vecs []*vector // oldest first
}

type vector struct {
	key     string
	vec     []int8
	expires time.Time
	scope   *scope
	elem    *list.Element
}

// NewVectorIndex returns an empty index.
func NewVectorIndex(o VectorOptions) (*VectorIndex, error) {
	if o.MaxPerScope <= 0 || o.MaxTotal <= 0 {
		return nil, fmt.Errorf("memory vector index: bounds must be positive")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &VectorIndex{opts: o, scopes: map[string]*scope{}, order: list.New()}, nil
}

// Add implements store.VectorIndex. A key already in the scope is replaced.
func (x *VectorIndex) Add(_ context.Context, scopeName, key string, vec []int8, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("memory vector index: ttl must be positive")
	}
	v := &vector{key: key, vec: vec, expires: x.opts.Now().Add(ttl)}
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.scopes[scopeName]
	if s == nil {
		s = &scope{name: scopeName}
		x.scopes[scopeName] = s
	}
	for _, old := range s.vecs {
		if old.key == key {
			x.remove(old)
			break
		}
	}
	if len(s.vecs) >= x.opts.MaxPerScope {
		x.remove(s.vecs[0])
	}
	for x.order.Len() >= x.opts.MaxTotal {
		x.remove(x.order.Front().Value.(*vector))
	}
	if x.scopes[scopeName] == nil { // remove dropped the emptied scope
		x.scopes[scopeName] = s
	}
	v.scope = s
	v.elem = x.order.PushBack(v)
	s.vecs = append(s.vecs, v)
	return nil
}

// remove unlinks v; the caller holds mu.
func (x *VectorIndex) remove(v *vector) {
	x.order.Remove(v.elem)
	s := v.scope
	for i, o := range s.vecs {
		if o == v {
			s.vecs = append(s.vecs[:i], s.vecs[i+1:]...)
			break
		}
	}
	if len(s.vecs) == 0 {
		delete(x.scopes, s.name)
	}
}

// Nearest implements store.VectorIndex. Expired vectors met on the way are
// dropped.
func (x *VectorIndex) Nearest(_ context.Context, scopeName string, vec []int8, min float64) (string, float64, error) {
	now := x.opts.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.scopes[scopeName]
	if s == nil {
		return "", 0, store.ErrNotFound
	}
	var (
		best      string
		bestScore = -2.0
		expired   []*vector
	)
	for _, v := range s.vecs {
		if !now.Before(v.expires) {
			expired = append(expired, v)
			continue
		}
		if sc := store.Cosine(vec, v.vec); sc > bestScore {
			best, bestScore = v.key, sc
		}
	}
	for _, v := range expired {
		x.remove(v)
	}
	if best == "" || bestScore < min {
		return "", 0, store.ErrNotFound
	}
	return best, bestScore, nil
}

// DeletePrefix implements store.VectorIndex.
func (x *VectorIndex) DeletePrefix(_ context.Context, prefix string) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for name, s := range x.scopes {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		n++
		for _, v := range s.vecs {
			x.order.Remove(v.elem)
		}
		delete(x.scopes, name)
	}
	return n, nil
}

// Len returns the number of vectors held.
func (x *VectorIndex) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.order.Len()
}

var _ store.VectorIndex = (*VectorIndex)(nil)
