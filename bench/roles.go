package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/app"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// The harness runs the fake upstream and the floor proxy as child
// processes of its own binary ("bench role:fake …"), so that each one's CPU
// and memory can be read from /proc apart from the load generator's.

const rolePrefix = "role:"

// fakeAPIKey is the provider credential the fake requires; the gateway
// injects it, the other targets get it from the client.
const fakeAPIKey = "sk-bench"

// runRole runs a child role and returns its exit code.
func runRole(role string, args []string) int {
	switch role {
	case "fake":
		return runFake(args)
	case "floor":
		return runFloor(args)
	}
	fmt.Fprintf(os.Stderr, "bench: unknown role %q\n", role)
	return 2
}

// listenAndAnnounce listens on a free loopback port and prints the address
// on stdout, where the parent waits for it.
func listenAndAnnounce() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fmt.Printf("listening %s\n", ln.Addr())
	return ln, nil
}

func runFake(args []string) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	latency := fs.Duration("latency", 0, "wait before every answer")
	chunkDelay := fs.Duration("chunk-delay", 0, "wait between stream events")
	words := fs.Int("reply-words", 20, "words in every answer (stream events = words + 3)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fake := providertest.NewFake(providertest.Options{
		APIKey: fakeAPIKey, Latency: *latency, ChunkDelay: *chunkDelay,
		Reply: replyText(*words), NoRecord: true,
	})
	ln, err := listenAndAnnounce()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(os.Stderr, srv.Serve(ln))
	return 1
}

// replyText is the fake's answer: n short words.
func replyText(n int) string {
	if n < 1 {
		n = 1
	}
	w := make([]string, n)
	for i := range w {
		w[i] = "word"
	}
	return strings.Join(w, " ")
}

// runFloor is the baseline floor: the standard library's reverse proxy with
// the gateway's tuned transport, and nothing else.
func runFloor(args []string) int {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	upstream := fs.String("upstream", "", "upstream base URL")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		fmt.Fprintf(os.Stderr, "floor: bad -upstream %q\n", *upstream)
		return 2
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Read the body before forwarding, as the gateway does. Handing
			// the server's request body to the transport as is cut about 2%
			// of paced streams short in this setup (the transport closed
			// the upstream connection mid-stream: "use of closed network
			// connection"); a floor that fails is no floor.
			if body, err := io.ReadAll(io.LimitReader(pr.In.Body, 16<<20)); err == nil {
				pr.Out.Body = io.NopCloser(bytes.NewReader(body))
			}
		},
		// the gateway's own upstream transport, so that the floor differs
		// from the gateway only in what the gateway does per request
		Transport: app.NewUpstreamClient().Transport,
	}
	ln, err := listenAndAnnounce()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(os.Stderr, srv.Serve(ln))
	return 1
}
