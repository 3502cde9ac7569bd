package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/blob/blobtest"
)

// stores returns every Store the suite runs on: a directory, and a real S3
// server (gofakes3) on a loopback port reached through minio-go.
func stores(t *testing.T) map[string]blob.Store {
	t.Helper()
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s3, _ := blobtest.StartS3(t)
	return map[string]blob.Store{"dir": dir, "s3": s3}
}

func read(t *testing.T, s blob.Store, key string) ([]byte, error) {
	t.Helper()
	rc, n, err := s.Open(context.Background(), key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != n {
		t.Fatalf("Open said %d bytes, read %d", n, len(b))
	}
	return b, nil
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestStores(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			big := bytes.Repeat([]byte("parley "), 300_000) // 2.1 MB, unknown size
			n, err := s.Put(ctx, "rooms/r1/a1", bytes.NewReader(big), -1, "text/plain")
			if err != nil || n != int64(len(big)) {
				t.Fatalf("Put = %d, %v; want %d", n, err, len(big))
			}
			got, err := read(t, s, "rooms/r1/a1")
			if err != nil || !bytes.Equal(got, big) {
				t.Fatalf("read back %d bytes, %v; want %d", len(got), err, len(big))
			}
			if _, err := s.Put(ctx, "rooms/r1/a2", strings.NewReader("two"), 3, "text/plain"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Put(ctx, "rooms/r2/a1", strings.NewReader("other room"), -1, "text/plain"); err != nil {
				t.Fatal(err)
			}

			// A reader that fails half-way stores nothing.
			if _, err := s.Put(ctx, "rooms/r1/broken", &failingReader{n: 1000}, -1, "text/plain"); err == nil {
				t.Fatal("Put of a failing reader succeeded")
			}
			if _, err := read(t, s, "rooms/r1/broken"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("a failed Put left a blob: %v", err)
			}
			if _, err := read(t, s, "rooms/r1/none"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("Open of a missing key: %v, want ErrNotFound", err)
			}

			for _, bad := range []string{"../etc/passwd", "rooms/../x", "/abs", "rooms//x", "rooms/a b", ""} {
				if _, err := s.Put(ctx, bad, strings.NewReader("x"), 1, ""); err == nil {
					t.Errorf("Put(%q) succeeded", bad)
				}
			}

			if err := s.Delete(ctx, "rooms/r1/a2"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "rooms/r1/a2"); err != nil {
				t.Fatalf("second Delete: %v", err)
			}
			if _, err := read(t, s, "rooms/r1/a2"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("deleted blob still there: %v", err)
			}
			if err := s.DeletePrefix(ctx, "rooms/r1/"); err != nil {
				t.Fatal(err)
			}
			if _, err := read(t, s, "rooms/r1/a1"); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("DeletePrefix left a blob: %v", err)
			}
			if got, err := read(t, s, "rooms/r2/a1"); err != nil || string(got) != "other room" {
				t.Fatalf("DeletePrefix of r1 touched r2: %q, %v", got, err)
			}
		})
	}
}

func TestDirWritesNothingOutside(t *testing.T) {
	parent := t.TempDir()
	d, err := blob.NewDir(filepath.Join(parent, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(context.Background(), "../escape", strings.NewReader("x"), 1, ""); err == nil {
		t.Fatal("a key with .. was stored")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "store" {
		t.Fatalf("parent holds %v, want only store", entries)
	}
}

func TestParseS3URL(t *testing.T) {
	c, err := blob.ParseS3URL("s3://AK:SK@minio.local:9000/files?region=eu-west-1&insecure=1")
	if err != nil {
		t.Fatal(err)
	}
	want := blob.S3Config{Endpoint: "minio.local:9000", Bucket: "files", Region: "eu-west-1", AccessKey: "AK", SecretKey: "SK", Insecure: true}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	for _, bad := range []string{"http://a/b", "s3://AK:SK@host", "s3://host/bucket", "s3://AK:SK@host/b?insecure=maybe"} {
		if _, err := blob.ParseS3URL(bad); err == nil {
			t.Errorf("ParseS3URL(%q) succeeded", bad)
		}
	}
}
