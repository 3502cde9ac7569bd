package attach

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/attach/attachtest"
	"github.com/parley-chat/parley/internal/blob"
)

// BenchmarkThumbnail24MP makes the thumbnail of one 24 MP image (6000×4000)
// stored in a directory store, as an upload does after storing the file,
// and reports how far the Go heap in use rose over where it stood after a
// GC, sampled every millisecond, and the bytes allocated: the decode's
// memory, outside the upload's 1 MB budget (docs/PERFORMANCE.md). A
// progressive JPEG is measured when jpegtran (libjpeg-turbo-progs) is
// installed. It reports, beside them, decodeCost's estimate (which the
// budget MaxDecodeBytes is checked against); it asserts nothing.
//
//	go test ./internal/attach -run '^$' -bench Thumbnail24MP -benchtime 3x
func BenchmarkThumbnail24MP(b *testing.B) {
	const w, h = 6000, 4000
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 7 % 251)
	}
	var jpg, pngb bytes.Buffer
	if err := jpeg.Encode(&jpg, src, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&pngb, src); err != nil {
		b.Fatal(err)
	}
	src = nil
	files := []struct {
		name, typ string
		data      []byte
	}{
		{"jpeg-baseline-420", "image/jpeg", jpg.Bytes()},
		{"png-rgba", "image/png", pngb.Bytes()},
		{"webp-lossless", "image/webp", attachtest.WebP(w, h, 20, 120, 220)},
	}
	if jt, err := exec.LookPath("jpegtran"); err == nil {
		cmd := exec.Command(jt, "-progressive")
		cmd.Stdin = bytes.NewReader(jpg.Bytes())
		if out, err := cmd.Output(); err == nil {
			files = append(files, struct {
				name, typ string
				data      []byte
			}{"jpeg-progressive-420", "image/jpeg", out})
		}
	}
	for _, f := range files {
		b.Run(f.name, func(b *testing.B) {
			dir, err := blob.NewDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			// No budget here: what every kind of image costs is measured.
			s := New(Config{Blobs: dir, MaxDecodeBytes: 1 << 40})
			est, _, err := decodeCost(bufio.NewReader(bytes.NewReader(f.data)), f.typ)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			const room, id = "r_bench", "a_bench"
			if _, err := dir.Put(ctx, Key(room, id, false), bytes.NewReader(f.data), int64(len(f.data)), f.typ); err != nil {
				b.Fatal(err)
			}
			var peak int64
			b.ReportAllocs()
			for b.Loop() {
				runtime.GC()
				debug.FreeOSMemory()
				base := heapInUse()
				var top atomic.Int64
				stop, done := make(chan struct{}), make(chan struct{})
				go func() {
					defer close(done)
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						if v := heapInUse(); v > top.Load() {
							top.Store(v)
						}
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				}()
				if made, err := s.makeThumb(ctx, room, id, f.typ); err != nil || !made {
					b.Fatal(made, err)
				}
				close(stop)
				<-done
				peak = max(peak, top.Load()-base)
			}
			b.ReportMetric(float64(peak)/(1<<20), "MB-heap-rise")
			b.ReportMetric(float64(len(f.data))/(1<<20), "MB-file")
			b.ReportMetric(float64(est)/(1<<20), "MB-estimate")
		})
	}
}

func heapInUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
