package httpx

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// DecodeJSON decodes a request body into v, turning every failure into a
// 400 that says what is wrong without Go type names.
func DecodeJSON(body []byte, v any) error {
	if len(body) == 0 {
		return gwerr.BadRequest("", "request body is empty; expected a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return BadJSON(err)
	}
	return nil
}

// BadJSON describes a JSON decoding error as a 400.
func BadJSON(err error) *gwerr.Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return gwerr.BadRequest("", "request body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return gwerr.BadRequest("", "request body has the wrong type: expected a JSON object, got %s", te.Value)
		}
		return gwerr.BadRequest(field, "invalid type for %s: got %s, expected %s", field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	return gwerr.BadRequest("", "invalid request body: %s", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "ptr":
		return "a value of another type"
	}
	return fmt.Sprintf("a value of kind %s", goKind)
}
