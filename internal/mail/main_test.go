package mail_test

import (
	"os"
	"testing"

	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// TestMain stops the cluster the queue and notifier tests share
// (redistest.ForEachWithCluster), if one was started.
func TestMain(m *testing.M) {
	code := m.Run()
	redistest.StopSharedCluster()
	os.Exit(code)
}
