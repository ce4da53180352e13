// Command aigateway is the AI gateway: one binary between applications and
// model providers. This package only parses the command line and hands off
// to internal/app; it holds no logic of its own.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=…").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `aigateway — a self-hosted AI gateway

Usage:
  aigateway serve [--config FILE] [--listen ADDR] [--data-dir DIR] [--allow-unauthenticated]
  aigateway config check FILE
  aigateway keys create|list|show|update|revoke …   (aigateway keys help)
  aigateway logs query|tail [--config FILE | --data-dir DIR | --url URL] [filters] [--json]
  aigateway version

Environment: AIGATEWAY_CONFIG, AIGATEWAY_LISTEN, AIGATEWAY_DATA_DIR,
AIGATEWAY_ADMIN_TOKEN, and provider credentials (OPENAI_API_KEY, …).
`

// run dispatches a command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stderr, getenv)
	case "config":
		return runConfig(args[1:], stdout, stderr, getenv)
	case "keys":
		return runKeys(args[1:], stdout, stderr, getenv)
	case "logs":
		return runLogs(args[1:], stdout, stderr, getenv)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "aigateway", versionString())
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "aigateway: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		v += " (" + info.GoVersion + ")"
	}
	return v
}
