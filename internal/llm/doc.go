// Package llm holds the gateway's canonical request and response types.
//
// The canonical form is the OpenAI Chat Completions wire format, because it is
// the lingua franca that every SDK and most providers already speak. Provider
// adapters translate to and from it; ingress handlers decode into it. The
// types are pure data: no I/O, no clock, no net/http.
//
// Fields that the gateway does not model explicitly are kept in Extra maps so
// that a request forwarded to an OpenAI-compatible provider loses nothing.
package llm
