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
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
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
	// Stream and Groups hold a stream (the admin event log, the mail queue):
	// its entries, and its consumer groups with their pending entries.
	Stream []snapEntry
	Groups []snapGroup
}

type snapEntry struct {
	ID     string
	Values []string
}

type snapGroup struct {
	Name    string
	LastID  string
	Pending []snapPending
}

type snapPending struct {
	ID       string
	Consumer string
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
	for _, name := range []string{"keys", "stringKeys", "hashKeys", "listKeys", "setKeys", "sortedsetKeys", "hllKeys", "streamKeys", "ttl"} {
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
		case "stream":
			var err error
			if sk.Stream, sk.Groups, err = dumpStream(f["streamKeys"].MapIndex(kv)); err != nil {
				return snapshot{}, fmt.Errorf("embedded: snapshot: %s: %w", k, err)
			}
		default:
			continue
		}
		if ttl := f["ttl"].MapIndex(kv); ttl.IsValid() && ttl.Int() > 0 {
			sk.ExpireAt = snap.Taken.Add(time.Duration(ttl.Int()))
		}
		snap.Keys = append(snap.Keys, sk)
	}
	return snap, nil
}

// dumpStream reads one of miniredis's *streamKey values: its entries and its
// consumer groups (last delivered id, pending entries and their consumers).
// The caller holds miniredis's lock; the stream's own mutex guards only
// its methods, which cannot run meanwhile.
func dumpStream(v reflect.Value) ([]snapEntry, []snapGroup, error) {
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, nil, errors.New("unexpected stream value")
	}
	st := v.Elem()
	entries, groups := st.FieldByName("entries"), st.FieldByName("groups")
	if entries.Kind() != reflect.Slice || groups.Kind() != reflect.Map {
		return nil, nil, errors.New("this miniredis keeps streams differently")
	}
	var out []snapEntry
	for i := range entries.Len() {
		e := entries.Index(i)
		id, vals := e.FieldByName("ID"), e.FieldByName("Values")
		if id.Kind() != reflect.String || vals.Kind() != reflect.Slice {
			return nil, nil, errors.New("this miniredis keeps stream entries differently")
		}
		se := snapEntry{ID: id.String(), Values: make([]string, vals.Len())}
		for j := range se.Values {
			se.Values[j] = vals.Index(j).String()
		}
		out = append(out, se)
	}
	var gs []snapGroup
	for it := groups.MapRange(); it.Next(); {
		g := it.Value()
		if g.Kind() != reflect.Pointer || g.IsNil() {
			return nil, nil, errors.New("unexpected stream group value")
		}
		last, pending := g.Elem().FieldByName("lastID"), g.Elem().FieldByName("pending")
		if last.Kind() != reflect.String || pending.Kind() != reflect.Slice {
			return nil, nil, errors.New("this miniredis keeps stream groups differently")
		}
		sg := snapGroup{Name: it.Key().String(), LastID: last.String()}
		for j := range pending.Len() {
			p := pending.Index(j)
			id, consumer := p.FieldByName("id"), p.FieldByName("consumer")
			if id.Kind() != reflect.String || consumer.Kind() != reflect.String {
				return nil, nil, errors.New("this miniredis keeps pending entries differently")
			}
			sg.Pending = append(sg.Pending, snapPending{ID: id.String(), Consumer: consumer.String()})
		}
		gs = append(gs, sg)
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].Name < gs[j].Name })
	return out, gs, nil
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
// returns the number of keys loaded, and the streams, which restoreStreams
// puts back once the server listens. A missing file loads nothing.
func load(m *miniredis.Miniredis, path string, now time.Time) (int, []snapKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("load %s: %w", path, err)
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return 0, nil, fmt.Errorf("load %s: %w", path, err)
	}
	var streams []snapKey
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
		case "stream":
			if len(k.Stream) == 0 && len(k.Groups) == 0 {
				continue
			}
			streams = append(streams, k)
			continue
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
			return 0, nil, fmt.Errorf("load %s: key %s: %w", path, k.Key, err)
		}
		if ttl > 0 {
			db.SetTTL(k.Key, ttl)
		}
		n++
	}
	return n, streams, nil
}

// restoreStreams puts streams back through the server's own commands (XADD
// with their ids, XGROUP CREATE), since miniredis has no API for consumer
// groups. A group's pending entries are made pending again for their
// consumers by reading them once with XREADGROUP, in order, from just
// before the first pending one up to the group's last delivered id; entries
// in between that were not pending are read by a placeholder consumer and
// acknowledged. Delivery counts and idle times start again from zero, so a
// crashed sender's mail is reclaimed one visibility timeout after the start.
func restoreStreams(addr string, keys []snapKey) error {
	if len(keys) == 0 {
		return nil
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	rc := &respConn{w: bufio.NewWriter(c), r: bufio.NewReader(c)}
	for _, k := range keys {
		for _, e := range k.Stream {
			if err := rc.do(append([]string{"XADD", k.Key, e.ID}, e.Values...)...); err != nil {
				return fmt.Errorf("%s: XADD %s: %w", k.Key, e.ID, err)
			}
		}
		for _, g := range k.Groups {
			if err := restoreGroup(rc, k, g); err != nil {
				return fmt.Errorf("%s: group %s: %w", k.Key, g.Name, err)
			}
		}
	}
	return nil
}

const restoreConsumer = "parley-snapshot-restore"

func restoreGroup(rc *respConn, k snapKey, g snapGroup) error {
	pending := map[string]string{}
	for _, p := range g.Pending {
		pending[p.ID] = p.Consumer
	}
	// Start just before the first entry still pending, or at the last
	// delivered id when none is.
	start, first := g.LastID, -1
	for i, e := range k.Stream {
		if _, ok := pending[e.ID]; ok {
			first = i
			break
		}
	}
	if first >= 0 {
		start = "0"
		if first > 0 {
			start = k.Stream[first-1].ID
		}
	}
	if err := rc.do("XGROUP", "CREATE", k.Key, g.Name, start, "MKSTREAM"); err != nil {
		return err
	}
	if first < 0 {
		return nil
	}
	for _, e := range k.Stream[first:] {
		if streamIDLess(g.LastID, e.ID) {
			break
		}
		consumer, ok := pending[e.ID]
		if !ok {
			consumer = restoreConsumer
		}
		if err := rc.do("XREADGROUP", "GROUP", g.Name, consumer, "COUNT", "1", "STREAMS", k.Key, ">"); err != nil {
			return err
		}
		if !ok {
			if err := rc.do("XACK", k.Key, g.Name, e.ID); err != nil {
				return err
			}
		}
	}
	return rc.do("XGROUP", "DELCONSUMER", k.Key, g.Name, restoreConsumer)
}

// streamIDLess compares two stream ids ("ms-seq").
func streamIDLess(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	ams, _ := strconv.ParseUint(am, 10, 64)
	bms, _ := strconv.ParseUint(bm, 10, 64)
	if ams != bms {
		return ams < bms
	}
	asq, _ := strconv.ParseUint(as, 10, 64)
	bsq, _ := strconv.ParseUint(bs, 10, 64)
	return asq < bsq
}

// respConn is the least RESP client restoreStreams needs: this package
// must not import go-redis.
type respConn struct {
	w *bufio.Writer
	r *bufio.Reader
}

// do sends one command and reads its whole reply, returning an error reply
// as an error.
func (rc *respConn) do(args ...string) error {
	fmt.Fprintf(rc.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(rc.w, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := rc.w.Flush(); err != nil {
		return err
	}
	return rc.skip()
}

// skip reads one reply of any type.
func (rc *respConn) skip() error {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return errors.New("empty reply")
	}
	switch line[0] {
	case '-':
		return errors.New(line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n >= 0 {
			_, err = io.CopyN(io.Discard, rc.r, int64(n)+2)
		}
		return err
	case '*':
		n, _ := strconv.Atoi(line[1:])
		for range max(n, 0) {
			if err := rc.skip(); err != nil {
				return err
			}
		}
	}
	return nil
}
