// Package blobtest starts a real S3 server (gofakes3, in memory) on a
// loopback port for tests, so that the S3 store is tested over the S3
// protocol through minio-go, not against a mock of the client. Only tests
// import it: gofakes3 is a test-only dependency.
package blobtest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parley-chat/parley/internal/blob"
)

// StartS3 serves an in-memory S3 on loopback for the test's life and
// returns a store on a fresh bucket of it, with its s3:// URL.
func StartS3(tb testing.TB) (*blob.S3, string) {
	tb.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("parley"); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	tb.Cleanup(srv.Close)
	raw := "s3://key:secret@" + strings.TrimPrefix(srv.URL, "http://") + "/parley?region=us-east-1&insecure=1"
	cfg, err := blob.ParseS3URL(raw)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.SpoolDir = tb.TempDir()
	s, err := blob.NewS3(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s, raw
}
