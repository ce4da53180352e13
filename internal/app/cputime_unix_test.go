//go:build unix

package app

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system), which a
// benchmark on a shared machine measures more steadily than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
