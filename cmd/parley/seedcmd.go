package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/seed"
)

// runSeed loads the demo data; a second run changes nothing.
func runSeed(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	b, err := openToolBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()
	res, err := seed.Load(ctx, b.store, time.Now())
	if err != nil {
		return err
	}
	if res.Rooms == 0 {
		fmt.Fprintln(stdout, "demo data already present: nothing changed")
		return nil
	}
	fmt.Fprintf(stdout, "seeded %d rooms, %d messages, %d visits\n", res.Rooms, res.Messages, res.Visits)
	return nil
}
