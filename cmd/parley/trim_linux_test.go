package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFileKB is this process's resident file-backed memory.
func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "RssFile:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Skip("no RssFile line")
	return 0
}

// Dropping the start's pages gives the binary's read-only pages back (the
// process's file-backed RSS falls), and the code goes on running: what it
// needs faults back in, and the writable data is untouched.
func TestDropStartPages(t *testing.T) {
	marker := []string{"kept"} // heap and data survive
	before := rssFileKB(t)
	dropped := dropStartPages()
	after := rssFileKB(t)
	if dropped <= 0 {
		t.Fatalf("dropped %d bytes", dropped)
	}
	if after >= before {
		t.Errorf("file-backed RSS %d kB → %d kB: nothing left the process", before, after)
	}
	if gcPercentFor(1<<20) != gcMaxPercent || marker[0] != "kept" {
		t.Error("code or data broken after the drop")
	}
	t.Logf("dropped %d MiB of mappings; file-backed RSS %d → %d kB", dropped>>20, before, after)
}
