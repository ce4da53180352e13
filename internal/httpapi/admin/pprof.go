package admin

import (
	"net/http"
	"net/http/pprof"
)

// pprofHandler serves Go's runtime profiles under /admin/v1/debug/pprof/,
// behind the admin token like every admin route: the CPU profile
// (profile?seconds=N), heap, goroutine, allocs, block, mutex, trace … and
// the index page. This is how the numbers in the README's Performance
// section are explained: go tool pprof against a running gateway.
func (a *api) pprofHandler(w http.ResponseWriter, r *http.Request) {
	switch name := r.PathValue("name"); name {
	case "":
		// the index page's links are relative, so they resolve here
		pprof.Index(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}
