package attach

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errBadImage is an image whose structure is broken: refused, not stored.
var errBadImage = errors.New("attach: malformed image")

// stripJPEG copies a JPEG from r to w without its metadata segments (APP1
// Exif and XMP, which hold GPS positions and camera serials, APP13
// Photoshop/IPTC, and comments), one segment at a time: nothing is decoded
// and memory stays at the buffer's size. The entropy-coded data after the
// start of scan is copied as it is.
func stripJPEG(w io.Writer, r *bufio.Reader) error {
	var soi [2]byte
	if _, err := io.ReadFull(r, soi[:]); err != nil || soi != [2]byte{0xFF, 0xD8} {
		return errBadImage
	}
	if _, err := w.Write(soi[:]); err != nil {
		return err
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return errBadImage
		}
		if b != 0xFF {
			return errBadImage
		}
		marker, err := r.ReadByte()
		for err == nil && marker == 0xFF { // fill bytes
			marker, err = r.ReadByte()
		}
		if err != nil {
			return errBadImage
		}
		switch {
		case marker == 0xD9: // end of image
			_, err := w.Write([]byte{0xFF, marker})
			return err
		case marker >= 0xD0 && marker <= 0xD7, marker == 0x01:
			if _, err := w.Write([]byte{0xFF, marker}); err != nil {
				return err
			}
			continue
		}
		var lb [2]byte
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			return errBadImage
		}
		n := int(binary.BigEndian.Uint16(lb[:]))
		if n < 2 {
			return errBadImage
		}
		drop := marker == 0xE1 || marker == 0xED || marker == 0xFE // APP1, APP13, COM
		if drop {
			if _, err := r.Discard(n - 2); err != nil {
				return errBadImage
			}
			continue
		}
		if _, err := w.Write([]byte{0xFF, marker, lb[0], lb[1]}); err != nil {
			return err
		}
		if _, err := io.CopyN(w, r, int64(n-2)); err != nil {
			return wrapCopy(err)
		}
		if marker == 0xDA { // start of scan: the rest is image data
			_, err := io.Copy(w, r)
			return err
		}
	}
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// stripPNG copies a PNG from r to w without its text and metadata chunks
// (tEXt, zTXt, iTXt, eXIf, tIME), chunk by chunk.
func stripPNG(w io.Writer, r *bufio.Reader) error {
	sig := make([]byte, 8)
	if _, err := io.ReadFull(r, sig); err != nil || !bytes.Equal(sig, pngSignature) {
		return errBadImage
	}
	if _, err := w.Write(sig); err != nil {
		return err
	}
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return errBadImage
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		if n > 1<<31-1 {
			return errBadImage
		}
		typ := string(hdr[4:8])
		switch typ {
		case "tEXt", "zTXt", "iTXt", "eXIf", "tIME":
			if _, err := r.Discard(int(n) + 4); err != nil {
				return errBadImage
			}
			continue
		}
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(w, r, n+4); err != nil {
			return wrapCopy(err)
		}
		if typ == "IEND" {
			return nil
		}
	}
}

// The flags of a VP8X chunk (its first payload byte) that say the file has
// EXIF and XMP chunks.
const (
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

// stripWebP copies a WebP from r to w without its "EXIF" and "XMP " chunks
// (GPS positions, camera serials, editing history), chunk by chunk, and
// clears the VP8X flags that announced them; every other chunk (the image,
// ICC profile, animation frames, unknown ones) is copied as it is. Nothing is
// decoded and memory stays at the buffer's size. The RIFF header must give
// the file's size at its front, which is only known once the last chunk has
// gone by (the metadata chunks come after the image data), so the header
// written carries the size read and the returned riffSize is the right one:
// the caller rewrites bytes 4–8 with it. Bytes after the RIFF's end are not
// copied.
func stripWebP(w io.Writer, r *bufio.Reader) (riffSize uint32, err error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WEBP" {
		return 0, errBadImage
	}
	left := int64(binary.LittleEndian.Uint32(hdr[4:8])) - 4 // the chunks' bytes
	if left < 8 {
		return 0, errBadImage
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return 0, err
	}
	written := int64(4) // "WEBP"
	for first := true; left > 0; first = false {
		var ch [8]byte
		if left < 8 {
			return 0, errBadImage
		}
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0, errBadImage
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		padded := n + n&1
		left -= 8 + padded
		if left < 0 {
			return 0, errBadImage
		}
		switch fourcc := string(ch[:4]); {
		case fourcc == "EXIF" || fourcc == "XMP ":
			if _, err := r.Discard(int(padded)); err != nil {
				return 0, errBadImage
			}
			continue
		case fourcc == "VP8X":
			// The first chunk when present; its flags announce the rest.
			if !first || n < 10 {
				return 0, errBadImage
			}
			if _, err := w.Write(ch[:]); err != nil {
				return 0, err
			}
			flags, err := r.ReadByte()
			if err != nil {
				return 0, errBadImage
			}
			if _, err := w.Write([]byte{flags &^ (vp8xEXIF | vp8xXMP)}); err != nil {
				return 0, err
			}
			if _, err := io.CopyN(w, r, padded-1); err != nil {
				return 0, wrapCopy(err)
			}
		default:
			if _, err := w.Write(ch[:]); err != nil {
				return 0, err
			}
			if _, err := io.CopyN(w, r, padded); err != nil {
				return 0, wrapCopy(err)
			}
		}
		written += 8 + padded
	}
	return uint32(written), nil
}

func wrapCopy(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errBadImage
	}
	return fmt.Errorf("attach: copy: %w", err)
}
