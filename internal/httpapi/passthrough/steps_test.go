package passthrough

import (
	"errors"
	"testing"

	"github.com/aigateway/aigateway/internal/gwerr"
)

func TestDecodeSteps(t *testing.T) {
	steps, err := DecodeSteps([]byte(`{"provider":"openai","endpoint":"chat/completions","query":{"model":"m"}}`))
	if err != nil || len(steps) != 1 || steps[0].Provider != "openai" {
		t.Fatalf("single object: %v %v", steps, err)
	}
	bad := []string{
		`[]`, `[{"endpoint":"x","query":{}}]`, `[{"provider":"p","query":{}}]`,
		`[{"provider":"p","endpoint":"a/../b","query":{}}]`, `[{"provider":"p","endpoint":"x"}]`,
		`[{"provider":"p","endpoint":"x","query":{},"headers":{"Bad Name":"v"}}]`,
		`[{"provider":"p","endpoint":"x","query":{},"headers":{"X":"a\r\nInjected: 1"}}]`,
	}
	for _, b := range bad {
		if _, err := DecodeSteps([]byte(b)); err == nil {
			t.Errorf("%s accepted", b)
		}
	}
}

func FuzzDecodeSteps(f *testing.F) {
	f.Add([]byte(`[{"provider":"openai","endpoint":"chat/completions","headers":{"a":"b"},"query":{"model":"m"}}]`))
	f.Add([]byte(`{"provider":"x"}`))
	f.Add([]byte(` [`))
	f.Fuzz(func(t *testing.T, b []byte) {
		steps, err := DecodeSteps(b)
		if err != nil {
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 400 {
				t.Fatalf("not a 400: %v", err)
			}
			return
		}
		if len(steps) == 0 || len(steps) > maxSteps {
			t.Fatalf("%d steps accepted", len(steps))
		}
		for _, s := range steps {
			if s.Provider == "" || s.Endpoint == "" || hasDotDot(s.Endpoint) {
				t.Fatalf("invalid step accepted: %+v", s)
			}
		}
	})
}
