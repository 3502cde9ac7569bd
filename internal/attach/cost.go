package attach

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"io"
)

// decodeCost reads an image's header from r and estimates the bytes that
// image.Decode allocates for it, with its size. The estimate follows the
// decoders: the picture in its own colour model (a 4:2:0 JPEG 1.5 bytes a
// pixel, an RGBA PNG 4, a 16-bit one 8), plus what a decoder holds beside
// it — a progressive JPEG's coefficients (4 bytes per sample), a CMYK or
// Adobe-RGB JPEG's converted copy, an interlaced PNG's passes. For a
// 24 MP image: 36 MB (baseline 4:2:0 JPEG), 180 MB (progressive), 96 MB
// (RGBA PNG); BenchmarkThumbnail24MP measures them.
func decodeCost(r *bufio.Reader, typ string) (int64, image.Config, error) {
	if typ == "image/jpeg" {
		return jpegCost(r)
	}
	interlaced := false
	if typ == "image/png" {
		if h, err := r.Peek(29); err == nil && bytes.Equal(h[:8], pngSignature) {
			interlaced = h[28] == 1
		}
	}
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return 0, cfg, err
	}
	cost := int64(cfg.Width) * int64(cfg.Height) * halfBytes(cfg.ColorModel) / 2
	if interlaced {
		cost *= 2 // the full image and the passes merged into it
	}
	return cost, cfg, nil
}

// halfBytes is how many half bytes a pixel of the model takes in memory.
func halfBytes(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 2
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 2
	case color.Gray16Model, color.Alpha16Model:
		return 4
	case color.YCbCrModel: // a lossy WebP, 4:2:0
		return 3
	case color.NYCbCrAModel:
		return 5
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 8
	}
	return 16 // 16-bit RGBA, or a model not known here
}

// jpegCost is decodeCost for a JPEG: it reads the segments up to the frame
// header, whose components and sampling give the planes' sizes. Like
// image/jpeg it knows baseline, extended and progressive frames only.
func jpegCost(r *bufio.Reader) (int64, image.Config, error) {
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return 0, image.Config{}, errBadImage
	}
	adobeRGB := false
	for {
		b, err := r.ReadByte()
		if err != nil || b != 0xFF {
			return 0, image.Config{}, errBadImage
		}
		marker, err := r.ReadByte()
		for err == nil && marker == 0xFF {
			marker, err = r.ReadByte()
		}
		if err != nil {
			return 0, image.Config{}, errBadImage
		}
		if marker >= 0xD0 && marker <= 0xD7 || marker == 0x01 {
			continue
		}
		var lb [2]byte
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return 0, image.Config{}, errBadImage
		}
		n := int(binary.BigEndian.Uint16(lb[:])) - 2
		if n < 0 {
			return 0, image.Config{}, errBadImage
		}
		seg := make([]byte, 0, 6+3*4)
		switch {
		case marker == 0xC0 || marker == 0xC1 || marker == 0xC2:
			if n < 6 {
				return 0, image.Config{}, errBadImage
			}
			seg = seg[:6]
			if _, err := io.ReadFull(r, seg); err != nil {
				return 0, image.Config{}, errBadImage
			}
			h, w, nc := int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:])), int(seg[5])
			if nc != 1 && nc != 3 && nc != 4 || n < 6+3*nc || w == 0 || h == 0 {
				return 0, image.Config{}, errBadImage
			}
			comps := make([]byte, 3*nc)
			if _, err := io.ReadFull(r, comps); err != nil {
				return 0, image.Config{}, errBadImage
			}
			hmax, vmax := 1, 1
			for i := range nc {
				hs, vs := int(comps[3*i+1]>>4), int(comps[3*i+1]&15)
				if hs < 1 || hs > 4 || vs < 1 || vs > 4 {
					return 0, image.Config{}, errBadImage
				}
				hmax, vmax = max(hmax, hs), max(vmax, vs)
			}
			px := int64(w) * int64(h)
			var samples int64 // the planes' bytes, one a sample
			for i := range nc {
				hs, vs := int64(comps[3*i+1]>>4), int64(comps[3*i+1]&15)
				samples += px * hs * vs / int64(hmax*vmax)
			}
			cost := samples
			if marker == 0xC2 {
				cost += 4 * samples // a [64]int32 block of coefficients per 64 samples
			}
			if nc == 4 || nc == 3 && adobeRGB {
				cost += 4 * px // converted to CMYK or RGBA beside the planes
			}
			return cost, image.Config{Width: w, Height: h}, nil
		case marker == 0xEE && n >= 12: // APP14 Adobe: its transform says RGB
			seg = seg[:12]
			if _, err := io.ReadFull(r, seg); err != nil {
				return 0, image.Config{}, errBadImage
			}
			adobeRGB = bytes.HasPrefix(seg, []byte("Adobe")) && seg[11] == 0
			n -= 12
		case marker >= 0xC3 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC,
			marker == 0xDA, marker == 0xD9:
			return 0, image.Config{}, errBadImage // not a frame image/jpeg decodes, or no frame
		}
		if _, err := r.Discard(n); err != nil {
			return 0, image.Config{}, errBadImage
		}
	}
}
