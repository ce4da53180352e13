package detect

import (
	"strings"
	"testing"
)

// BenchmarkFind measures each detector over 16 KB of prose with a few
// values in it (throughput per detector; a guardrail runs several).
func BenchmarkFind(b *testing.B) {
	var sb strings.Builder
	for sb.Len() < 16<<10 {
		sb.WriteString("The quarterly report shows that revenue grew in every region, with the strongest results in Europe. ")
		sb.WriteString("Please forward the summary to jane.roe@example.com before Friday; call +1 (415) 555-2671 if needed. ")
	}
	text := sb.String()
	for name, d := range detectorsUnderTest(b) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			var dst []Match
			for b.Loop() {
				dst = d.Find(text, 0, dst[:0])
			}
		})
	}
}
