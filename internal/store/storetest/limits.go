package storetest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// LimiterContract runs the store.Limiter contract against fresh limiters
// returned by open. It uses real time (short windows), since shared
// backends take time from their server.
func LimiterContract(t *testing.T, open func(t *testing.T) store.Limiter) {
	ctx := context.Background()
	take := func(t *testing.T, l store.Limiter, ws ...store.Window) store.TakeResult {
		t.Helper()
		r, err := l.Take(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.States) != len(ws) {
			t.Fatalf("%d states for %d windows", len(r.States), len(ws))
		}
		return r
	}
	// used reads a window's count without charging it.
	used := func(t *testing.T, l store.Limiter, w store.Window) int64 {
		t.Helper()
		w.Cost = 0
		return take(t, l, w).States[0].Used
	}

	for _, fixed := range []bool{false, true} {
		kind := "sliding"
		if fixed {
			kind = "fixed"
		}
		t.Run(kind, func(t *testing.T) {
			t.Run("counts up to the limit then refuses with a retry hint", func(t *testing.T) {
				l := open(t)
				w := store.Window{Key: "k", Limit: 3, Period: time.Minute, Fixed: fixed, Cost: 1}
				for i := 1; i <= 3; i++ {
					r := take(t, l, w)
					if !r.Allowed || r.States[0].Used != int64(i) || r.States[0].Remaining() != int64(3-i) {
						t.Fatalf("take %d: %+v", i, r)
					}
					if len(r.Charges) != 1 || r.Charges[0].Key != "k" {
						t.Fatalf("take %d charges: %+v", i, r.Charges)
					}
					if r.States[0].Reset <= 0 || r.States[0].Reset > time.Minute+time.Second {
						t.Errorf("reset %v out of range", r.States[0].Reset)
					}
				}
				r := take(t, l, w)
				st := r.States[0]
				if r.Allowed || st.Allowed || st.Used != 3 || st.Remaining() != 0 || r.Charges != nil {
					t.Fatalf("fourth take: %+v", r)
				}
				if st.RetryAfter <= 0 || st.RetryAfter > time.Minute+time.Second {
					t.Errorf("retry after %v out of range", st.RetryAfter)
				}
			})

			t.Run("a cost above the limit never fits", func(t *testing.T) {
				l := open(t)
				r := take(t, l, store.Window{Key: "k", Limit: 10, Period: time.Minute, Fixed: fixed, Cost: 11})
				if r.Allowed {
					t.Fatal("allowed a cost above the limit")
				}
			})

			t.Run("all windows or none are charged", func(t *testing.T) {
				l := open(t)
				wide := store.Window{Key: "wide", Limit: 10, Period: time.Minute, Fixed: fixed, Cost: 1}
				narrow := store.Window{Key: "narrow", Limit: 1, Period: time.Minute, Fixed: fixed, Cost: 1}
				if r := take(t, l, wide, narrow); !r.Allowed {
					t.Fatalf("first: %+v", r)
				}
				r := take(t, l, wide, narrow)
				if r.Allowed || !r.States[0].Allowed || r.States[1].Allowed {
					t.Fatalf("second: %+v", r)
				}
				if n := used(t, l, wide); n != 1 {
					t.Errorf("refused take charged the other window: used %d, want 1", n)
				}
			})

			t.Run("exact under concurrency", func(t *testing.T) {
				l := open(t)
				w := store.Window{Key: "k", Limit: 50, Period: time.Minute, Fixed: fixed, Cost: 1}
				var allowed atomic.Int64
				var wg sync.WaitGroup
				for i := 0; i < 200; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, err := l.Take(ctx, []store.Window{w})
						if err != nil {
							t.Error(err)
							return
						}
						if r.Allowed {
							allowed.Add(1)
						}
					}()
				}
				wg.Wait()
				if n := allowed.Load(); n != 50 {
					t.Errorf("%d of 200 allowed against a limit of 50", n)
				}
			})

			t.Run("adjust reconciles a charge both ways", func(t *testing.T) {
				l := open(t)
				w := store.Window{Key: "tokens", Limit: 100, Period: time.Minute, Fixed: fixed, Cost: 40}
				r := take(t, l, w)
				if !r.Allowed {
					t.Fatal(r)
				}
				if err := l.Adjust(ctx, r.Charges[0], 50); err != nil {
					t.Fatal(err)
				}
				if n := used(t, l, w); n != 90 {
					t.Fatalf("after +50: used %d, want 90", n)
				}
				if err := l.Adjust(ctx, r.Charges[0], -70); err != nil {
					t.Fatal(err)
				}
				if n := used(t, l, w); n != 20 {
					t.Fatalf("after -70: used %d, want 20", n)
				}
			})

			t.Run("windows are independent per key", func(t *testing.T) {
				l := open(t)
				a := store.Window{Key: "a", Limit: 1, Period: time.Minute, Fixed: fixed, Cost: 1}
				b := a
				b.Key = "b"
				if !take(t, l, a).Allowed || !take(t, l, b).Allowed || take(t, l, a).Allowed {
					t.Fatal("keys share a counter")
				}
			})

			t.Run("room comes back after the window", func(t *testing.T) {
				l := open(t)
				period := 300 * time.Millisecond
				w := store.Window{Key: "k", Limit: 2, Period: period, Fixed: fixed, Cost: 1}
				take(t, l, w)
				take(t, l, w)
				r := take(t, l, w)
				if r.Allowed {
					t.Fatal("third take allowed")
				}
				time.Sleep(r.States[0].RetryAfter + 20*time.Millisecond)
				if r := take(t, l, w); !r.Allowed {
					t.Fatalf("after the retry hint: %+v", r)
				}
			})
		})
	}

	t.Run("sliding window frees units as they age out", func(t *testing.T) {
		l := open(t)
		period := 600 * time.Millisecond
		w := store.Window{Key: "k", Limit: 2, Period: period, Cost: 1}
		take(t, l, w)
		time.Sleep(period / 2)
		take(t, l, w)
		r := take(t, l, w)
		if r.Allowed {
			t.Fatal("over the limit")
		}
		// the first unit leaves about period/2 from now, the second later:
		// the hint points at the first
		if ra := r.States[0].RetryAfter; ra > period*3/4 || ra <= 0 {
			t.Errorf("retry after %v, want about %v", ra, period/2)
		}
		time.Sleep(r.States[0].RetryAfter + 20*time.Millisecond)
		if r := take(t, l, w); !r.Allowed {
			t.Fatalf("first unit did not age out: %+v", r)
		}
		if r := take(t, l, w); r.Allowed {
			t.Fatal("second unit aged out too early")
		}
	})

	t.Run("concurrency slots", func(t *testing.T) {
		l := open(t)
		rel1, ok1, err1 := l.Acquire(ctx, "m", 2, time.Minute)
		_, ok2, err2 := l.Acquire(ctx, "m", 2, time.Minute)
		_, ok3, err3 := l.Acquire(ctx, "m", 2, time.Minute)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		if !ok1 || !ok2 || ok3 {
			t.Fatalf("acquire: %v %v %v, want true true false", ok1, ok2, ok3)
		}
		rel1()
		rel1() // releasing twice is harmless
		if _, ok, _ := l.Acquire(ctx, "m", 2, time.Minute); !ok {
			t.Error("released slot not reusable")
		}
		if _, ok, _ := l.Acquire(ctx, "m", 2, time.Minute); ok {
			t.Error("double release freed two slots")
		}
		if _, ok, _ := l.Acquire(ctx, "other", 1, time.Minute); !ok {
			t.Error("keys share slots")
		}
	})

	t.Run("concurrency slots are exact under concurrency and expire with their lease", func(t *testing.T) {
		l := open(t)
		var got atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := l.Acquire(ctx, "m", 7, 200*time.Millisecond)
				if err != nil {
					t.Error(err)
				}
				if ok {
					got.Add(1)
				}
			}()
		}
		wg.Wait()
		if got.Load() != 7 {
			t.Fatalf("%d slots handed out, want 7", got.Load())
		}
		time.Sleep(300 * time.Millisecond)
		if _, ok, _ := l.Acquire(ctx, "m", 7, time.Minute); !ok {
			t.Error("expired leases still hold their slots")
		}
	})
}

// SpendContract runs the store.SpendStore contract.
func SpendContract(t *testing.T, open func(t *testing.T) store.SpendStore) {
	ctx := context.Background()
	t.Run("unknown keys have spent nothing", func(t *testing.T) {
		s := open(t)
		got, err := s.Spent(ctx, []string{"a", "b"})
		if err != nil || len(got) != 2 || got[0] != 0 || got[1] != 0 {
			t.Fatalf("%v %v", got, err)
		}
	})
	t.Run("adds to every key exactly", func(t *testing.T) {
		s := open(t)
		for i := 0; i < 10; i++ {
			if err := s.AddSpend(ctx, []string{"key:1", "tenant:a"}, 0.1, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddSpend(ctx, []string{"tenant:a"}, 0.000000123, time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := s.Spent(ctx, []string{"key:1", "tenant:a", "other"})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != 1 || math.Abs(got[1]-1.000000123) > 1e-12 || got[2] != 0 {
			t.Errorf("spent %v", got)
		}
	})
	t.Run("concurrent adds are all counted", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.AddSpend(ctx, []string{"k"}, 0.01, time.Hour); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got, _ := s.Spent(ctx, []string{"k"})
		if got[0] != 1 {
			t.Errorf("spent %v, want 1", got[0])
		}
	})
	t.Run("spend is forgotten after its ttl", func(t *testing.T) {
		s := open(t)
		if err := s.AddSpend(ctx, []string{"k"}, 5, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSpend(ctx, []string{"k"}, 5, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		got, _ := s.Spent(ctx, []string{"k"})
		if got[0] != 0 {
			t.Errorf("spent %v after ttl", got[0])
		}
	})
	t.Run("zero and negative amounts change nothing", func(t *testing.T) {
		s := open(t)
		for _, v := range []float64{0, -3} {
			if err := s.AddSpend(ctx, []string{fmt.Sprint("k", v)}, v, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.Spent(ctx, []string{"k0", "k-3"})
		if got[0] != 0 || got[1] != 0 {
			t.Errorf("spent %v", got)
		}
	})
}
