package httpx

import "testing"

// BenchmarkNewID is log id generation, once per request.
func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewID()
	}
}
