package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	assets := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>app</title>")},
		"assets/app-abc.js":  {Data: []byte("console.log(1)")},
		"assets/app-abc.css": {Data: []byte("body{}")},
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix, Handler(assets))
	tests := []struct {
		name, method, path string
		status             int
		body, ctype, cache string
	}{
		{"root is the app", "GET", "/ui/", 200, "<title>app</title>", "text/html", "no-cache"},
		{"index by name", "GET", "/ui/index.html", 200, "<title>app</title>", "text/html", "no-cache"},
		{"hashed asset", "GET", "/ui/assets/app-abc.js", 200, "console.log", "javascript", "immutable"},
		{"stylesheet", "GET", "/ui/assets/app-abc.css", 200, "body{}", "text/css", "immutable"},
		{"app route falls back to the app", "GET", "/ui/logs", 200, "<title>app</title>", "text/html", "no-cache"},
		{"missing asset is a 404", "GET", "/ui/assets/gone.js", 404, "", "", ""},
		{"head", "HEAD", "/ui/", 200, "", "text/html", "no-cache"},
		{"writes are refused", "POST", "/ui/", 405, "", "", ""},
		{"bare prefix redirects", "GET", "/ui", http.StatusTemporaryRedirect, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %q", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status == http.StatusTemporaryRedirect {
				if loc := rec.Header().Get("Location"); loc != "/ui/" {
					t.Errorf("Location = %q, want /ui/", loc)
				}
				return
			}
			if tt.status != 200 {
				return
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body = %q, want it to contain %q", rec.Body.String(), tt.body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, tt.ctype) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.ctype)
			}
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, tt.cache) {
				t.Errorf("Cache-Control = %q, want %q", cc, tt.cache)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "http") {
				t.Errorf("Content-Security-Policy = %q: must allow only the gateway's own origin", csp)
			}
			if rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Error("X-Frame-Options missing")
			}
		})
	}
}

// TestHandlerStaysInside feeds the handler unclean paths directly (the mux
// would redirect them first): none reaches outside the assets.
func TestHandlerStaysInside(t *testing.T) {
	assets := fstest.MapFS{"index.html": {Data: []byte("app")}}
	h := Handler(assets)
	for _, p := range []string{"/ui/../../etc/passwd.txt", "/ui/..%2f..%2fetc%2fpasswd.txt", "/ui/./../go.mod"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/ui/", nil)
		req.URL.Path = p
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, rec.Code)
		}
	}
}

// TestEmbeddedBuild checks the committed build: its index.html loads only
// bundled files from under /ui/, and every file it names is embedded.
func TestEmbeddedBuild(t *testing.T) {
	srv := httptest.NewServer(func() http.Handler {
		mux := http.NewServeMux()
		Register(mux)
		return mux
	}())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/ui/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	index := string(b)
	if resp.StatusCode != 200 || !strings.Contains(index, `<div id="app">`) {
		t.Fatalf("GET /ui/ = %d %q", resp.StatusCode, index)
	}
	refs := 0
	for _, attr := range []string{`src="`, `href="`} {
		for rest := index; ; {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			url := rest[:strings.IndexByte(rest, '"')]
			if strings.HasPrefix(url, "data:") {
				continue
			}
			if !strings.HasPrefix(url, "/ui/assets/") {
				t.Errorf("index.html loads %q: everything must come from the embedded build", url)
				continue
			}
			refs++
			r, err := http.Get(srv.URL + url)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != 200 {
				t.Errorf("GET %s = %d", url, r.StatusCode)
			}
		}
	}
	if refs < 2 {
		t.Errorf("index.html names %d assets; want the script and the stylesheet", refs)
	}
}
