// Package lab runs charmed-etcd members on one machine the way they run on
// three: one network namespace per member, joined by a bridge that lives in
// a namespace of its own, so the root namespace has no route into the lab
// and every client runs inside a member's namespace (ip netns exec). Each
// member is a snapsim unit with the primed snap installed.
//
// The demo (make demo) and the integration tests drive the same code.
package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Options configure a lab.
type Options struct {
	// Repo is the repository root: bin/ and prime/ are read from it.
	Repo string
	// Members is the number of members (3 in the walkthrough).
	Members int
	// Log receives every command and its output.
	Log io.Writer
	// Loopback runs members on 127.0.0.1 with distinct ports instead of
	// network namespaces (for non-root users). SAN checks are weaker there:
	// every connection comes from 127.0.0.1.
	Loopback bool
}

// Lab is a set of members and the namespaces they run in.
type Lab struct {
	Opts    Options
	Dir     string
	ID      string
	Members []*Member
	hub     string
	CA      *CAs
}

// Member is one charmed-etcd unit.
type Member struct {
	lab        *Lab
	Name       string
	Addr       string
	NS         string
	Root       string
	ClientPort int
	PeerPort   int
}

// New makes the namespaces and unit roots of a lab. Call Close when done,
// also on failure.
func New(ctx context.Context, opts Options) (*Lab, error) {
	if opts.Members == 0 {
		opts.Members = 3
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	id := make([]byte, 3)
	_, _ = rand.Read(id)
	l := &Lab{Opts: opts, ID: hex.EncodeToString(id)}
	dir, err := os.MkdirTemp("", "charmed-etcd-lab-"+l.ID+"-")
	if err != nil {
		return nil, err
	}
	l.Dir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	for i := 1; i <= opts.Members; i++ {
		m := &Member{lab: l, Name: fmt.Sprintf("m%d", i), Root: filepath.Join(dir, fmt.Sprintf("m%d", i)), ClientPort: 2379, PeerPort: 2380}
		if opts.Loopback {
			m.Addr = "127.0.0.1"
			m.ClientPort = 22379 + 10*i
			m.PeerPort = 22380 + 10*i
		} else {
			m.Addr = fmt.Sprintf("10.99.0.%d", 10+i)
			m.NS = fmt.Sprintf("ce%s-m%d", l.ID, i)
		}
		l.Members = append(l.Members, m)
	}
	if !opts.Loopback {
		if err := l.makeNetwork(ctx); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func (l *Lab) makeNetwork(ctx context.Context) error {
	l.hub = "ce" + l.ID + "-hub"
	steps := [][]string{
		{"ip", "netns", "add", l.hub},
		{"ip", "-n", l.hub, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", l.hub, "link", "set", "br0", "up"},
	}
	for i, m := range l.Members {
		host := fmt.Sprintf("ve%s%d", l.ID, i+1)
		steps = append(steps,
			[]string{"ip", "netns", "add", m.NS},
			[]string{"ip", "-n", m.NS, "link", "set", "lo", "up"},
			[]string{"ip", "-n", l.hub, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", m.NS},
			[]string{"ip", "-n", l.hub, "link", "set", host, "master", "br0", "up"},
			[]string{"ip", "-n", m.NS, "addr", "add", m.Addr + "/24", "dev", "eth0"},
			[]string{"ip", "-n", m.NS, "link", "set", "eth0", "up"},
		)
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("cannot make the lab network (%s): %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return nil
}

// Close stops every daemon of the lab and removes its namespaces and files.
func (l *Lab) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, m := range l.Members {
		m.StopAll(ctx)
	}
	if !l.Opts.Loopback {
		for _, m := range l.Members {
			_ = exec.CommandContext(ctx, "ip", "netns", "del", m.NS).Run()
		}
		if l.hub != "" {
			_ = exec.CommandContext(ctx, "ip", "netns", "del", l.hub).Run()
		}
	}
	if l.Dir != "" {
		_ = os.RemoveAll(l.Dir)
	}
}

// Bin is a path under the repository's bin/.
func (l *Lab) Bin(name string) string { return filepath.Join(l.Opts.Repo, "bin", name) }

// Prime is the primed snap tree.
func (l *Lab) Prime() string { return filepath.Join(l.Opts.Repo, "prime") }

// Cmd builds a command that runs inside the member's namespace.
func (m *Member) Cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	if m.NS == "" {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", m.NS, name}, args...)...)
}

// Result is the outcome of one command.
type Result struct {
	Out  string
	Err  error
	Code int
}

func (l *Lab) run(cmd *exec.Cmd, show string) Result {
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	if show != "" {
		fmt.Fprintf(l.Opts.Log, "$ %s\n%s", show, indent(buf.String()))
	}
	return Result{Out: buf.String(), Err: err, Code: code}
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}

// Snap runs snapsim against this member's unit.
func (m *Member) Snap(ctx context.Context, args ...string) Result {
	cmd := m.Cmd(ctx, m.lab.Bin("snapsim"), append([]string{"--root", m.Root}, args...)...)
	return m.lab.run(cmd, m.prompt()+"snap "+redact(args))
}

// SnapQuiet runs snapsim without logging the command.
func (m *Member) SnapQuiet(ctx context.Context, args ...string) Result {
	cmd := m.Cmd(ctx, m.lab.Bin("snapsim"), append([]string{"--root", m.Root}, args...)...)
	return m.lab.run(cmd, "")
}

// Etcdctl runs the plain upstream etcdctl (a user's own, with no snap
// defaults) inside this member's namespace.
func (m *Member) Etcdctl(ctx context.Context, args ...string) Result {
	cmd := m.Cmd(ctx, m.lab.Bin("etcdctl-upstream"), args...)
	return m.lab.run(cmd, m.prompt()+"etcdctl "+strings.Join(args, " "))
}

// EtcdctlQuiet is Etcdctl without logging.
func (m *Member) EtcdctlQuiet(ctx context.Context, args ...string) Result {
	return m.lab.run(m.Cmd(ctx, m.lab.Bin("etcdctl-upstream"), args...), "")
}

func (m *Member) prompt() string {
	if m.NS == "" {
		return "[" + m.Name + "] "
	}
	return "[" + m.Name + " " + m.Addr + "] "
}

// redact shortens option values that hold PEM so logs show the option, not the key.
func redact(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && strings.Contains(v, "-----BEGIN") {
			a = k + "=<" + firstPEMType(v) + ">"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

func firstPEMType(v string) string {
	_, rest, _ := strings.Cut(v, "-----BEGIN ")
	t, _, _ := strings.Cut(rest, "-----")
	return t
}

// Common is $SNAP_COMMON of the member's unit.
func (m *Member) Common() string {
	return filepath.Join(m.Root, "var", "snap", "charmed-etcd", "common")
}

// ClientURL is the member's client URL with the given scheme.
func (m *Member) ClientURL(scheme string) string {
	return fmt.Sprintf("%s://%s:%d", scheme, m.Addr, m.ClientPort)
}

// StopAll stops the member's daemon if its unit exists.
func (m *Member) StopAll(ctx context.Context) {
	if _, err := os.Stat(m.Root); err != nil {
		return
	}
	m.SnapQuiet(ctx, "stop", "charmed-etcd.etcd")
}

// Retry calls f until it returns nil or the timeout passes, and returns the last error.
func Retry(ctx context.Context, timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// DaemonPID is the main PID of the member's daemon as snapsim records it (0 if none).
func (m *Member) DaemonPID() int {
	b, err := os.ReadFile(filepath.Join(m.Root, "var", "lib", "snapsim", "run", "snap.charmed-etcd.etcd.json"))
	if err != nil {
		return 0
	}
	var st struct {
		MainPID int    `json:"main-pid"`
		State   string `json:"state"`
	}
	if json.Unmarshal(b, &st) != nil {
		return 0
	}
	return st.MainPID
}

// DaemonLog is the daemon's log as snapsim keeps it.
func (m *Member) DaemonLog() string {
	b, _ := os.ReadFile(filepath.Join(m.Root, "var", "log", "snapsim", "charmed-etcd.etcd.log"))
	return string(b)
}

// Data is $SNAP_DATA of the member's current revision.
func (m *Member) Data() string {
	cur := filepath.Join(m.Root, "var", "snap", "charmed-etcd", "current")
	if p, err := filepath.EvalSymlinks(cur); err == nil {
		return p
	}
	return cur
}
