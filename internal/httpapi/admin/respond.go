package admin

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
)

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, gwerr.Internal(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteError writes err in the OpenAI error format (the admin API's too).
func WriteError(w http.ResponseWriter, err error) {
	httpx.ErrorOnly(w, gwerr.As(err))
}

// DecodeBody decodes a JSON request body (at most 1 MiB) into v, rejecting
// unknown fields so typos in admin calls are errors, not silent no-ops.
func DecodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return httpx.BadJSON(err)
	}
	return nil
}
