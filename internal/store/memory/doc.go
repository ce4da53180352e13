// Package memory holds the embedded, in-process implementations of the
// store interfaces: state that lives in this process only and is bounded so
// it cannot grow without limit. It is the default when no shared store
// (Redis) is configured.
package memory
