package embedded

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// TestVersion1SnapshotLoads: a snapshot written before checksums (the gob
// alone) still loads, so upgrading keeps the data.
func TestVersion1SnapshotLoads(t *testing.T) {
	var buf bytes.Buffer
	old := snapshot{Version: 1, Taken: time.Now(), Keys: []snapKey{{Key: "k", Type: "string", Str: "v"}}}
	if err := gob.NewEncoder(&buf).Encode(&old); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), SnapshotFile)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	m := miniredis.NewMiniRedis()
	n, _, err := load(m, path, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("load: got %d keys, %v; want 1, nil", n, err)
	}
	if got, _ := m.Get("k"); got != "v" {
		t.Fatalf("k: got %q, want v", got)
	}
}

func TestSnapshotDue(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name              string
		lastWrite, since  time.Duration // before now
		wantQuiet, wantDo bool
	}{
		{"a write just now", 0, 0, false, false},
		{"quiet for a second", snapshotQuiet, snapshotQuiet, true, true},
		{"writes going on past the max delay", 100 * time.Millisecond, snapshotMaxDelay, false, true},
		{"writes going on, not yet due", 100 * time.Millisecond, snapshotMaxDelay / 2, false, false},
	}
	for _, tt := range tests {
		quiet, due := snapshotDue(now, now.Add(-tt.lastWrite), now.Add(-tt.since))
		if quiet != tt.wantQuiet || due != tt.wantDo {
			t.Errorf("%s: got quiet %v due %v, want %v %v", tt.name, quiet, due, tt.wantQuiet, tt.wantDo)
		}
	}
}
