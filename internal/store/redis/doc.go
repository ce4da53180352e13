// Package redis holds the store implementations shared by every replica
// through Redis: state that must be the same whichever replica serves a
// request. Every key starts with a configured prefix, so one Redis can
// serve several gateways (and tests can isolate themselves).
package redis
