package embedded

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"
	"unsafe"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/hyperloglog"
)

// snapshotVersion changes whenever the file format does.
//
// Version 2 files are the magic line, the gob-encoded snapshot, then the
// SHA-256 of everything before it, so a damaged file (a changed byte inside a
// message, a truncated write) is detected at load instead of loading wrong
// data silently. Version 1 files (the gob alone) still load.
const snapshotVersion = 2

// snapshotMagic opens every version 2 file.
const snapshotMagic = "PARLEY-SNAPSHOT 2\n"

// ErrDamaged is returned by Start when the snapshot's checksum does not match.
var ErrDamaged = errors.New("the snapshot is damaged (checksum mismatch)")

// snapshot is the file format (gob, so values stay binary-safe).
type snapshot struct {
	Version int
	Taken   time.Time
	Keys    []snapKey
}

type snapKey struct {
	Key  string
	Type string // string, hash, list, set, zset or hll
	// ExpireAt is when the key expires; zero means never.
	ExpireAt time.Time
	Str      string
	Hash     map[string]string
	List     []string
	Set      []string
	ZSet     map[string]float64
	HLL      []byte
}

// dump reads the whole of database 0 under miniredis's lock, so the snapshot
// is one consistent point in time (a room's hash and its message list always
// agree in it).
//
// miniredis has no export API for every type (none at all for HyperLogLogs),
// so dump reads its maps with reflection. The field names are checked, and
// the snapshot round trip is tested against the miniredis version in go.mod.
func dump(m *miniredis.Miniredis) (snapshot, error) {
	db := m.DB(0) // locks m by itself, so before m.Lock
	m.Lock()
	defer m.Unlock()
	snap := snapshot{Version: snapshotVersion, Taken: time.Now()}
	v := reflect.ValueOf(db).Elem()
	f := map[string]reflect.Value{}
	for _, name := range []string{"keys", "stringKeys", "hashKeys", "listKeys", "setKeys", "sortedsetKeys", "hllKeys", "ttl"} {
		fv := v.FieldByName(name)
		if !fv.IsValid() || fv.Kind() != reflect.Map {
			return snapshot{}, fmt.Errorf("embedded: snapshot: this miniredis has no %s map", name)
		}
		f[name] = fv
	}
	names := make([]string, 0, f["keys"].Len())
	for it := f["keys"].MapRange(); it.Next(); {
		names = append(names, it.Key().String())
	}
	sort.Strings(names)
	for _, k := range names {
		kv := reflect.ValueOf(k)
		sk := snapKey{Key: k, Type: f["keys"].MapIndex(kv).String()}
		switch sk.Type {
		case "string":
			sk.Str = f["stringKeys"].MapIndex(kv).String()
		case "hash":
			sk.Hash = map[string]string{}
			for it := f["hashKeys"].MapIndex(kv).MapRange(); it.Next(); {
				sk.Hash[it.Key().String()] = it.Value().String()
			}
		case "list":
			l := f["listKeys"].MapIndex(kv)
			sk.List = make([]string, l.Len())
			for i := range sk.List {
				sk.List[i] = l.Index(i).String()
			}
		case "set":
			for it := f["setKeys"].MapIndex(kv).MapRange(); it.Next(); {
				sk.Set = append(sk.Set, it.Key().String())
			}
		case "zset":
			sk.ZSet = map[string]float64{}
			for it := f["sortedsetKeys"].MapIndex(kv).MapRange(); it.Next(); {
				sk.ZSet[it.Key().String()] = it.Value().Float()
			}
		case "hll":
			sketch, err := hllSketch(f["hllKeys"].MapIndex(kv))
			if err != nil {
				return snapshot{}, err
			}
			if sk.HLL, err = sketch.MarshalBinary(); err != nil {
				return snapshot{}, fmt.Errorf("embedded: snapshot: %s: %w", k, err)
			}
		default:
			continue // streams: Parley uses none
		}
		if ttl := f["ttl"].MapIndex(kv); ttl.IsValid() && ttl.Int() > 0 {
			sk.ExpireAt = snap.Taken.Add(time.Duration(ttl.Int()))
		}
		snap.Keys = append(snap.Keys, sk)
	}
	return snap, nil
}

// hllSketch returns the sketch inside one of miniredis's *hll values.
func hllSketch(h reflect.Value) (*hyperloglog.Sketch, error) {
	if h.Kind() != reflect.Pointer || h.IsNil() {
		return nil, errors.New("embedded: snapshot: unexpected HyperLogLog value")
	}
	inner := h.Elem().FieldByName("inner")
	if !inner.IsValid() || inner.Type() != reflect.TypeFor[*hyperloglog.Sketch]() {
		return nil, errors.New("embedded: snapshot: this miniredis keeps HyperLogLogs differently")
	}
	// inner is unexported: reach it through its address.
	p := reflect.NewAt(inner.Type(), unsafe.Pointer(inner.UnsafeAddr())).Elem()
	return p.Interface().(*hyperloglog.Sketch), nil
}

// setHLL replaces the sketch of an existing HyperLogLog key.
func setHLL(m *miniredis.Miniredis, key string, sketch *hyperloglog.Sketch) error {
	db := m.DB(0)
	m.Lock()
	defer m.Unlock()
	h := reflect.ValueOf(db).Elem().FieldByName("hllKeys")
	if !h.IsValid() || h.Kind() != reflect.Map {
		return errors.New("embedded: load: this miniredis has no hllKeys map")
	}
	v := h.MapIndex(reflect.ValueOf(key))
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("embedded: load: HyperLogLog %s was not created", key)
	}
	inner := v.Elem().FieldByName("inner")
	if !inner.IsValid() || inner.Type() != reflect.TypeFor[*hyperloglog.Sketch]() {
		return errors.New("embedded: load: this miniredis keeps HyperLogLogs differently")
	}
	reflect.NewAt(inner.Type(), unsafe.Pointer(inner.UnsafeAddr())).Elem().Set(reflect.ValueOf(sketch))
	return nil
}

// save writes the snapshot to a temp file, fsyncs it, renames it over path
// and fsyncs the directory, so a crash at any point leaves either the
// previous snapshot or the new one, whole.
func save(m *miniredis.Miniredis, path string) error {
	snap, err := dump(m)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("embedded: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	sum := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(tmp, sum))
	_, err = w.WriteString(snapshotMagic)
	if err == nil {
		err = gob.NewEncoder(w).Encode(&snap)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		_, err = tmp.Write(sum.Sum(nil))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("embedded: snapshot: %w", err)
	}
	return nil
}

// syncDir makes a rename inside dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// decodeSnapshot checks and decodes a snapshot file's bytes.
func decodeSnapshot(data []byte) (snapshot, error) {
	var snap snapshot
	if body, ok := bytes.CutPrefix(data, []byte(snapshotMagic)); ok {
		if len(body) < sha256.Size {
			return snap, ErrDamaged
		}
		end := len(data) - sha256.Size
		if got := sha256.Sum256(data[:end]); !bytes.Equal(got[:], data[end:]) {
			return snap, ErrDamaged
		}
		if err := gob.NewDecoder(bytes.NewReader(body[:len(body)-sha256.Size])).Decode(&snap); err != nil {
			return snap, err
		}
		if snap.Version != snapshotVersion {
			return snap, fmt.Errorf("unknown snapshot version %d", snap.Version)
		}
		return snap, nil
	}
	// Version 1: the gob alone, written before checksums.
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&snap); err != nil {
		return snap, err
	}
	if snap.Version != 1 {
		return snap, fmt.Errorf("unknown snapshot version %d", snap.Version)
	}
	return snap, nil
}

// load reads the snapshot at path into m, which is not serving yet, and
// returns the number of keys loaded. A missing file loads nothing.
func load(m *miniredis.Miniredis, path string, now time.Time) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", path, err)
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", path, err)
	}
	db := m.DB(0)
	n := 0
	for _, k := range snap.Keys {
		var ttl time.Duration
		if !k.ExpireAt.IsZero() {
			if ttl = k.ExpireAt.Sub(now); ttl <= 0 {
				continue // expired while the server was down
			}
		}
		var err error
		switch k.Type {
		case "string":
			err = db.Set(k.Key, k.Str)
		case "hash":
			fv := make([]string, 0, 2*len(k.Hash))
			for field, v := range k.Hash {
				fv = append(fv, field, v)
			}
			db.HSet(k.Key, fv...)
		case "list":
			_, err = db.Push(k.Key, k.List...)
		case "set":
			_, err = db.SetAdd(k.Key, k.Set...)
		case "zset":
			for member, score := range k.ZSet {
				if _, err = db.ZAdd(k.Key, score, member); err != nil {
					break
				}
			}
		case "hll":
			sketch := hyperloglog.New14()
			if err = sketch.UnmarshalBinary(k.HLL); err == nil {
				if _, err = db.HllAdd(k.Key); err == nil {
					err = setHLL(m, k.Key, sketch)
				}
			}
		default:
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("load %s: key %s: %w", path, k.Key, err)
		}
		if ttl > 0 {
			db.SetTTL(k.Key, ttl)
		}
		n++
	}
	return n, nil
}
