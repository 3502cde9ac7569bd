package httpapi

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/parley-chat/parley/admin"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/widget"
)

// roomList is an admin room list of n rooms, as listRooms answers it.
func roomList(n int) gin.H {
	rooms := make([]chat.Room, n)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for i := range rooms {
		at := now.Add(-time.Duration(i) * time.Minute)
		rooms[i] = chat.Room{
			ID:           fmt.Sprintf("r%023d", i),
			VisitorName:  fmt.Sprintf("Visitor %d", i),
			VisitorEmail: fmt.Sprintf("visitor%d@example.com", i),
			Page:         "https://shop.example.com/pricing",
			CreatedAt:    chat.Time{Time: now.Add(-time.Duration(i) * time.Hour)},
			UpdatedAt:    chat.Time{Time: at},
			MessageCount: int64(3 + i%7),
			LastMessage:  &chat.LastMessage{Seq: int64(3 + i%7), Sender: "visitor", Content: fmt.Sprintf("Hello, I have a question about order #%d, can you help?", 1000+i), CreatedAt: chat.Time{Time: at}},
			Unread:       int64(i % 3),
		}
	}
	return gin.H{"rooms": rooms, "nextCursor": "", "unreadRooms": n / 3}
}

// compressEngine serves a room list of n rooms through compressJSON.
func compressEngine(n int) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{zip: &compressors{}}
	e := gin.New()
	body := roomList(n)
	e.GET("/rooms", s.compressJSON, func(c *gin.Context) { c.JSON(http.StatusOK, body) })
	return e
}

// BenchmarkCompressRoomList measures what compressJSON costs on a 50-room
// list, per encoding: time, CPU time and allocations per request, and the
// bytes sent. The cost of compressing is the difference to identity.
func BenchmarkCompressRoomList(b *testing.B) {
	e := compressEngine(50)
	for _, accept := range []string{"identity", "gzip", "br"} {
		b.Run(accept, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/rooms", nil)
			r.Header.Set("Accept-Encoding", accept)
			var size int
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				size = w.Body.Len()
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(size), "bytes/op")
		})
	}
}

func TestCompressWriter(t *testing.T) {
	e := compressEngine(20)
	plain := httptest.NewRecorder()
	e.ServeHTTP(plain, httptest.NewRequest("GET", "/rooms", nil))
	// Concurrent requests share the pools; under -race this checks them.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				r := httptest.NewRequest("GET", "/rooms", nil)
				r.Header.Set("Accept-Encoding", "gzip")
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Errorf("gzip: %v", err)
					return
				}
				got, err := io.ReadAll(zr)
				if err != nil || !bytes.Equal(got, plain.Body.Bytes()) {
					t.Errorf("decoded body: got %d bytes (%v), want the plain %d", len(got), err, plain.Body.Len())
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestStaticConcurrentFirstUse(t *testing.T) {
	fsys := fstest.MapFS{"a.js": {Data: []byte("export const a = [" + strings.Repeat("1, ", 2000) + "];")}}
	sf := newStaticFiles(fsys, "widget", "v1", slog.New(slog.DiscardHandler))
	var wg sync.WaitGroup
	results := make([][]byte, 16)
	for i := range results {
		wg.Go(func() {
			a, ok := sf.asset("a.js")
			if !ok {
				t.Error("a.js: not found")
				return
			}
			if i%2 == 0 {
				results[i] = a.brotli()
			} else {
				results[i] = a.gzip()
			}
		})
	}
	wg.Wait()
	for i := 2; i < len(results); i++ {
		if !bytes.Equal(results[i], results[i-2]) {
			t.Fatalf("request %d got other bytes than request %d", i, i-2)
		}
	}
}

// BenchmarkStaticStart measures what the static files cost a server: the
// version New computes over both trees, and everything the files' first
// requests do (read, rewrite, minify, hash, gzip, brotli) for every file.
func BenchmarkStaticStart(b *testing.B) {
	trees := map[string]fs.FS{"widget": widget.Files, "admin": admin.Files}
	b.Run("version", func(b *testing.B) {
		for b.Loop() {
			assetVersion(trees)
		}
	})
	b.Run("every file, every encoding", func(b *testing.B) {
		log := slog.New(slog.DiscardHandler)
		for b.Loop() {
			for root, fsys := range trees {
				sf := newStaticFiles(fsys, root, "0123456789ab", log)
				_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					if a, ok := sf.asset(p); ok {
						a.gzip()
						a.brotli()
					}
					return nil
				})
			}
		}
	})
}
