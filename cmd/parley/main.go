// Command parley runs the Parley support chat: the API, the widget, the admin
// console and the visitor counter, on an embedded Redis by default or on the
// Redis named by PARLEY_REDIS_URL.
//
// Usage:
//
//	parley [serve]                      run the server (the default)
//	parley seed                         load demo rooms, messages and visits (idempotent)
//	parley admin add NAME [DISPLAY]     add an admin; the password is read from stdin or generated
//	parley admin passwd NAME            set an admin's password (stdin or generated)
//	parley admin list                   list admins
//	parley admin remove NAME            remove an admin
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/parley-chat/parley/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

// run is main without the process: tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "bench" {
		return runBench(ctx, args, getenv, stdout, stderr)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	switch cmd {
	case "serve":
		stopGC := tuneGC(ctx, cfg, getenv, log)
		defer stopGC()
		return serve(ctx, cfg, log)
	case "seed":
		return runSeed(ctx, cfg, log, stdout)
	case "admin":
		return runAdmin(ctx, cfg, log, args, stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: parley [serve|seed|admin add|passwd|list|remove]")
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, seed or admin)", cmd)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
