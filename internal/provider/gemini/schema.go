package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// schemaKeys are the members of the Gemini API's Schema object (an OpenAPI
// 3.0 subset). JSON Schema keywords outside it — additionalProperties,
// $schema, $id, strict, patternProperties, examples … — make Gemini reject
// the request, so cleanSchema keeps only these.
var schemaKeys = map[string]bool{
	"type": true, "format": true, "title": true, "description": true, "nullable": true,
	"enum": true, "maxItems": true, "minItems": true, "properties": true, "required": true,
	"minProperties": true, "maxProperties": true, "minLength": true, "maxLength": true,
	"pattern": true, "example": true, "anyOf": true, "propertyOrdering": true,
	"default": true, "items": true, "minimum": true, "maximum": true,
}

// maxRefDepth bounds $ref inlining; recursive schemas cannot be inlined
// and are cut off there.
const maxRefDepth = 8

// cleanSchema rewrites a JSON Schema into the Gemini Schema dialect: types
// upper case, ["T","null"] as T with nullable, const as a one-value enum,
// oneOf as anyOf, local $refs ($defs, definitions) inlined, a lone allOf
// merged, required limited to declared properties, other keywords dropped.
func cleanSchema(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("not valid JSON")
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("a schema must be a JSON object")
	}
	c := schemaCleaner{defs: map[string]any{}}
	for _, k := range []string{"$defs", "definitions"} {
		if d, ok := root[k].(map[string]any); ok {
			for name, s := range d {
				c.defs["#/"+k+"/"+name] = s
			}
		}
	}
	out := c.clean(root, 0)
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return b, nil
}

type schemaCleaner struct {
	defs map[string]any
}

func (c *schemaCleaner) clean(s map[string]any, depth int) map[string]any {
	if ref, ok := s["$ref"].(string); ok {
		target, found := c.defs[ref].(map[string]any)
		if !found || depth >= maxRefDepth {
			return map[string]any{"type": "OBJECT"}
		}
		merged := make(map[string]any, len(target)+len(s))
		for k, v := range target {
			merged[k] = v
		}
		for k, v := range s { // a description next to a $ref wins
			if k != "$ref" {
				merged[k] = v
			}
		}
		return c.clean(merged, depth+1)
	}
	if all, ok := s["allOf"].([]any); ok && len(all) == 1 {
		if sub, ok := all[0].(map[string]any); ok {
			merged := make(map[string]any, len(s)+len(sub))
			for k, v := range sub {
				merged[k] = v
			}
			for k, v := range s {
				if k != "allOf" {
					merged[k] = v
				}
			}
			return c.clean(merged, depth)
		}
	}
	out := make(map[string]any, len(s))
	for k, v := range s {
		switch k {
		case "type":
			setType(out, v)
		case "const":
			if _, has := s["enum"]; !has {
				out["enum"] = []any{v}
				if _, isString := v.(string); isString && s["type"] == nil {
					out["type"] = "STRING" // Gemini enums are string-typed
				}
			}
		case "oneOf", "anyOf":
			if list, ok := v.([]any); ok {
				out["anyOf"] = c.cleanList(list, depth)
			}
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				continue
			}
			cp := make(map[string]any, len(props))
			for name, sub := range props {
				if m, ok := sub.(map[string]any); ok {
					cp[name] = c.clean(m, depth)
				}
			}
			out["properties"] = cp
		case "items":
			switch it := v.(type) {
			case map[string]any:
				out["items"] = c.clean(it, depth)
			case []any: // tuple validation: Gemini has one item schema
				if len(it) > 0 {
					if m, ok := it[0].(map[string]any); ok {
						out["items"] = c.clean(m, depth)
					}
				}
			}
		default:
			if schemaKeys[k] {
				out[k] = v
			}
		}
	}
	if req, ok := out["required"].([]any); ok {
		props, _ := out["properties"].(map[string]any)
		kept := req[:0:0]
		for _, r := range req {
			if name, ok := r.(string); ok && props[name] != nil {
				kept = append(kept, name)
			}
		}
		if len(kept) == 0 {
			delete(out, "required")
		} else {
			out["required"] = kept
		}
	}
	return out
}

func (c *schemaCleaner) cleanList(list []any, depth int) []any {
	out := make([]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, c.clean(m, depth))
		}
	}
	return out
}

func setType(out map[string]any, v any) {
	switch t := v.(type) {
	case string:
		if t != "null" {
			out["type"] = strings.ToUpper(t)
		} else {
			out["nullable"] = true
		}
	case []any:
		for _, x := range t {
			s, _ := x.(string)
			switch {
			case s == "null":
				out["nullable"] = true
			case s != "" && out["type"] == nil:
				out["type"] = strings.ToUpper(s)
			}
		}
	}
}

// emptyObjectSchema reports whether a cleaned schema is an object without
// properties; Gemini rejects such function parameters, and a function
// without parameters is declared by leaving them out.
func emptyObjectSchema(raw json.RawMessage) bool {
	var s struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
		AnyOf      []any          `json:"anyOf"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	return (s.Type == "OBJECT" || s.Type == "") && len(s.Properties) == 0 && len(s.AnyOf) == 0
}
