package httpapi_test

import (
	"os"
	"testing"

	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestMain stops the cluster the stream tests share (forEachRedisCluster),
// if one was started.
func TestMain(m *testing.M) {
	code := m.Run()
	redistest.StopSharedCluster()
	os.Exit(code)
}
