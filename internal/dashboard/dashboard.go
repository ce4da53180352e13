// Package dashboard serves the web dashboard at /ui/: the single-page app
// built from web/ (npm ci && npm run build) and embedded in the binary, so
// the gateway needs neither Node nor the network to show it.
// The app's only data source is the admin API, called with the admin token
// the operator signs in with; this package serves static files and holds
// no data of its own.
package dashboard

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the path the dashboard is served under.
const Prefix = "/ui/"

//go:embed all:dist
var dist embed.FS

// Assets returns the built files, rooted at the dist directory.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time; it is always there
	}
	return sub
}

// Register mounts the dashboard on mux at Prefix (the mux redirects /ui
// to /ui/).
func Register(mux *http.ServeMux) {
	mux.Handle(Prefix, Handler(Assets()))
}

// contentSecurityPolicy allows nothing but the gateway's own origin: the
// app is fully bundled, so any outside load would be a bug or an attack.
// Styles set through the CSSOM (charts, layout) are not inline styles and
// need no 'unsafe-inline'.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the files of assets under Prefix. Paths that name no
// file get index.html, so the app's own routes survive a reload; paths
// that look like a missing asset (they have an extension) get a 404.
func Handler(assets fs.FS) http.Handler {
	modTime := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, Prefix)), "/")
		if name == "" {
			name = "index.html"
		}
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			if path.Ext(name) != "" {
				http.NotFound(w, r)
				return
			}
			name = "index.html"
			if b, err = fs.ReadFile(assets, name); err != nil {
				http.Error(w, "dashboard assets are missing from this build", http.StatusNotFound)
				return
			}
		}
		if strings.HasPrefix(name, "assets/") {
			// Vite names every asset after its content hash.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, modTime, bytes.NewReader(b))
	})
}
