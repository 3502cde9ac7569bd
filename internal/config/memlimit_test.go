package config_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
)

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"512MiB", 512 << 20, true},
		{"2GiB", 2 << 30, true},
		{" 1TiB ", 1 << 40, true},
		{"65536KiB", 64 << 20, true},
		{"33554432", 32 << 20, true},
		{"33554432B", 32 << 20, true},
		{"1MiB", 0, false}, // below the floor
		{"512M", 0, false}, // GOMEMLIMIT's units only
		{"-1GiB", 0, false},
		{"lots", 0, false},
		{"99999999999TiB", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := config.Load(func(k string) string {
				if k == "PARLEY_MEMORY_LIMIT" {
					return tc.in
				}
				return ""
			})
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), "PARLEY_MEMORY_LIMIT") {
					t.Fatalf("got %v, want an error naming PARLEY_MEMORY_LIMIT", err)
				}
				return
			}
			if err != nil || c.MemoryLimit != tc.want {
				t.Fatalf("got %d %v, want %d", c.MemoryLimit, err, tc.want)
			}
		})
	}
}
