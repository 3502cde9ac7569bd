// Package attachtest builds images for the attachments' tests that the
// standard library cannot encode.
package attachtest

import (
	"bytes"
	"encoding/binary"
)

// Chunk is a RIFF chunk of a WebP file: a four-character code and its data.
type Chunk struct {
	FourCC string
	Data   []byte
}

// WebP returns a lossless WebP of w×h pixels of one colour (r, g, b): a
// VP8L bitstream whose prefix codes each have a single symbol, so the
// pixels take no bits. With extra chunks it is an extended file, as
// ExtendedWebP makes.
func WebP(w, h int, r, g, b byte, extra ...Chunk) []byte {
	return webP(w, h, r, g, b, len(extra) > 0, extra)
}

// ExtendedWebP is WebP in the extended format: a VP8X chunk whose flags
// announce EXIF and XMP when extra has them, then the image, then extra in
// their order, as the container spec places metadata.
func ExtendedWebP(w, h int, r, g, b byte, extra ...Chunk) []byte {
	return webP(w, h, r, g, b, true, extra)
}

func webP(w, h int, r, g, b byte, extended bool, extra []Chunk) []byte {
	var bw bitWriter
	bw.bits(0x2f, 8) // VP8L signature
	bw.bits(uint32(w-1), 14)
	bw.bits(uint32(h-1), 14)
	bw.bits(0, 1)                               // no alpha
	bw.bits(0, 3)                               // version 0
	bw.bits(0, 1)                               // no transform
	bw.bits(0, 1)                               // no colour cache
	bw.bits(0, 1)                               // no meta prefix codes
	for _, sym := range []byte{g, r, b, 0xff} { // green, red, blue, alpha
		bw.bits(1, 1) // a simple code
		bw.bits(0, 1) // of one symbol
		bw.bits(1, 1) // of 8 bits
		bw.bits(uint32(sym), 8)
	}
	bw.bits(1, 1) // distance: a simple code
	bw.bits(0, 1) // of one symbol
	bw.bits(0, 1) // of 1 bit
	bw.bits(0, 1) // symbol 0
	chunks := []Chunk{{"VP8L", bw.bytes()}}
	if extended {
		var flags byte
		for _, c := range extra {
			switch c.FourCC {
			case "EXIF":
				flags |= 0x08
			case "XMP ":
				flags |= 0x04
			}
		}
		x := make([]byte, 10)
		x[0] = flags
		put24(x[4:], uint32(w-1))
		put24(x[7:], uint32(h-1))
		chunks = append([]Chunk{{"VP8X", x}}, chunks...)
		chunks = append(chunks, extra...)
	}
	var body bytes.Buffer
	body.WriteString("WEBP")
	for _, c := range chunks {
		body.WriteString(c.FourCC)
		_ = binary.Write(&body, binary.LittleEndian, uint32(len(c.Data)))
		body.Write(c.Data)
		if len(c.Data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(body.Len()))
	return append(out, body.Bytes()...)
}

func put24(b []byte, v uint32) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }

// bitWriter writes bits least significant first, as VP8L reads them.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint32, n uint) {
	w.acc |= uint64(v) << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nacc > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}
