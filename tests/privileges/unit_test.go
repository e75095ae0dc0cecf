// Package privileges checks, with real hooks and a real daemon run by
// snapsim from the primed snap, what the snap promises about users and
// files (DESIGN.md section 3) and across a refresh. The tests need root: the
// hooks give files to the daemon user and the daemon drops to it only when
// they start as root. They need make prime and make bin/snapsim.
package privileges

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

const snapName = "charmed-etcd"

// repoRoot finds the repository from the package directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// needRoot skips a test when not root: only root can hand files to the
// daemon user and start a daemon that drops to it.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root (the hooks chown to uid 584788 and the daemon drops to it only when started as root)")
	}
}

// unit is one snapsim root with the primed snap installed.
type unit struct {
	t       *testing.T
	snapsim string
	prime   string
	root    string
	// wrap runs before snapsim when set (setpriv, to model the sandbox).
	wrap []string
}

func newUnit(t *testing.T) *unit {
	t.Helper()
	needRoot(t)
	repo := repoRoot(t)
	u := &unit{t: t, snapsim: filepath.Join(repo, "bin", "snapsim"), prime: filepath.Join(repo, "prime")}
	if _, err := os.Stat(u.snapsim); err != nil {
		t.Fatalf("no bin/snapsim: run make bin/snapsim: %v", err)
	}
	if _, err := os.Stat(filepath.Join(u.prime, "meta", "snap.yaml")); err != nil {
		t.Fatalf("no primed snap: run make prime: %v", err)
	}
	// Not t.TempDir: its 0700 directories would keep every other user out
	// and make "cannot read" true for the wrong reason.
	dir, err := os.MkdirTemp("", "charmed-etcd-privileges-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u.root = filepath.Join(dir, "root")
	t.Cleanup(func() {
		u.snap("remove")
		os.RemoveAll(dir)
	})
	return u
}

// snap runs snapsim on the unit and returns its combined output.
func (u *unit) snap(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append(append(append([]string{}, u.wrap...), u.snapsim, "--root", u.root), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// must runs snapsim and stops the test on failure, showing the verb and
// snapsim's output (the hook's messages never hold key material) but not
// the option values, which may.
func (u *unit) must(args ...string) string {
	u.t.Helper()
	out, err := u.snap(args...)
	if err != nil {
		u.t.Fatalf("snapsim %s: %v\n%s", args[0], err, out)
	}
	return out
}

func (u *unit) common() string { return filepath.Join(u.root, "var", "snap", snapName, "common") }
func (u *unit) data() string   { return filepath.Join(u.root, "var", "snap", snapName, "current") }
func (u *unit) tlsDir() string { return filepath.Join(u.common(), "tls") }
func (u *unit) dataDir() string {
	return filepath.Join(u.common(), "var", "lib", "etcd")
}
func (u *unit) config() string { return filepath.Join(u.data(), "etcd.conf.yml") }

// revision is the installed revision (snapsim's local x1, x2...).
func (u *unit) revision() string {
	u.t.Helper()
	rev, err := os.Readlink(filepath.Join(u.root, "snap", snapName, "current"))
	if err != nil {
		u.t.Fatal(err)
	}
	return filepath.Base(rev)
}

// tlsMember is a single-member cluster on 127.0.0.1 with peer and client
// TLS (mutual), from certificates minted by certtest.
type tlsMember struct {
	peerCA, clientCA *certtest.Cert
	clientPort       int
	peerPort         int
}

func newMember(t *testing.T) *tlsMember {
	t.Helper()
	return &tlsMember{
		peerCA: certtest.NewCA(t, "peer-ca"), clientCA: certtest.NewCA(t, "client-ca"),
		clientPort: freePort(t), peerPort: freePort(t),
	}
}

// setArgs is the snapsim set command that configures the member, with a
// fresh leaf for each surface.
func (m *tlsMember) setArgs(t *testing.T) []string {
	t.Helper()
	peer, client := m.peerCA.Leaf(t, "m1", "127.0.0.1"), m.clientCA.Leaf(t, "m1", "127.0.0.1")
	return []string{"set", snapName, "name=m1", "address=127.0.0.1",
		fmt.Sprintf("client-port=%d", m.clientPort), fmt.Sprintf("peer-port=%d", m.peerPort),
		"tls.peer.cert=" + peer.CertPEM, "tls.peer.key=" + peer.KeyPEM, "tls.peer.ca=" + m.peerCA.CertPEM,
		"tls.client.cert=" + client.CertPEM, "tls.client.key=" + client.KeyPEM, "tls.client.ca=" + m.clientCA.CertPEM,
	}
}

// renewClientArgs is the snapsim set command of a renewed client leaf (new
// key, same CA).
func (m *tlsMember) renewClientArgs(t *testing.T) []string {
	t.Helper()
	client := m.clientCA.Leaf(t, "m1", "127.0.0.1")
	return []string{"set", snapName, "tls.client.cert=" + client.CertPEM, "tls.client.key=" + client.KeyPEM}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// etcdctl runs charmed-etcd.etcdctl (this member's endpoint and client TLS
// files by default).
func (u *unit) etcdctl(args ...string) (string, error) {
	return u.snap(append([]string{"run", snapName + ".etcdctl", "--dial-timeout=2s", "--command-timeout=4s"}, args...)...)
}

// waitHealthy waits until the member answers, and shows its log if not.
func (u *unit) waitHealthy() {
	u.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := u.etcdctl("endpoint", "health")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := u.snap("logs", "-n", "30", snapName+".etcd")
			u.t.Fatalf("member not healthy: %v\n%s\nlog:\n%s", err, out, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// daemonPID is the running daemon's PID, from snapsim's service status,
// checked to be a process running the snap's etcd binary.
func (u *unit) daemonPID() int {
	u.t.Helper()
	data, err := os.ReadFile(filepath.Join(u.root, "var", "lib", "snapsim", "run", "snap."+snapName+".etcd.json"))
	if err != nil {
		u.t.Fatal(err)
	}
	var st struct {
		MainPID int    `json:"main-pid"`
		State   string `json:"state"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		u.t.Fatal(err)
	}
	if st.State != "active" || st.MainPID == 0 {
		u.t.Fatalf("daemon not running: %s", data)
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", st.MainPID))
	if err != nil {
		u.t.Fatal(err)
	}
	if want := filepath.Join(u.root, "snap", snapName); !strings.HasPrefix(exe, want+"/") || filepath.Base(exe) != "etcd" {
		u.t.Fatalf("main pid %d runs %s, not the snap's bin/etcd", st.MainPID, exe)
	}
	return st.MainPID
}

// ids is the Uid or Gid line of /proc/PID/status (real, effective, saved, fs).
func ids(t *testing.T, pid int, field string) []string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no %s line in /proc/%d/status", field, pid)
	return nil
}

// fileState is what a refresh or a refused change must not alter.
type fileState struct {
	sum      string
	mode     os.FileMode
	uid, gid uint32
}

// snapshotDir records every regular file of dir.
func snapshotDir(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		sys := st.Sys().(*syscall.Stat_t)
		out[e.Name()] = fileState{hex.EncodeToString(sum[:]), st.Mode().Perm(), sys.Uid, sys.Gid}
	}
	return out
}

// owner checks a path's mode and that the daemon user owns it.
func owner(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if st.Mode().Perm() != mode || sys.Uid != snapenv.DaemonUID || sys.Gid != snapenv.DaemonGID {
		t.Errorf("%s: mode %#o owner %d:%d, want %#o %d:%d", path, st.Mode().Perm(), sys.Uid, sys.Gid,
			mode, snapenv.DaemonUID, snapenv.DaemonGID)
	}
}

// asUser runs a command as uid:gid with no supplementary groups; it returns
// how many bytes it wrote on stdout (never the bytes: they may be a key) and
// its stderr.
func asUser(t *testing.T, uid, gid uint32, name string, args ...string) (int, string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}}
	var n countingWriter
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &n, &stderr
	cmd.Dir = "/"
	err := cmd.Run()
	return int(n), stderr.String(), err
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
