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

func wrapCopy(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errBadImage
	}
	return fmt.Errorf("attach: copy: %w", err)
}
