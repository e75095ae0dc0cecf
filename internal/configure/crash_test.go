package configure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/atomicfile"
	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/snapctl"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// runChild runs the hook in this test binary as a child process, so that a
// failpoint can kill it with SIGKILL halfway through a write.
func runChild(t *testing.T, f *fixture, failpoint string) error {
	t.Helper()
	opts, err := json.Marshal(f.ctl.Options)
	if err != nil {
		t.Fatal(err)
	}
	optsFile := filepath.Join(t.TempDir(), "opts.json")
	if err := os.WriteFile(optsFile, opts, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHookChild$")
	cmd.Env = append(os.Environ(), "HOOK_CHILD_OPTS="+optsFile, "HOOK_CHILD_SNAP="+f.env.SnapDir,
		"HOOK_CHILD_DATA="+f.env.DataDir, "HOOK_CHILD_COMMON="+f.env.CommonDir, atomicfile.FailpointEnv+"="+failpoint)
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child failed without being killed: %v\n%s", err, out)
	}
	return err
}

// TestHookChild is the child side of runChild; it does nothing in a normal run.
func TestHookChild(t *testing.T) {
	optsFile := os.Getenv("HOOK_CHILD_OPTS")
	if optsFile == "" {
		t.Skip("child process of the crash tests only")
	}
	b, err := os.ReadFile(optsFile)
	if err != nil {
		t.Fatal(err)
	}
	ctl := snapctl.NewFake()
	if err := json.Unmarshal(b, &ctl.Options); err != nil {
		t.Fatal(err)
	}
	env := snapenv.Static{SnapDir: os.Getenv("HOOK_CHILD_SNAP"), DataDir: os.Getenv("HOOK_CHILD_DATA"), CommonDir: os.Getenv("HOOK_CHILD_COMMON"), Instance: "charmed-etcd"}
	h := &Hook{Env: env, Ctl: ctl, Cluster: &fakeCluster{}, Owner: atomicfile.Keep, Log: &bytes.Buffer{}}
	if _, err := h.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type diskState struct {
	conf  string
	files map[string]string
}

func (f *fixture) disk() diskState {
	conf, _ := os.ReadFile(f.paths.Config)
	files := map[string]string{}
	entries, _ := os.ReadDir(f.paths.TLSDir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(f.paths.TLSDir, e.Name()))
		files[e.Name()] = string(b)
	}
	return diskState{string(conf), files}
}

var surfaces = map[string][]string{
	"peer":   {snapenv.PeerCert, snapenv.PeerKey, snapenv.PeerCA},
	"client": {snapenv.ClientCert, snapenv.ClientKey, snapenv.ClientCA},
}

var fileRef = regexp.MustCompile(`(?m)^\s+(?:cert-file|key-file|trusted-ca-file): (\S+)$`)

// consistent checks the crash invariants: the config is the old or the new
// one, complete; each surface's files all come from the old set or all from
// the new set; and every file the config names exists.
func consistent(got, old, new diskState) error {
	if got.conf != old.conf && got.conf != new.conf {
		return fmt.Errorf("the config is neither the old nor the new one (%d bytes)", len(got.conf))
	}
	for surface, names := range surfaces {
		fromOld, fromNew := true, true
		for _, n := range names {
			if got.files[n] != old.files[n] {
				fromOld = false
			}
			if got.files[n] != new.files[n] {
				fromNew = false
			}
		}
		if !fromOld && !fromNew {
			return fmt.Errorf("the %s files mix the old and the new set", surface)
		}
	}
	for _, m := range fileRef.FindAllStringSubmatch(got.conf, -1) {
		if _, ok := got.files[filepath.Base(m[1])]; !ok {
			return fmt.Errorf("the config names %s, which is not there", m[1])
		}
	}
	return nil
}

func TestCrashAtEachStepLeavesOldOrNew(t *testing.T) {
	peerCA, clientCA := certtest.NewCA(t, "peer-ca"), certtest.NewCA(t, "client-ca")
	peerA, peerB := peerCA.Leaf(t, "m1", "10.99.0.11"), peerCA.Leaf(t, "m1", "10.99.0.11")
	client := clientCA.Leaf(t, "m1", "10.99.0.11")
	scenarios := []struct {
		name   string
		before func(*snapctl.Fake)
		after  func(*snapctl.Fake)
	}{
		{"peer TLS on", func(*snapctl.Fake) {}, func(c *snapctl.Fake) { setTLS(c, "peer", peerA, peerCA) }},
		{"leaf renewal", func(c *snapctl.Fake) { setTLS(c, "peer", peerA, peerCA) }, func(c *snapctl.Fake) { setTLS(c, "peer", peerB, peerCA) }},
		{"peer off, client on", func(c *snapctl.Fake) { setTLS(c, "peer", peerA, peerCA) }, func(c *snapctl.Fake) {
			c.SetOption("tls.peer", nil)
			setTLS(c, "client", client, clientCA)
		}},
	}
	points := []string{"staged:peer.pem", "staged:peer.key", "staged:peer_ca.pem", "staged:client.pem", "staged-set", "switched",
		"tls-written", "file-written:etcd.conf.yml", "file-renamed:etcd.conf.yml", "config-written"}
	for _, sc := range scenarios {
		for _, fp := range points {
			t.Run(sc.name+"/"+fp, func(t *testing.T) {
				f := newFixture(t)
				sc.before(f.ctl)
				f.mustRun()
				old := f.disk()
				sc.after(f.ctl)
				// The new config, computed on another tree by an uninterrupted run.
				wantNew := func() diskState {
					g := newFixture(t)
					sc.before(g.ctl)
					g.mustRun()
					sc.after(g.ctl)
					g.mustRun()
					d := g.disk()
					d.conf = strings.ReplaceAll(d.conf, g.env.CommonDir, f.env.CommonDir)
					return d
				}
				killed := runChild(t, f, fp) != nil
				got := f.disk()
				nw := wantNew()
				// The new TLS files are what the child was given.
				for _, n := range []string{snapenv.PeerCert, snapenv.PeerKey, snapenv.PeerCA, snapenv.ClientCert, snapenv.ClientKey, snapenv.ClientCA} {
					if _, ok := nw.files[n]; ok {
						nw.files[n] = expectedFile(f, n)
					}
				}
				if err := consistent(got, old, nw); err != nil {
					t.Fatalf("crash at %s (killed=%v): %v", fp, killed, err)
				}
				// The next run converges to the new state.
				if err := runChild(t, f, ""); err != nil {
					t.Fatal(err)
				}
				if got := f.disk(); consistent(got, nw, nw) != nil || got.conf != nw.conf {
					t.Fatalf("no convergence after a crash at %s", fp)
				}
			})
		}
	}
}

// expectedFile is the canonical content the hook writes for a TLS file from
// the fixture's current options.
func expectedFile(f *fixture, name string) string {
	tls, _ := f.ctl.Options["tls"].(map[string]any)
	get := func(surface, key string) string {
		m, _ := tls[surface].(map[string]any)
		s, _ := m[key].(string)
		return s
	}
	switch name {
	case snapenv.PeerCert:
		return get("peer", "cert")
	case snapenv.PeerKey:
		return get("peer", "key")
	case snapenv.PeerCA:
		return get("peer", "ca")
	case snapenv.ClientCert:
		return get("client", "cert")
	case snapenv.ClientKey:
		return get("client", "key")
	case snapenv.ClientCA:
		return get("client", "ca")
	}
	return ""
}
