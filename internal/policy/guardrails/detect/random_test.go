package detect

import (
	"math/rand"
	"testing"
)

// TestStreamingContractMutations runs the contract checks on corpus lines
// with random bytes changed: a cheap, deterministic stand-in for a long
// fuzzing run.
func TestStreamingContractMutations(t *testing.T) {
	ds := detectorsUnderTest(t)
	r := rand.New(rand.NewSource(8))
	for iter := 0; iter < 24; iter++ {
		b := []byte(corpus[iter%len(corpus)])
		if len(b) > 160 {
			start := r.Intn(len(b) - 160)
			b = b[start : start+160]
		}
		for k := 0; k < 4; k++ {
			const alphabet = "0123456789 .-:@+(/)ZAesk\xff"
			b[r.Intn(len(b))] = alphabet[r.Intn(len(alphabet))]
		}
		s := string(b)
		for name, d := range ds {
			checkMatches(t, name, d, s)
			checkPending(t, name, d, s)
			checkFrom(t, name, d, s)
		}
	}
}
