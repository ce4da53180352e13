// Package memory holds in-process implementations of the store
// interfaces: the key store used by tests and by tooling that needs no
// persistence, and the rate-limit and spend counters of a single gateway
// process (the default when no Redis is configured).
package memory
