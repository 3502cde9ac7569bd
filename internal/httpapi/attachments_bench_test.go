package httpapi_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/attach"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// BenchmarkUpload5MB uploads a 5 MB file through the real router into the
// directory store, streamed from the client (nothing of it held whole on
// either side), and reports how far the process's RSS and Go heap rose
// over where they stood before, sampled every millisecond: the memory
// budget of docs/PERFORMANCE.md ("a 5 MB upload adds no more than ~1 MB").
// It reports; it asserts nothing.
//
//	go test ./internal/httpapi -run '^$' -bench Upload5MB -benchtime 5x
func BenchmarkUpload5MB(b *testing.B) {
	real := redistest.StartReal(b)
	dir, err := blob.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, real.Addr(), envConfig{Attachments: func(store *redisstore.Store, secret []byte) *attach.Service {
		return attach.New(attach.Config{Blobs: dir, Store: store, Secret: secret})
	}})
	room, tok := e.mustRoom(map[string]string{"name": "Vi"})
	const size = 5 << 20
	chunk := append([]byte("plain text\n"), bytes.Repeat([]byte("0123456789abcdef"), 2048)...)

	var peakRSS, peakHeap int64
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		baseRSS, baseHeap := rss(), heapInUse()
		var maxRSS, maxHeap atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				if r := rss(); r > maxRSS.Load() {
					maxRSS.Store(r)
				}
				if h := heapInUse(); h > maxHeap.Load() {
					maxHeap.Store(h)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			part, _ := mw.CreateFormFile("file", "big.txt")
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := part.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
					break
				}
			}
			pw.CloseWithError(mw.Close())
		}()
		rq, _ := http.NewRequest("POST", e.url("/api/v1/rooms/"+room.ID+"/attachments"), pr)
		rq.Header.Set("Content-Type", mw.FormDataContentType())
		rq.Header.Set("Authorization", "Bearer "+tok)
		res, err := e.client.Do(rq)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		close(stop)
		<-done
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", res.StatusCode)
		}
		peakRSS = max(peakRSS, maxRSS.Load()-baseRSS)
		peakHeap = max(peakHeap, maxHeap.Load()-baseHeap)
	}
	b.ReportMetric(float64(peakRSS)/(1<<20), "MB-RSS-rise")
	b.ReportMetric(float64(peakHeap)/(1<<20), "MB-heap-rise")
}

// rss is the process's resident set size in bytes (Linux), 0 elsewhere.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

func heapInUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
