//go:build !unix

package guardrails

import "time"

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
