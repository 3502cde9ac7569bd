package httpapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/webp"

	"github.com/parley-chat/parley/internal/attach"
	"github.com/parley-chat/parley/internal/attach/attachtest"
	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/blob/blobtest"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/redisstore"
	"github.com/parley-chat/parley/internal/redisstore/redistest"
)

// fileEnv is an env with attachments on, over one blob store.
type fileEnv struct {
	*env
	blobs blob.Store
	files *attach.Service
	// dir is the directory store's root ("" for S3).
	dir string
}

type fileOptions struct {
	maxSize int64
	// maxPixels is attach.Config.MaxPixels (the decode budget is 4 × it).
	maxPixels int
	cfg       envConfig
}

// forEachBlobStore runs fn on a directory store and on a real S3 server
// (gofakes3 on loopback, through minio-go), over a real redis-server.
func forEachBlobStore(t *testing.T, o fileOptions, fn func(t *testing.T, e *fileEnv)) {
	t.Helper()
	real := redistest.StartReal(t)
	for _, name := range []string{"dir", "s3"} {
		t.Run(name, func(t *testing.T) {
			fe := &fileEnv{}
			if name == "dir" {
				fe.dir = t.TempDir()
				d, err := blob.NewDir(fe.dir)
				if err != nil {
					t.Fatal(err)
				}
				fe.blobs = d
			} else {
				fe.blobs, _ = blobtest.StartS3(t)
			}
			cfg := o.cfg
			cfg.Attachments = func(store *redisstore.Store, secret []byte) *attach.Service {
				fe.files = attach.New(attach.Config{Blobs: fe.blobs, Store: store, Secret: secret, MaxSize: o.maxSize, MaxPixels: o.maxPixels})
				return fe.files
			}
			fe.env = newEnv(t, real.Addr(), cfg)
			fn(t, fe)
		})
	}
}

// multipartBody builds a multipart/form-data body with one file part.
func multipartBody(t testing.TB, field, name string, content []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	part, err := w.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(content)
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

func (e *fileEnv) upload(roomID, token string, admin bool, name string, content []byte) resp {
	e.t.Helper()
	body, ct := multipartBody(e.t, "file", name, content)
	path := "/api/v1/rooms/" + roomID + "/attachments"
	if admin {
		path = "/api/v1/admin/rooms/" + roomID + "/attachments"
	}
	return e.do(req{method: "POST", path: path, token: token, body: body, header: map[string]string{"Content-Type": ct}})
}

func (e *fileEnv) mustUpload(roomID, token string, admin bool, name string, content []byte) chat.Attachment {
	e.t.Helper()
	r := e.upload(roomID, token, admin, name, content)
	want(e.t, r, http.StatusCreated, "")
	return decode[struct{ Attachment chat.Attachment }](e.t, r).Attachment
}

// stored reports whether the blob store holds an attachment's bytes.
func (e *fileEnv) stored(roomID, id string, thumb bool) bool {
	e.t.Helper()
	rc, _, err := e.blobs.Open(context.Background(), attach.Key(roomID, id, thumb))
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		e.t.Fatalf("open blob: %v", err)
	}
	_ = rc.Close()
	return true
}

// diskFiles lists the files of the directory store ("" for S3: nil).
func (e *fileEnv) diskFiles() []string {
	if e.dir == "" {
		return nil
	}
	var out []string
	_ = filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(e.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func TestAttachmentSendAndServe(t *testing.T) {
	forEachBlobStore(t, fileOptions{}, func(t *testing.T, e *fileEnv) {
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		other, otok := e.mustRoom(map[string]string{"name": "Bo"})
		admin := e.adminToken()
		adminStream, _ := openStream(t, e.url("/api/v1/admin/events"), admin, nil)
		visitorStream, _ := openStream(t, e.url("/api/v1/rooms/"+room.ID+"/events"), vtok, nil)

		shot := testPNG(t, 640, 400)
		a := e.mustUpload(room.ID, vtok, false, "screenshot.png", shot)
		if a.Name != "screenshot.png" || a.Type != "image/png" || a.Size == 0 || a.URL != "/api/v1/rooms/"+room.ID+"/attachments/"+a.ID || a.ThumbnailURL == "" {
			t.Fatalf("got attachment %+v", a)
		}
		if !e.stored(room.ID, a.ID, false) || !e.stored(room.ID, a.ID, true) {
			t.Fatal("the upload was acked before its file and thumbnail were stored")
		}

		// Sent with text; the retry with the same clientId stores nothing new.
		send := map[string]any{"content": "here it is", "attachments": []string{a.ID}, "clientId": "c-1"}
		r := e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: send})
		want(t, r, http.StatusCreated, "")
		m := decode[struct{ Message chat.Message }](t, r).Message
		if len(m.Attachments) != 1 || m.Attachments[0] != a {
			t.Fatalf("sent message has attachments %+v, want [%+v]", m.Attachments, a)
		}
		r = e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: send})
		want(t, r, http.StatusOK, "")
		if again := decode[struct{ Message chat.Message }](t, r).Message; again.Seq != m.Seq || len(again.Attachments) != 1 {
			t.Fatalf("retry got %+v, want the original message", again)
		}
		if n := e.mustStoredRoom(room.ID).MessageCount; n != 1 {
			t.Fatalf("room has %d messages after a retry, want 1", n)
		}
		// Sent again in a new message: refused, nothing stored.
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok,
			body: map[string]any{"attachments": []string{a.ID}}}), http.StatusConflict, "attachment_used")

		for _, s := range []*stream{adminStream, visitorStream} {
			got := message(t, nextMessage(t, s))
			if len(got.Attachments) != 1 || got.Attachments[0] != a {
				t.Fatalf("stream message has attachments %+v, want [%+v]", got.Attachments, a)
			}
		}
		hist := decode[struct{ Messages []chat.Message }](t, e.do(req{method: "GET", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok}))
		if len(hist.Messages) != 1 || len(hist.Messages[0].Attachments) != 1 || hist.Messages[0].Attachments[0] != a {
			t.Fatalf("history %+v", hist.Messages)
		}

		// Served to the room's visitor, to admins and to an API token that
		// reads conversations, inline as an image.
		reader := e.mustAPIToken(admin, "files reader", "read").Token.Token
		for _, tok := range []string{vtok, admin, reader} {
			r := e.do(req{method: "GET", path: a.URL, token: tok})
			want(t, r, http.StatusOK, "")
			if !bytes.Equal(r.body, shot) {
				t.Fatalf("served %d bytes, want the %d uploaded", len(r.body), len(shot))
			}
			h := r.header
			if h.Get("Content-Type") != "image/png" || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
				t.Fatalf("headers %v", h)
			}
		}
		r = e.do(req{method: "GET", path: a.ThumbnailURL, token: vtok})
		want(t, r, http.StatusOK, "")
		cfg, _, err := image.DecodeConfig(bytes.NewReader(r.body))
		if err != nil || cfg.Width != 320 || cfg.Height != 200 {
			t.Fatalf("thumbnail %dx%d (%v), want 320x200", cfg.Width, cfg.Height, err)
		}

		// Nobody else: no token 401, another visitor 403, a bad link 401.
		want(t, e.do(req{method: "GET", path: a.URL}), http.StatusUnauthorized, "unauthorized")
		want(t, e.do(req{method: "GET", path: a.URL, token: otok}), http.StatusForbidden, "forbidden")
		want(t, e.do(req{method: "GET", path: a.URL + "?exp=9999999999&sig=forged"}), http.StatusUnauthorized, "unauthorized")
		// Another room's path does not reach the file even for an admin.
		want(t, e.do(req{method: "GET", path: "/api/v1/rooms/" + other.ID + "/attachments/" + a.ID, token: admin}), http.StatusNotFound, "not_found")
		// A signed link (mail transcripts) works without a token, until it expires.
		want(t, e.do(req{method: "GET", path: a.URL + "?" + e.files.Sign(room.ID, a.ID, time.Now().Add(time.Hour))}), http.StatusOK, "")
		want(t, e.do(req{method: "GET", path: a.URL + "?" + e.files.Sign(room.ID, a.ID, time.Now().Add(-time.Second))}), http.StatusUnauthorized, "unauthorized")

		// An agent's PDF, without text: a download.
		pdf := e.mustUpload(room.ID, admin, true, "invoice.pdf", pdfBytes)
		if pdf.Type != "application/pdf" || pdf.ThumbnailURL != "" {
			t.Fatalf("pdf attachment %+v", pdf)
		}
		r = e.do(req{method: "POST", path: "/api/v1/admin/rooms/" + room.ID + "/messages", token: admin, body: map[string]any{"attachments": []string{pdf.ID}}})
		want(t, r, http.StatusCreated, "")
		if got := message(t, nextMessage(t, visitorStream)); got.Content != "" || len(got.Attachments) != 1 || got.Attachments[0].ID != pdf.ID {
			t.Fatalf("visitor got %+v", got)
		}
		r = e.do(req{method: "GET", path: pdf.URL, token: vtok})
		want(t, r, http.StatusOK, "")
		if d := r.header.Get("Content-Disposition"); d != "attachment; filename*=UTF-8''invoice.pdf" || !bytes.Equal(r.body, pdfBytes) {
			t.Fatalf("pdf served with %q, %d bytes", d, len(r.body))
		}
		want(t, e.do(req{method: "GET", path: pdf.URL + "?variant=thumb", token: vtok}), http.StatusNotFound, "not_found")
	})
}

func TestAttachmentLimits(t *testing.T) {
	forEachBlobStore(t, fileOptions{maxSize: 64 << 10, cfg: envConfig{Limits: chat.Limits{Uploads: &chat.Limit{N: 3, Per: time.Minute}}}}, func(t *testing.T, e *fileEnv) {
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		admin := e.adminToken()
		big := append([]byte("plain text "), bytes.Repeat([]byte("x"), 70<<10)...)
		r := e.upload(room.ID, admin, true, "big.txt", big)
		want(t, r, http.StatusRequestEntityTooLarge, "attachment_too_large")

		// Types are sniffed: a name or a declared type does not matter.
		for name, content := range map[string][]byte{
			"page.png":  []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"),
			"logo.png":  []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
			"setup.pdf": append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 200)...),
		} {
			want(t, e.upload(room.ID, admin, true, name, content), http.StatusUnsupportedMediaType, "attachment_type_not_allowed")
		}
		if got := e.diskFiles(); len(got) != 0 {
			t.Fatalf("refused uploads left files: %v", got)
		}

		// Files per message.
		var ids []string
		for range chat.MaxAttachments + 1 {
			ids = append(ids, chat.NewAttachmentID())
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: map[string]any{"attachments": ids}}),
			http.StatusBadRequest, "too_many_attachments")

		// Uploads per visitor per minute (admins are not counted).
		for range 3 {
			e.mustUpload(room.ID, vtok, false, "a.txt", []byte("hello"))
		}
		want(t, e.upload(room.ID, vtok, false, "a.txt", []byte("hello")), http.StatusTooManyRequests, "rate_limited")
		e.mustUpload(room.ID, admin, true, "a.txt", []byte("hello"))

		// An image of too many pixels is refused before it is decoded.
		huge := testPNG(t, 1, 1)
		huge = pngWithSize(t, huge, 100_000, 100_000)
		want(t, e.upload(room.ID, admin, true, "huge.png", huge), http.StatusRequestEntityTooLarge, "image_too_large")
	})
}

// pngWithSize rewrites the IHDR of a PNG to claim another size (with a
// valid CRC), as a decompression bomb would.
func pngWithSize(t testing.TB, p []byte, w, h uint32) []byte {
	t.Helper()
	out := bytes.Clone(p)
	binary.BigEndian.PutUint32(out[16:], w)
	binary.BigEndian.PutUint32(out[20:], h)
	binary.BigEndian.PutUint32(out[29:], crc32IEEE(out[12:29]))
	return out
}

func TestAttachmentBadInput(t *testing.T) {
	forEachBlobStore(t, fileOptions{}, func(t *testing.T, e *fileEnv) {
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		other, otok := e.mustRoom(map[string]string{"name": "Bo"})
		path := "/api/v1/rooms/" + room.ID + "/attachments"

		// Not multipart, no file field, an empty file.
		want(t, e.do(req{method: "POST", path: path, token: vtok, body: map[string]string{"file": "x"}}), http.StatusBadRequest, "invalid_request")
		body, ct := multipartBody(t, "other", "a.txt", []byte("hello"))
		want(t, e.do(req{method: "POST", path: path, token: vtok, body: body, header: map[string]string{"Content-Type": ct}}), http.StatusBadRequest, "invalid_request")
		want(t, e.upload(room.ID, vtok, false, "a.txt", nil), http.StatusBadRequest, "invalid_request")

		// Truncated: the body ends before the closing boundary.
		body, ct = multipartBody(t, "file", "a.txt", bytes.Repeat([]byte("hello "), 20000))
		r := e.do(req{method: "POST", path: path, token: vtok, body: body[:len(body)/2], header: map[string]string{"Content-Type": ct}})
		want(t, r, http.StatusBadRequest, "invalid_request")
		if got := e.diskFiles(); len(got) != 0 {
			t.Fatalf("bad uploads left files: %v", got)
		}

		// Unknown id, another room's id, a malformed id.
		for _, id := range []string{chat.NewAttachmentID(), "../../etc/passwd"} {
			want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: map[string]any{"attachments": []string{id}}}),
				http.StatusBadRequest, "attachment_unknown")
		}
		theirs := e.mustUpload(other.ID, otok, false, "theirs.txt", []byte("their file"))
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: map[string]any{"content": "hi", "attachments": []string{theirs.ID}}}),
			http.StatusBadRequest, "attachment_unknown")
		if n := e.mustStoredRoom(room.ID).MessageCount; n != 0 {
			t.Fatalf("refused sends stored %d messages", n)
		}
		// A visitor may not upload into another room.
		want(t, e.upload(other.ID, vtok, false, "a.txt", []byte("hello")), http.StatusForbidden, "forbidden")

		// A path-like name: shown by its base name, stored under an id.
		a := e.mustUpload(room.ID, vtok, false, "../../etc/passwd", []byte("root:x:0:0"))
		if a.Name != "passwd" {
			t.Fatalf("name %q, want passwd", a.Name)
		}
		if e.dir != "" {
			got := e.diskFiles()
			wantFiles := map[string]bool{"rooms/" + room.ID + "/" + a.ID: true, "rooms/" + other.ID + "/" + theirs.ID: true}
			if len(got) != 2 || !wantFiles[got[0]] || !wantFiles[got[1]] {
				t.Fatalf("store holds %v, want %v", got, wantFiles)
			}
			if _, err := os.Stat(filepath.Join(e.dir, "..", "etc")); err == nil {
				t.Fatal("a file was written outside the store")
			}
		}
	})
}

// jpegWithGPS returns a JPEG carrying an Exif APP1 segment with a GPS IFD
// (latitude 48°51'N), as a phone camera writes it.
func jpegWithGPS(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, img, nil); err != nil {
		t.Fatal(err)
	}
	payload := append([]byte("Exif\x00\x00"), gpsTIFF()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{0xFF, 0xD8}, seg...)
	return append(out, plain.Bytes()[2:]...)
}

// gpsTIFF returns Exif's TIFF structure with a GPS IFD (latitude 48°51'N).
func gpsTIFF() []byte {
	// TIFF, big endian: IFD0 with one entry GPSInfo (0x8825) → GPS IFD with
	// GPSLatitudeRef 'N' and GPSLatitude 48/1 51/1 0/1.
	var tiff bytes.Buffer
	be := binary.BigEndian
	w := func(v any) { _ = binary.Write(&tiff, be, v) }
	tiff.WriteString("MM")
	w(uint16(42))
	w(uint32(8))
	// IFD0 at 8: 1 entry.
	w(uint16(1))
	w(uint16(0x8825))
	w(uint16(4))
	w(uint32(1))
	w(uint32(26)) // GPS IFD offset
	w(uint32(0))
	// GPS IFD at 26: 2 entries.
	w(uint16(2))
	w(uint16(1)) // GPSLatitudeRef
	w(uint16(2))
	w(uint32(2))
	tiff.WriteString("N\x00\x00\x00")
	w(uint16(2)) // GPSLatitude
	w(uint16(5))
	w(uint32(3))
	w(uint32(56))
	w(uint32(0))
	for _, v := range []uint32{48, 1, 51, 1, 0, 1} {
		w(v)
	}
	return tiff.Bytes()
}

func TestAttachmentMetadataStripped(t *testing.T) {
	forEachBlobStore(t, fileOptions{}, func(t *testing.T, e *fileEnv) {
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		photo := jpegWithGPS(t)
		if !bytes.Contains(photo, []byte("Exif\x00\x00MM")) {
			t.Fatal("the test photo has no Exif")
		}
		a := e.mustUpload(room.ID, vtok, false, "IMG_0001.jpg", photo)
		r := e.do(req{method: "GET", path: a.URL, token: vtok})
		want(t, r, http.StatusOK, "")
		if bytes.Contains(r.body, []byte("Exif")) || bytes.Contains(r.body, []byte{0x88, 0x25}) || bytes.Contains(r.body, []byte{0xFF, 0xE1}) {
			t.Fatal("the served JPEG still carries its Exif/GPS segment")
		}
		if a.Size != int64(len(r.body)) || a.Size >= int64(len(photo)) {
			t.Fatalf("size %d, served %d, uploaded %d", a.Size, len(r.body), len(photo))
		}
		img, err := jpeg.Decode(bytes.NewReader(r.body))
		if err != nil || img.Bounds().Dx() != 64 || img.Bounds().Dy() != 48 {
			t.Fatalf("stripped JPEG does not decode as 64x48: %v", err)
		}

		// PNG: text and eXIf chunks go, the picture stays.
		p := testPNG(t, 8, 8)
		withText := insertPNGChunk(p, "tEXt", []byte("Comment\x00taken at home, 48.85N 2.35E"))
		withText = insertPNGChunk(withText, "eXIf", []byte("MM\x00\x2a\x00\x00\x00\x08"))
		a = e.mustUpload(room.ID, vtok, false, "shot.png", withText)
		r = e.do(req{method: "GET", path: a.URL, token: vtok})
		if bytes.Contains(r.body, []byte("tEXt")) || bytes.Contains(r.body, []byte("eXIf")) || !bytes.Equal(r.body, p) {
			t.Fatalf("served PNG still carries metadata, or lost its picture (%d bytes, want %d)", len(r.body), len(p))
		}
	})
}

// insertPNGChunk adds a chunk right after IHDR.
func insertPNGChunk(p []byte, typ string, data []byte) []byte {
	const afterIHDR = 8 + 8 + 13 + 4
	var c bytes.Buffer
	_ = binary.Write(&c, binary.BigEndian, uint32(len(data)))
	c.WriteString(typ)
	c.Write(data)
	_ = binary.Write(&c, binary.BigEndian, crc32IEEE(append([]byte(typ), data...)))
	out := append([]byte{}, p[:afterIHDR]...)
	out = append(out, c.Bytes()...)
	return append(out, p[afterIHDR:]...)
}

func TestAttachmentsGoWithTheRoom(t *testing.T) {
	forEachBlobStore(t, fileOptions{cfg: envConfig{RoomTTL: 2 * time.Second}}, func(t *testing.T, e *fileEnv) {
		ctx := context.Background()
		admin := e.adminToken()

		// Deleted by the visitor, and by an admin.
		for _, byAdmin := range []bool{false, true} {
			room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
			a := e.mustUpload(room.ID, vtok, false, "shot.png", testPNG(t, 40, 40))
			e.mustSend(room.ID, vtok, false, "see the screenshot")
			tok, path := vtok, "/api/v1/rooms/"+room.ID
			if byAdmin {
				tok, path = admin, "/api/v1/admin/rooms/"+room.ID
			}
			want(t, e.do(req{method: "DELETE", path: path, token: tok}), http.StatusNoContent, "")
			if e.stored(room.ID, a.ID, false) || e.stored(room.ID, a.ID, true) {
				t.Fatalf("deleting the room (admin %v) left its files", byAdmin)
			}
			want(t, e.do(req{method: "GET", path: a.URL, token: admin}), http.StatusNotFound, "not_found")
		}

		// Expired by retention: the sweeper deletes the files.
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		a := e.mustUpload(room.ID, vtok, false, "notes.txt", []byte("some notes"))
		r := e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: map[string]any{"attachments": []string{a.ID}}})
		want(t, r, http.StatusCreated, "")
		if n, err := e.files.Sweep(ctx, time.Now()); err != nil || n != 0 || !e.stored(room.ID, a.ID, false) {
			t.Fatalf("a sweep before the room expired: %d rooms, %v; file kept %v", n, err, e.stored(room.ID, a.ID, false))
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := e.storedRoom(room.ID); errors.Is(err, chat.ErrRoomNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the room did not expire")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n, err := e.files.Sweep(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("sweep after expiry: %d rooms, %v; want 1", n, err)
		}
		if e.stored(room.ID, a.ID, false) {
			t.Fatal("an expired room's file survived the sweep")
		}
		if n, err := e.files.Sweep(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("a second sweep found %d rooms (%v): the first did not forget the room", n, err)
		}
	})
}

func TestAttachmentNeverSentExpires(t *testing.T) {
	forEachBlobStore(t, fileOptions{}, func(t *testing.T, e *fileEnv) {
		ctx := context.Background()
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		kept := e.mustUpload(room.ID, vtok, false, "sent.txt", []byte("sent"))
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: map[string]any{"attachments": []string{kept.ID}}}), http.StatusCreated, "")
		orphan := e.mustUpload(room.ID, vtok, false, "forgotten.png", testPNG(t, 30, 30))

		later := time.Now().Add(chat.PendingAttachmentTTL + time.Minute)
		if n, err := e.files.Sweep(ctx, later); err != nil || n != 1 {
			t.Fatalf("sweep: %d rooms, %v; want 1", n, err)
		}
		if e.stored(room.ID, orphan.ID, false) || e.stored(room.ID, orphan.ID, true) {
			t.Fatal("an attachment never sent outlived its wait")
		}
		if !e.stored(room.ID, kept.ID, false) {
			t.Fatal("the sweep deleted a sent attachment of a live room")
		}
		want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: vtok, body: map[string]any{"attachments": []string{orphan.ID}}}),
			http.StatusBadRequest, "attachment_unknown")
		want(t, e.do(req{method: "GET", path: kept.URL, token: vtok}), http.StatusOK, "")
	})
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// nextMessage skips a stream's other events up to its next message.
func nextMessage(t testing.TB, s *stream) sseEvent {
	t.Helper()
	for {
		ev, ok := s.next(5 * time.Second)
		if !ok {
			t.Fatal("stream ended, want a message")
		}
		if ev.Event == "message" {
			return ev
		}
	}
}

func TestAttachmentsInTranscript(t *testing.T) {
	real := redistest.StartReal(t)
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var files *attach.Service
	e := newMailEnvWith(t, real.Addr(), envConfig{Attachments: func(store *redisstore.Store, secret []byte) *attach.Service {
		files = attach.New(attach.Config{Blobs: dir, Store: store, Secret: secret})
		return files
	}})
	room, tok := e.mustRoom(map[string]string{"name": "Jane", "email": "jane@example.com"})
	body, ct := multipartBody(t, "file", "error-report.pdf", pdfBytes)
	r := e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/attachments", token: tok, body: body, header: map[string]string{"Content-Type": ct}})
	want(t, r, http.StatusCreated, "")
	a := decode[struct{ Attachment chat.Attachment }](t, r).Attachment
	want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: tok,
		body: map[string]any{"content": "the report", "attachments": []string{a.ID}}}), http.StatusCreated, "")
	want(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/transcript", token: tok}), http.StatusAccepted, "")
	got := e.smtp.WaitFor(1, 10*time.Second)[0]
	text := plainPart(t, got.Raw)
	prefix := "https://chat.acme.example" + a.URL + "?exp="
	i := strings.Index(text, "error-report.pdf: "+prefix)
	if i < 0 {
		t.Fatalf("the transcript does not list the file with its link:\n%s", text)
	}
	link := strings.Fields(text[i+len("error-report.pdf: "):])[0]
	// The link works without a token.
	r = e.do(req{method: "GET", path: strings.TrimPrefix(link, "https://chat.acme.example")})
	want(t, r, http.StatusOK, "")
	if !bytes.Equal(r.body, pdfBytes) {
		t.Fatal("the transcript's link does not serve the file")
	}
}

// plainPart returns the decoded text/plain part of a raw MIME mail.
func plainPart(t testing.TB, raw []byte) string {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p) // multipart decodes quoted-printable
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// TestAttachmentBlockedVisitorCannotUpload: a blocked visitor's upload gets
// the refusal their sends get (403 forbidden, "this conversation has been
// blocked"), whether the room or the address it comes from is blocked, and
// nothing is stored; the admins still upload into the room, and the
// unblocked visitor uploads again.
func TestAttachmentBlockedVisitorCannotUpload(t *testing.T) {
	o := fileOptions{cfg: envConfig{TrustedProxies: []string{"127.0.0.1/32", "::1"}}}
	forEachBlobStore(t, o, func(t *testing.T, e *fileEnv) {
		at := e.adminToken()
		uploadFrom := func(roomID, token, ip string) resp {
			body, ct := multipartBody(t, "file", "shot.png", testPNG(t, 16, 16))
			return e.do(req{method: "POST", path: "/api/v1/rooms/" + roomID + "/attachments", token: token, body: body,
				header: map[string]string{"Content-Type": ct, "X-Forwarded-For": ip}})
		}
		const ip = "2001:db8:5:6::1"
		open := func() (chat.Room, string) {
			r := e.do(req{method: "POST", path: "/api/v1/rooms", header: from(ip)})
			want(t, r, http.StatusCreated, "")
			rt := decode[roomToken](t, r)
			return rt.Room, rt.Token
		}
		room, token := open()
		sameIP, sameIPToken := open()
		want(t, uploadFrom(room.ID, token, ip), http.StatusCreated, "")
		files := len(e.diskFiles())

		// The room blocked: its visitor's upload is refused like a send.
		blockPath := "/api/v1/admin/rooms/" + room.ID + "/block"
		want(t, e.do(req{method: "POST", path: blockPath, token: at}), http.StatusNoContent, "")
		wantBlocked(t, e.do(req{method: "POST", path: "/api/v1/rooms/" + room.ID + "/messages", token: token, body: map[string]string{"content": "hi"}}))
		wantBlocked(t, uploadFrom(room.ID, token, ip))
		wantBlocked(t, uploadFrom(room.ID, token, "203.0.113.9"))
		if got := len(e.diskFiles()); got != files {
			t.Fatalf("a refused upload stored files: %d, want %d", got, files)
		}
		// Another room from the same address is not blocked by that.
		want(t, uploadFrom(sameIP.ID, sameIPToken, ip), http.StatusCreated, "")
		// The admins still upload into the blocked room.
		e.mustUpload(room.ID, at, true, "reply.png", testPNG(t, 16, 16))
		files = len(e.diskFiles())

		// The address blocked too: every room's visitor from it is refused.
		want(t, e.do(req{method: "POST", path: blockPath, token: at, body: `{"ip": true, "for": "1h"}`}), http.StatusNoContent, "")
		wantBlocked(t, uploadFrom(sameIP.ID, sameIPToken, ip))
		if got := len(e.diskFiles()); got != files {
			t.Fatalf("a refused upload stored files: %d, want %d", got, files)
		}
		want(t, uploadFrom(sameIP.ID, sameIPToken, "203.0.113.9"), http.StatusCreated, "")

		// Unblocked, the visitor uploads again.
		want(t, e.do(req{method: "DELETE", path: blockPath, token: at}), http.StatusNoContent, "")
		want(t, uploadFrom(room.ID, token, ip), http.StatusCreated, "")
	})
}

// TestAttachmentWebPMetadataStripped: a WebP carrying an EXIF chunk with a
// GPS position and an XMP chunk is stored without them — its header's size
// and flags put right — still decodes as the same picture and has a
// thumbnail; a WebP without metadata is stored as it came.
func TestAttachmentWebPMetadataStripped(t *testing.T) {
	forEachBlobStore(t, fileOptions{}, func(t *testing.T, e *fileEnv) {
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		xmp := []byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="48,51.0N"/></x:xmpmeta>`)
		plain := attachtest.WebP(640, 400, 20, 120, 220)
		photo := attachtest.WebP(640, 400, 20, 120, 220,
			attachtest.Chunk{FourCC: "EXIF", Data: gpsTIFF()}, attachtest.Chunk{FourCC: "XMP ", Data: xmp})
		if !bytes.Contains(photo, gpsTIFF()) || !bytes.Contains(photo, xmp) {
			t.Fatal("the test photo has no EXIF or XMP")
		}
		a := e.mustUpload(room.ID, vtok, false, "photo.webp", photo)
		if a.Type != "image/webp" || a.ThumbnailURL == "" {
			t.Fatalf("got attachment %+v", a)
		}
		r := e.do(req{method: "GET", path: a.URL, token: vtok})
		want(t, r, http.StatusOK, "")
		got := r.body
		for _, leak := range [][]byte{[]byte("EXIF"), []byte("XMP "), []byte("GPSLatitude"), gpsTIFF()[:16]} {
			if bytes.Contains(got, leak) {
				t.Fatalf("the served WebP still carries %q", leak)
			}
		}
		if a.Size != int64(len(got)) || len(got) < 30 || string(got[:4]) != "RIFF" || int(binary.LittleEndian.Uint32(got[4:8])) != len(got)-8 {
			t.Fatalf("served %d bytes (size %d) with RIFF size %d, want the file's length − 8", len(got), a.Size, binary.LittleEndian.Uint32(got[4:8]))
		}
		if string(got[12:16]) != "VP8X" || got[20]&(0x08|0x04) != 0 {
			t.Fatalf("VP8X chunk %q flags %#x: want EXIF and XMP cleared", got[12:16], got[20])
		}
		img, err := webp.Decode(bytes.NewReader(got))
		if err != nil || img.Bounds().Dx() != 640 || img.Bounds().Dy() != 400 {
			t.Fatalf("the stripped WebP does not decode as 640x400: %v", err)
		}
		if c := color.RGBAModel.Convert(img.At(100, 100)).(color.RGBA); c != (color.RGBA{20, 120, 220, 255}) {
			t.Fatalf("stripped WebP pixel %v, want the picture's colour", c)
		}
		r = e.do(req{method: "GET", path: a.ThumbnailURL, token: vtok})
		want(t, r, http.StatusOK, "")
		thumb, err := png.Decode(bytes.NewReader(r.body))
		if err != nil || thumb.Bounds().Dx() != 320 || thumb.Bounds().Dy() != 200 || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("thumbnail (%s): %v", r.header.Get("Content-Type"), err)
		}
		if c := color.RGBAModel.Convert(thumb.At(160, 100)).(color.RGBA); c != (color.RGBA{20, 120, 220, 255}) {
			t.Fatalf("thumbnail pixel %v, want the picture's colour", c)
		}

		// Without metadata: stored byte for byte.
		b := e.mustUpload(room.ID, vtok, false, "plain.webp", plain)
		r = e.do(req{method: "GET", path: b.URL, token: vtok})
		if !bytes.Equal(r.body, plain) {
			t.Fatalf("a WebP without metadata was changed: %d bytes, want %d", len(r.body), len(plain))
		}

		// A broken one is refused, and nothing stays behind (no part).
		files := len(e.diskFiles())
		cut := bytes.Clone(photo)
		binary.LittleEndian.PutUint32(cut[4:8], uint32(len(photo)+100))
		want(t, e.upload(room.ID, vtok, false, "cut.webp", cut), http.StatusBadRequest, "invalid_request")
		if got := e.diskFiles(); len(got) != files {
			t.Fatalf("a refused WebP left files: %v", got)
		}
		for _, f := range e.diskFiles() {
			if strings.HasSuffix(f, ".part") {
				t.Fatalf("a part is left behind: %s", f)
			}
		}
	})
}

// TestAttachmentOverDecodeBudgetHasNoThumbnail: an image within the pixel
// limit whose decode would be over the memory budget (a 16-bit PNG takes 8
// bytes a pixel) is stored and served, without a thumbnail.
func TestAttachmentOverDecodeBudgetHasNoThumbnail(t *testing.T) {
	forEachBlobStore(t, fileOptions{maxPixels: 20_000}, func(t *testing.T, e *fileEnv) {
		room, vtok := e.mustRoom(map[string]string{"name": "Vi"})
		var deep bytes.Buffer
		if err := png.Encode(&deep, image.NewNRGBA64(image.Rect(0, 0, 120, 100))); err != nil { // 96,000 bytes decoded, budget 80,000
			t.Fatal(err)
		}
		a := e.mustUpload(room.ID, vtok, false, "deep.png", deep.Bytes())
		if a.Type != "image/png" || a.ThumbnailURL != "" {
			t.Fatalf("got %+v, want a PNG without a thumbnail", a)
		}
		want(t, e.do(req{method: "GET", path: a.URL + "?variant=thumb", token: vtok}), http.StatusNotFound, "not_found")
		r := e.do(req{method: "GET", path: a.URL, token: vtok})
		want(t, r, http.StatusOK, "")
		if !bytes.Equal(r.body, deep.Bytes()) || !strings.HasPrefix(r.header.Get("Content-Disposition"), "inline") {
			t.Fatalf("served %d bytes (%s)", len(r.body), r.header.Get("Content-Disposition"))
		}
		// Within the budget, a thumbnail as before.
		if b := e.mustUpload(room.ID, vtok, false, "shot.png", testPNG(t, 120, 100)); b.ThumbnailURL == "" {
			t.Fatalf("got %+v, want a thumbnail", b)
		}
	})
}
