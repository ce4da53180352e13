package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/aigateway/aigateway/internal/config"
)

// runConfig handles "config check FILE".
func runConfig(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) != 2 || args[0] != "check" {
		fmt.Fprint(stderr, "usage: aigateway config check FILE\n")
		return 2
	}
	file := args[1]
	cfg, err := config.Load(file, getenv)
	if err != nil {
		printConfigError(stderr, file, err)
		return 1
	}
	ids := make([]string, 0, len(cfg.Providers))
	for _, p := range cfg.Providers {
		ids = append(ids, p.ID)
	}
	fmt.Fprintf(stdout, "%s: ok (%d providers %v, %d model aliases, %d routes)\n", file, len(cfg.Providers), ids, len(cfg.Models), len(cfg.Routes))
	return 0
}

// printConfigError prints every config problem as FILE:LINE: path: message.
func printConfigError(w io.Writer, file string, err error) {
	var errs config.Errors
	if !errors.As(err, &errs) {
		fmt.Fprintf(w, "%s: %v\n", file, err)
		return
	}
	for _, e := range errs {
		loc := file
		if e.Line > 0 {
			loc = fmt.Sprintf("%s:%d", file, e.Line)
		}
		path := e.Path
		if path == "" {
			path = "(top level)"
		}
		fmt.Fprintf(w, "%s: %s: %s\n", loc, path, e.Msg)
	}
	fmt.Fprintf(w, "%d problem(s) found\n", len(errs))
}
