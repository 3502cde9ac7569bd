package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterInstalled tells whether both redis-server and redis-cli (which
// creates the cluster) are on PATH.
func ClusterInstalled() bool {
	if !Installed() {
		return false
	}
	_, err := exec.LookPath("redis-cli")
	return err == nil
}

// clusterWait bounds every wait of the cluster helper: start, creation,
// failover.
const clusterWait = 20 * time.Second

// clusterNodeTimeout is the nodes' cluster-node-timeout in milliseconds:
// small, so a killed primary is failed over within a few seconds.
const clusterNodeTimeout = 2000

// Cluster is a real local Redis Cluster of 3 primaries with one replica each,
// on loopback ports, with persistence off.
type Cluster struct {
	mu    sync.Mutex
	nodes []*clusterNode
}

type clusterNode struct {
	port int
	cmd  *exec.Cmd // nil once killed
	out  *bytes.Buffer
}

func (n *clusterNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// StartCluster starts a 6-node Redis Cluster (3 primaries, 3 replicas) and
// waits until every node says cluster_state:ok, every slot is covered and
// every replica has synced; it skips the test when redis-server or redis-cli
// is not installed. Every process is killed when the test ends.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if !ClusterInstalled() {
		tb.Skip("redis-server or redis-cli not installed")
	}
	c, err := NewCluster(tb.TempDir())
	if err != nil {
		tb.Fatalf("start redis cluster: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// NewCluster is StartCluster for code without a testing.TB (a TestMain that
// shares one cluster across a package): the nodes keep their files under dir,
// and the caller must Close the cluster. On an error every process it started
// is already killed.
func NewCluster(dir string) (c *Cluster, err error) {
	c = &Cluster{}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	ports, err := freeClusterPorts(6)
	if err != nil {
		return nil, err
	}
	for i, port := range ports {
		nodeDir := filepath.Join(dir, "node"+strconv.Itoa(i))
		n, err := startClusterNode(nodeDir, port)
		if n != nil {
			c.nodes = append(c.nodes, n)
		}
		if err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(clusterWait)
	for _, n := range c.nodes {
		for {
			err := ping(n.addr())
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("node %s does not answer: %v\n%s", n.addr(), err, n.out)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitHealthy(ctx, true); err != nil {
		return nil, err
	}
	return c, nil
}

// freeClusterPorts finds n free loopback ports whose cluster bus ports
// (port+10000) are free too.
func freeClusterPorts(n int) ([]int, error) {
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, errors.New("no free port pairs (port, port+10000) on 127.0.0.1")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			_ = l.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			_ = l.Close()
			continue
		}
		held = append(held, l, bus)
		ports = append(ports, port)
	}
	return ports, nil
}

func startClusterNode(dir string, port int) (*clusterNode, error) {
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	n := &clusterNode{port: port, out: &bytes.Buffer{}}
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.Itoa(clusterNodeTimeout),
		"--save", "", "--appendonly", "no", "--protected-mode", "no",
		// A replica syncs at once rather than after the default 5 s.
		"--repl-diskless-sync-delay", "0")
	cmd.Stdout, cmd.Stderr = n.out, n.out
	setParentDeath(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server on port %d: %w", port, err)
	}
	n.cmd = cmd
	return n, nil
}

// Close kills every node that still runs and waits for it to exit.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		n.kill()
	}
}

func (n *clusterNode) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	_ = n.cmd.Wait()
	n.cmd = nil
}

// Addrs returns the host:port of every node started, killed ones included.
func (c *Cluster) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr()
	}
	return out
}

// live returns the addresses of the nodes not killed.
func (c *Cluster) live() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, n := range c.nodes {
		if n.cmd != nil {
			out = append(out, n.addr())
		}
	}
	return out
}

// URL returns a redis-cluster:// URL listing the nodes that run.
func (c *Cluster) URL() string {
	return "redis-cluster://" + strings.Join(c.live(), ",")
}

// nodeInfo is one line of CLUSTER NODES.
type nodeInfo struct {
	addr   string // host:port
	master bool
	failed bool     // flagged fail or fail?
	slots  [][2]int // ranges, both ends included
}

// clusterNodes asks one live node for CLUSTER NODES.
func (c *Cluster) clusterNodes(ctx context.Context) ([]nodeInfo, error) {
	var lastErr error = errors.New("no node runs")
	for _, addr := range c.live() {
		out, err := nodeDo(ctx, addr, "CLUSTER", "NODES")
		if err != nil {
			lastErr = err
			continue
		}
		return parseClusterNodes(out.(string)), nil
	}
	return nil, lastErr
}

// parseClusterNodes reads CLUSTER NODES: id addr@bus flags master ping pong
// epoch link slot...
func parseClusterNodes(s string) []nodeInfo {
	var out []nodeInfo
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		flags := strings.Split(f[2], ",")
		n := nodeInfo{addr: addr, master: slices.Contains(flags, "master"),
			failed: slices.Contains(flags, "fail") || slices.Contains(flags, "fail?")}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") { // a slot being migrated
				continue
			}
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil {
				n.slots = append(n.slots, [2]int{a, b})
			}
		}
		out = append(out, n)
	}
	return out
}

// Primaries returns the addresses of the current masters that are not
// failed, as the cluster sees them.
func (c *Cluster) Primaries() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nodes, err := c.clusterNodes(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range nodes {
		if n.master && !n.failed && len(n.slots) > 0 {
			out = append(out, n.addr)
		}
	}
	slices.Sort(out)
	return out
}

// PrimaryFor returns the address of the master that serves key's slot.
func (c *Cluster) PrimaryFor(ctx context.Context, key string) (string, error) {
	var slot int64 = -1
	for _, addr := range c.live() {
		v, err := nodeDo(ctx, addr, "CLUSTER", "KEYSLOT", key)
		if err == nil {
			slot = v.(int64)
			break
		}
	}
	if slot < 0 {
		return "", errors.New("CLUSTER KEYSLOT: no node answers")
	}
	nodes, err := c.clusterNodes(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range nodes {
		if !n.master || n.failed {
			continue
		}
		for _, r := range n.slots {
			if int(slot) >= r[0] && int(slot) <= r[1] {
				return n.addr, nil
			}
		}
	}
	return "", fmt.Errorf("no master serves slot %d", slot)
}

// KillPrimaryFor kills the process of the master that serves key's slot,
// as a crash would, and returns its address. It first pauses the master's
// writes (CLIENT PAUSE WRITE: a write sent from then on waits, unanswered,
// and fails when the process dies) and waits until its replica's offset
// reaches the master's, so the promoted replica has every write the master
// acknowledged, even under load: a test of what a failover loses must kill
// without it (KillPrimaryNow). (WAIT 1 from a connection of its own would
// not do: WAIT waits only for that connection's writes, so it returns at
// once.) Its replica takes over once the cluster marks it failed
// (WaitHealthy waits for that).
func (c *Cluster) KillPrimaryFor(tb testing.TB, key string) string {
	tb.Helper()
	return c.killPrimary(tb, key, true)
}

// KillPrimaryNow is KillPrimaryFor without waiting for the replica: writes
// not yet replicated are lost, as in a real crash.
func (c *Cluster) KillPrimaryNow(tb testing.TB, key string) string {
	tb.Helper()
	return c.killPrimary(tb, key, false)
}

func (c *Cluster) killPrimary(tb testing.TB, key string, replicated bool) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := c.PrimaryFor(ctx, key)
	if err != nil {
		tb.Fatalf("find the primary of %q: %v", key, err)
	}
	if replicated {
		if err := pauseAndSync(ctx, addr); err != nil {
			tb.Fatalf("sync the replica of %s before the kill: %v", addr, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.addr() == addr {
			n.kill()
			return addr
		}
	}
	tb.Fatalf("primary %s of %q is not one of this cluster's processes", addr, key)
	return ""
}

// StallReplicaOf stops the process of a replica of the master that serves
// key's slot (SIGSTOP) and drops its replication link on the master (CLIENT
// KILL TYPE replica), for d; then the replica goes on (SIGCONT). It returns
// at once. The writes the master acknowledges meanwhile reach no replica
// (with the link up they would wait in the replica's socket buffer and be
// applied when it goes on), so a KillPrimaryNow within d loses them, as a
// crash with a lagging replica would. d must stay well under the node
// timeout (2 s), or the cluster marks the replica failed too and nothing is
// promoted.
func (c *Cluster) StallReplicaOf(tb testing.TB, key string, d time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr, err := c.PrimaryFor(ctx, key)
	if err != nil {
		tb.Fatalf("find the primary of %q: %v", key, err)
	}
	replicas, err := replicasOf(ctx, addr)
	if err != nil || len(replicas) == 0 {
		tb.Fatalf("the replicas of %s: %v (%v)", addr, replicas, err)
	}
	var p *os.Process
	c.mu.Lock()
	for _, n := range c.nodes {
		if n.addr() == replicas[0] && n.cmd != nil {
			p = n.cmd.Process
		}
	}
	c.mu.Unlock()
	if p == nil {
		tb.Fatalf("replica %s of %s is not one of this cluster's processes", replicas[0], addr)
	}
	if err := stopProcess(p); err != nil {
		tb.Fatalf("stop replica %s: %v", replicas[0], err)
	}
	time.AfterFunc(d, func() { _ = continueProcess(p) })
	if _, err := nodeDo(ctx, addr, "CLIENT", "KILL", "TYPE", "replica"); err != nil {
		tb.Fatalf("drop the replication link of %s: %v", addr, err)
	}
}

// replicasOf returns the addresses of the replicas the master at addr
// lists in INFO replication.
func replicasOf(ctx context.Context, addr string) ([]string, error) {
	v, err := nodeDo(ctx, addr, "INFO", "replication")
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range strings.SplitSeq(v.(string), "\n") {
		// slave0:ip=127.0.0.1,port=7001,state=online,offset=…,lag=…
		if !strings.HasPrefix(line, "slave") || !strings.Contains(line, ":ip=") {
			continue
		}
		var ip, port string
		for f := range strings.SplitSeq(strings.TrimSpace(line[strings.Index(line, ":")+1:]), ",") {
			k, val, _ := strings.Cut(f, "=")
			switch k {
			case "ip":
				ip = val
			case "port":
				port = val
			}
		}
		out = append(out, net.JoinHostPort(ip, port))
	}
	return out, nil
}

// pauseAndSync pauses the writes of the master at addr (for 30 s: it is
// killed long before) and waits until one of its replicas has processed the
// master's whole replication stream.
func pauseAndSync(ctx context.Context, addr string) error {
	if _, err := nodeDo(ctx, addr, "CLIENT", "PAUSE", 30000, "WRITE"); err != nil {
		return err
	}
	v, err := nodeDo(ctx, addr, "INFO", "replication")
	if err != nil {
		return err
	}
	info := v.(string)
	want, err := infoInt(info, "master_repl_offset")
	if err != nil {
		return err
	}
	replicas, err := replicasOf(ctx, addr)
	if err != nil {
		return err
	}
	if len(replicas) == 0 {
		return errors.New("it has no replica")
	}
	var got int64
	for {
		for _, r := range replicas {
			v, err := nodeDo(ctx, r, "INFO", "replication")
			if err != nil {
				continue
			}
			if got, err = infoInt(v.(string), "slave_repl_offset"); err == nil && got >= want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replica offset %d, master's %d: %w", got, want, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// infoInt reads the integer field name of an INFO answer.
func infoInt(info, name string) (int64, error) {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO has no %s", name)
}

// WaitHealthy waits (at most 20 s, or until ctx ends) until every node that
// runs says cluster_state:ok with all 16384 slots served by masters that run:
// after KillPrimaryFor, until a replica has been promoted.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, clusterWait)
	defer cancel()
	return c.waitHealthy(ctx, false)
}

// waitHealthy polls until the cluster is whole; at the start (synced) it
// also waits until every node knows all the others and every replica has
// synced with its master, so that a later failover can promote it.
func (c *Cluster) waitHealthy(ctx context.Context, synced bool) error {
	var why string
	for {
		ok, reason := c.healthy(ctx, synced)
		if ok {
			return nil
		}
		why = reason
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy in time: %s", why)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) healthy(ctx context.Context, synced bool) (bool, string) {
	live := c.live()
	for _, addr := range live {
		v, err := nodeDo(ctx, addr, "CLUSTER", "INFO")
		if err != nil {
			return false, addr + ": " + err.Error()
		}
		info := v.(string)
		if !strings.Contains(info, "cluster_state:ok") {
			return false, addr + " says cluster_state is not ok"
		}
		if !strings.Contains(info, "cluster_slots_assigned:16384") {
			return false, addr + " has not every slot assigned"
		}
		if synced && !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(live))) {
			return false, addr + " does not know every node yet"
		}
	}
	nodes, err := c.clusterNodes(ctx)
	if err != nil {
		return false, err.Error()
	}
	covered := 0
	for _, n := range nodes {
		if !n.master || n.failed || !slices.Contains(live, n.addr) {
			continue
		}
		for _, r := range n.slots {
			covered += r[1] - r[0] + 1
		}
	}
	if covered != 16384 {
		return false, fmt.Sprintf("masters that run serve %d of 16384 slots", covered)
	}
	if synced {
		for _, addr := range live {
			v, err := nodeDo(ctx, addr, "INFO", "replication")
			if err != nil {
				return false, addr + ": " + err.Error()
			}
			info := v.(string)
			if strings.Contains(info, "role:slave") && (!strings.Contains(info, "master_link_status:up") ||
				!strings.Contains(info, "master_sync_in_progress:0")) {
				return false, "replica " + addr + " has not synced"
			}
			// The master's side too: a replica can say its link is up while
			// its master still waits to send it a snapshot.
			if strings.Contains(info, "role:master") && strings.Contains(info, "slave0:") &&
				!strings.Contains(info, "state=online") {
				return false, "master " + addr + " has a replica not online yet"
			}
		}
	}
	return true, ""
}

// nodeDo runs one command on one node (not through cluster routing).
func nodeDo(ctx context.Context, addr string, args ...any) (any, error) {
	cl := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, MaxRetries: -1})
	defer cl.Close()
	return cl.Do(ctx, args...).Result()
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o700) }
