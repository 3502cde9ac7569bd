package attach

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/parley-chat/parley/internal/attach/attachtest"
	"github.com/parley-chat/parley/internal/blob"
)

// TestAttachDecodeCost: the estimate a thumbnail's decode is budgeted by
// follows the image's kind — a 4:2:0 JPEG 1.5 bytes a pixel, progressive
// 7.5, an RGBA PNG 4, a 16-bit one 8, a GIF 1, a lossless WebP 4 — and
// reads the size from the header.
func TestAttachDecodeCost(t *testing.T) {
	const w, h = 200, 100
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	enc := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	jpg := enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, rgba, nil) }) // 4:2:0
	// The same header as a progressive frame (SOF2): only the estimate
	// reads it.
	prog := bytes.Clone(jpg)
	if i := bytes.Index(prog, []byte{0xFF, 0xC0}); i < 0 {
		t.Fatal("no SOF0")
	} else {
		prog[i+1] = 0xC2
	}
	gray := enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, image.NewGray(rgba.Rect), nil) })
	px := int64(w * h)
	for name, tc := range map[string]struct {
		typ  string
		data []byte
		want int64
	}{
		"baseline JPEG 4:2:0":    {"image/jpeg", jpg, px * 3 / 2},
		"progressive JPEG 4:2:0": {"image/jpeg", prog, px * 15 / 2},
		"grey JPEG":              {"image/jpeg", gray, px},
		"RGBA PNG":               {"image/png", enc(func(b *bytes.Buffer) error { return png.Encode(b, rgba) }), px * 4},
		"16-bit PNG":             {"image/png", enc(func(b *bytes.Buffer) error { return png.Encode(b, image.NewRGBA64(rgba.Rect)) }), px * 8},
		"GIF":                    {"image/gif", enc(func(b *bytes.Buffer) error { return gif.Encode(b, rgba, nil) }), px},
		"lossless WebP":          {"image/webp", attachtest.WebP(w, h, 1, 2, 3), px * 4},
	} {
		t.Run(name, func(t *testing.T) {
			got, cfg, err := decodeCost(bufio.NewReader(bytes.NewReader(tc.data)), tc.typ)
			if err != nil || cfg.Width != w || cfg.Height != h {
				t.Fatalf("got %dx%d, %v", cfg.Width, cfg.Height, err)
			}
			if got != tc.want {
				t.Fatalf("got %d bytes, want %d", got, tc.want)
			}
		})
	}
	for name, data := range map[string][]byte{
		"lossless JPEG (SOF3)": func() []byte { b := bytes.Clone(jpg); b[bytes.Index(b, []byte{0xFF, 0xC0})+1] = 0xC3; return b }(),
		"no frame":             {0xFF, 0xD8, 0xFF, 0xD9},
		"cut short":            jpg[:20],
	} {
		if _, _, err := decodeCost(bufio.NewReader(bytes.NewReader(data)), "image/jpeg"); !errors.Is(err, errBadImage) {
			t.Errorf("%s: got %v, want errBadImage", name, err)
		}
	}
}

// TestAttachThumbnailBudget: an image whose decode would be over the budget
// gets no thumbnail, the upload is not refused for it; a request waiting for
// a turn to decode ends with its context.
func TestAttachThumbnailBudget(t *testing.T) {
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(id string, img image.Image) {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if _, err := dir.Put(ctx, Key("r_x", id, false), &b, int64(b.Len()), "image/png"); err != nil {
			t.Fatal(err)
		}
	}
	r := image.Rect(0, 0, 120, 100)
	put("a_rgba", image.NewRGBA(r))                                 // 48,000 bytes decoded
	put("a_deep", image.NewNRGBA64(r))                              // 96,000
	put("a_many", image.NewGray(image.Rect(0, 0, 200, 101)))        // 20,200 pixels
	s := New(Config{Blobs: dir, MaxPixels: 20_000, Concurrency: 1}) // budget 80,000 bytes
	if made, err := s.makeThumb(ctx, "r_x", "a_rgba", "image/png"); err != nil || !made {
		t.Fatalf("RGBA: made %v, %v; want a thumbnail", made, err)
	}
	if made, err := s.makeThumb(ctx, "r_x", "a_deep", "image/png"); err != nil || made {
		t.Fatalf("16-bit: made %v, %v; want none, and no error", made, err)
	}
	if _, _, err := dir.Open(ctx, Key("r_x", "a_deep", true)); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("a thumbnail over the budget was stored: %v", err)
	}
	if _, err := s.makeThumb(ctx, "r_x", "a_many", "image/png"); !errors.Is(err, ErrImagePixels) {
		t.Fatalf("too many pixels: got %v, want ErrImagePixels", err)
	}

	s.thumb <- struct{}{} // the one decode allowed is running
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.makeThumb(gone, "r_x", "a_rgba", "image/png"); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting with an ended context: got %v, want context.Canceled", err)
	}
	<-s.thumb
}
