// Package blob owns where attachment bytes live: a Store interface and its
// two implementations, a directory on the local disk (Dir, the default) and
// any S3-compatible object store (S3, which several instances can share).
// Keys are chosen by Parley, never by a client: slash-separated segments of
// letters, digits, '.', '_' and '-', so no key can name a path outside the
// store.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotFound is returned by Open for a key that holds nothing.
var ErrNotFound = errors.New("blob: not found")

// Store keeps blobs by key.
type Store interface {
	// Put stores everything r yields under key, replacing what was there;
	// size is the length of r when known, -1 otherwise. A blob is visible
	// whole or not at all: a failed Put (r's error, ctx ended) leaves
	// nothing behind. It returns the bytes stored.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (int64, error)
	// Open returns the blob under key and its size, or ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// Delete removes the blob under key; a missing blob is no error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every blob whose key starts with prefix, which
	// must end with "/".
	DeletePrefix(ctx context.Context, prefix string) error
}

// CheckKey refuses a key that is not segments of [A-Za-z0-9._-], none of
// them "." or "..".
func CheckKey(key string) error {
	if key == "" || len(key) > 512 {
		return fmt.Errorf("blob: bad key %q", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blob: bad key %q", key)
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return fmt.Errorf("blob: bad key %q", key)
			}
		}
	}
	return nil
}

func checkPrefix(prefix string) error {
	if !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("blob: prefix %q must end with /", prefix)
	}
	return CheckKey(strings.TrimSuffix(prefix, "/"))
}
