// Package security drives one charmed-etcd member through snapsim on
// 127.0.0.1 with free ports, and talks TLS to it directly from Go, for the
// security tests (tests/integration/security_test.go) and make cis.
//
// One member needs no network namespace: nothing here checks the address
// a peer connects from against its certificate beyond 127.0.0.1, which
// every certificate minted for these tests covers. Multi-member scenarios
// use tests/lab.
package security

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/cis"
)

// Snap is the snap's name; Daemon its etcd service.
const (
	Snap   = "charmed-etcd"
	Daemon = Snap + ".etcd"
)

// Unit is one snapsim root with the primed snap installed.
type Unit struct {
	// Repo holds bin/snapsim and prime/.
	Repo string
	// Root is the snapsim root.
	Root       string
	Name       string
	Addr       string
	ClientPort int
	PeerPort   int
	// Log receives every command and its output (PEM values shortened).
	Log io.Writer
}

// NewUnit prepares a unit under root on 127.0.0.1 with two free ports.
func NewUnit(repo, root string, log io.Writer) (*Unit, error) {
	if log == nil {
		log = io.Discard
	}
	if _, err := os.Stat(filepath.Join(repo, "prime", "meta", "snap.yaml")); err != nil {
		return nil, fmt.Errorf("no primed snap under %s (make prime): %v", repo, err)
	}
	cp, err := FreePort()
	if err != nil {
		return nil, err
	}
	pp, err := FreePort()
	if err != nil {
		return nil, err
	}
	return &Unit{Repo: repo, Root: root, Name: "m1", Addr: "127.0.0.1", ClientPort: cp, PeerPort: pp, Log: log}, nil
}

// FreePort is a TCP port nothing listens on at the moment.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Snap runs snapsim on the unit and returns its combined output.
func (u *Unit) Snap(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(u.Repo, "bin", "snapsim"), append([]string{"--root", u.Root}, args...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	fmt.Fprintf(u.Log, "$ snap %s\n%s", redact(args), indent(buf.String()))
	if err != nil {
		return buf.String(), fmt.Errorf("snap %s: %v: %s", args[0], err, strings.TrimSpace(buf.String()))
	}
	return buf.String(), nil
}

// Install installs the primed snap and sets the member's identity and
// ports, plus opts (KEY=VALUE).
func (u *Unit) Install(ctx context.Context, opts ...string) error {
	if _, err := u.Snap(ctx, "install", filepath.Join(u.Repo, "prime")); err != nil {
		return err
	}
	return u.Set(ctx, append([]string{"name=" + u.Name, "address=" + u.Addr,
		fmt.Sprintf("client-port=%d", u.ClientPort), fmt.Sprintf("peer-port=%d", u.PeerPort)}, opts...)...)
}

// Set is snap set charmed-etcd opts...
func (u *Unit) Set(ctx context.Context, opts ...string) error {
	_, err := u.Snap(ctx, append([]string{"set", Snap}, opts...)...)
	return err
}

// Unset is snap unset charmed-etcd keys...
func (u *Unit) Unset(ctx context.Context, keys ...string) error {
	_, err := u.Snap(ctx, append([]string{"unset", Snap}, keys...)...)
	return err
}

// Start enables and starts the daemon.
func (u *Unit) Start(ctx context.Context) error {
	_, err := u.Snap(ctx, "start", "--enable", Daemon)
	return err
}

// Stop stops the daemon, if the unit was installed.
func (u *Unit) Stop(ctx context.Context) {
	if _, err := os.Stat(filepath.Join(u.Root, "var", "lib", "snapsim")); err == nil {
		_, _ = u.Snap(ctx, "stop", Daemon)
	}
}

// Common is the unit's $SNAP_COMMON.
func (u *Unit) Common() string { return filepath.Join(u.Root, "var", "snap", Snap, "common") }

// TLSDir is $SNAP_COMMON/tls.
func (u *Unit) TLSDir() string { return filepath.Join(u.Common(), "tls") }

// ClientURL is the member's client URL with scheme.
func (u *Unit) ClientURL(scheme string) string {
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(u.Addr, fmt.Sprint(u.ClientPort)))
}

// PeerURL is the member's peer URL with scheme.
func (u *Unit) PeerURL(scheme string) string {
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(u.Addr, fmt.Sprint(u.PeerPort)))
}

// PID is the daemon's main process, as snapsim's supervisor records it.
func (u *Unit) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(u.Root, "var", "lib", "snapsim", "run", "snap."+Daemon+".json"))
	if err != nil {
		return 0, err
	}
	var rt struct {
		MainPID int    `json:"main-pid"`
		State   string `json:"state"`
	}
	if err := json.Unmarshal(b, &rt); err != nil {
		return 0, err
	}
	if rt.State != "active" || rt.MainPID == 0 {
		return 0, fmt.Errorf("%s is %s", Daemon, rt.State)
	}
	return rt.MainPID, nil
}

// DaemonLog is everything the daemon wrote so far (snap logs -n=all).
func (u *Unit) DaemonLog() string {
	cmd := exec.Command(filepath.Join(u.Repo, "bin", "snapsim"), "--root", u.Root, "logs", "-n=all", Daemon)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// Health is the snap's health as set with snapctl set-health
// (snapsim health prints it as snap info --verbose does).
func (u *Unit) Health(ctx context.Context) (status, message, code string, err error) {
	out, err := u.Snap(ctx, "health")
	if err != nil {
		return "", "", "", err
	}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "status":
			status = v
		case "message":
			message = v
		case "code":
			code = v
		}
	}
	return status, message, code, nil
}

// CheckCommand is snap run charmed-etcd.check args... on the unit.
func CheckCommand(ctx context.Context, u *Unit, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, filepath.Join(u.Repo, "bin", "snapsim"), append([]string{"--root", u.Root, "run", Snap + ".check"}, args...)...)
}

// Check runs charmed-etcd.check with args and -json, and returns its
// report and exit code.
func (u *Unit) Check(ctx context.Context, args ...string) (*cis.Report, int, error) {
	cmd := CheckCommand(ctx, u, append([]string{"-json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return nil, -1, err
	}
	var r cis.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, code, fmt.Errorf("cannot read the check's report (exit %d): %v: %s", code, err, strings.TrimSpace(stderr.String()))
	}
	var text bytes.Buffer
	_ = r.WriteText(&text)
	fmt.Fprintf(u.Log, "$ snap run %s.check %s (exit %d)\n%s", Snap, strings.Join(args, " "), code, indent(text.String()))
	return &r, code, nil
}

// WaitReady waits until the member answers /health with health true over
// the client URL, using cfg for https.
func (u *Unit) WaitReady(ctx context.Context, scheme string, cfg *tls.Config, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		status, body, err := Get(ctx, u.ClientURL(scheme)+"/health", cfg)
		switch {
		case err != nil:
			last = err
		case status != http.StatusOK || !strings.Contains(body, `"health":"true"`):
			last = fmt.Errorf("/health: HTTP %d %s", status, strings.TrimSpace(body))
		default:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("member not ready within %s: %v", timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func redact(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && strings.Contains(v, "-----BEGIN") {
			_, rest, _ := strings.Cut(v, "-----BEGIN ")
			typ, _, _ := strings.Cut(rest, "-----")
			a = k + "=<" + typ + ">"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
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
