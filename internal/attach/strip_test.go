package attach

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/image/webp"

	"github.com/parley-chat/parley/internal/attach/attachtest"
)

// stripWebPBytes runs stripWebP and puts the returned size in the header,
// as Upload does.
func stripWebPBytes(t *testing.T, in []byte) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	n, err := stripWebP(&out, bufio.NewReaderSize(bytes.NewReader(in), 64))
	if err != nil {
		return nil, err
	}
	b := out.Bytes()
	binary.LittleEndian.PutUint32(b[4:8], n)
	return b, nil
}

// TestStripWebP: EXIF and XMP chunks go wherever they are, odd-sized ones
// with their padding, and the VP8X flags that announced them; the image, an
// ICC profile and unknown chunks stay; the size in the header is the new
// file's; bytes after the RIFF are dropped.
func TestStripWebP(t *testing.T) {
	exif := attachtest.Chunk{FourCC: "EXIF", Data: []byte("MM\x00\x2a\x00\x00\x00\x08GPS 48N")} // odd length
	xmp := attachtest.Chunk{FourCC: "XMP ", Data: []byte("<x:xmpmeta>48.85N</x:xmpmeta>")}
	icc := attachtest.Chunk{FourCC: "ICCP", Data: []byte("icc profile")}
	unknown := attachtest.Chunk{FourCC: "ZZZZ", Data: []byte("kept")}
	plain := attachtest.WebP(40, 30, 1, 2, 3)
	for name, tc := range map[string]struct {
		in   []byte
		want []byte
	}{
		"no metadata":   {plain, plain},
		"EXIF and XMP":  {attachtest.WebP(40, 30, 1, 2, 3, exif, xmp), attachtest.ExtendedWebP(40, 30, 1, 2, 3)},
		"among others":  {attachtest.WebP(40, 30, 1, 2, 3, xmp, unknown, exif), attachtest.ExtendedWebP(40, 30, 1, 2, 3, unknown)},
		"trailing junk": {append(attachtest.WebP(40, 30, 1, 2, 3, exif), "GPS 48.85N after the end"...), attachtest.ExtendedWebP(40, 30, 1, 2, 3)},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := stripWebPBytes(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got\n%q\nwant\n%q", got, tc.want)
			}
			if _, err := webp.Decode(bytes.NewReader(got)); err != nil {
				t.Fatalf("the stripped file does not decode: %v", err)
			}
		})
	}

	t.Run("an ICC profile stays, its flag too", func(t *testing.T) {
		in := attachtest.WebP(40, 30, 1, 2, 3, exif)
		// Put ICCP after VP8X and announce it (flag 0x20).
		var c bytes.Buffer
		c.WriteString("ICCP")
		_ = binary.Write(&c, binary.LittleEndian, uint32(len(icc.Data)))
		c.Write(icc.Data)
		c.WriteByte(0)
		in = append(append(bytes.Clone(in[:30]), c.Bytes()...), in[30:]...)
		in[20] |= 0x20
		binary.LittleEndian.PutUint32(in[4:8], uint32(len(in)-8))
		got, err := stripWebPBytes(t, in)
		if err != nil {
			t.Fatal(err)
		}
		if got[20] != 0x20 || !bytes.Contains(got, []byte("icc profile")) || bytes.Contains(got, []byte("GPS")) {
			t.Fatalf("got flags %#x, %q", got[20], got)
		}
	})

	bad := func(mut func(b []byte) []byte) []byte { return mut(attachtest.WebP(40, 30, 1, 2, 3, exif, xmp)) }
	for name, in := range map[string][]byte{
		"not RIFF":  bad(func(b []byte) []byte { copy(b, "RIFX"); return b }),
		"cut short": bad(func(b []byte) []byte { return b[:len(b)-10] }),
		"RIFF size beyond the chunks": bad(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)+4))
			return append(b, 0, 0, 0, 0)
		}),
		"a chunk beyond the RIFF": bad(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)-8-4))
			return b
		}),
		"VP8X not first": bad(func(b []byte) []byte {
			vp8x := bytes.Clone(b[12:30])
			rest := bytes.Clone(b[30:])
			return append(append(b[:12], rest...), vp8x...)
		}),
		"empty": []byte("RIFF\x04\x00\x00\x00WEBP"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := stripWebPBytes(t, in); !errors.Is(err, errBadImage) {
				t.Fatalf("got %v, want errBadImage", err)
			}
		})
	}
}
