package configure

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/atomicfile"
	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/membership"
	"github.com/canonical/charmed-etcd-snap/internal/snapctl"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

type fakeCluster struct {
	updates []string
	moves   int
	err     error
}

func (c *fakeCluster) UpdatePeerURL(_ context.Context, _ membership.Endpoint, name, url string) (bool, error) {
	if c.err != nil {
		return false, c.err
	}
	c.updates = append(c.updates, name+"="+url)
	return true, nil
}

func (c *fakeCluster) MoveLeaderAway(context.Context, membership.Endpoint) (bool, error) {
	c.moves++
	return true, nil
}

type fixture struct {
	t       *testing.T
	env     snapenv.Static
	paths   snapenv.Paths
	ctl     *snapctl.Fake
	cluster *fakeCluster
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	env := snapenv.Static{SnapDir: filepath.Join(dir, "snap"), DataDir: filepath.Join(dir, "data"), CommonDir: filepath.Join(dir, "common"), Instance: "charmed-etcd"}
	for _, d := range []string{env.SnapDir, env.DataDir, env.CommonDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, env: env, paths: snapenv.PathsOf(env), ctl: snapctl.NewFake(), cluster: &fakeCluster{}}
	f.ctl.SetOption("name", "m1")
	f.ctl.SetOption("address", "10.99.0.11")
	return f
}

func (f *fixture) run() (*Result, error) {
	var log bytes.Buffer
	h := &Hook{Env: f.env, Ctl: f.ctl, Cluster: f.cluster, Owner: atomicfile.Keep, Log: &log}
	return h.Run(context.Background())
}

func (f *fixture) mustRun() *Result {
	f.t.Helper()
	r, err := f.run()
	if err != nil {
		f.t.Fatalf("hook failed: %v", err)
	}
	return r
}

// snapshot is every file the hook owns, with content and mtime.
func (f *fixture) snapshot() map[string]string {
	out := map[string]string{}
	for _, root := range []string{f.env.DataDir, f.paths.TLSDir} {
		_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				b, _ := os.ReadFile(p)
				out[p] = string(b) + "|" + info.ModTime().String() + "|" + info.Mode().String()
			}
			return nil
		})
	}
	return out
}

func (f *fixture) initialize() {
	if err := os.MkdirAll(filepath.Join(f.paths.DataDir, "member", "wal"), 0o700); err != nil {
		f.t.Fatal(err)
	}
}

func setTLS(ctl *snapctl.Fake, surface string, leaf, ca *certtest.Cert) {
	ctl.SetOption("tls."+surface+".cert", leaf.CertPEM)
	ctl.SetOption("tls."+surface+".key", leaf.KeyPEM)
	ctl.SetOption("tls."+surface+".ca", ca.CertPEM)
}

func TestDefaultsRenderASingleMemberWithoutRestart(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun()
	if !r.WroteConfig || r.WroteTLS || r.Restarted {
		t.Fatalf("unexpected result %+v", r)
	}
	conf, err := os.ReadFile(f.paths.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen-peer-urls: http://10.99.0.11:2380", "advertise-client-urls: http://10.99.0.11:2379", "initial-cluster: m1=http://10.99.0.11:2380"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if st, _ := os.Stat(f.paths.Config); st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(f.paths.DataDir); st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", st.Mode().Perm())
	}
}

func TestPlan(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	ca2 := certtest.NewCA(t, "peer-ca-2")
	leaf := ca.Leaf(t, "m1", "10.99.0.11")
	renewed := ca.Leaf(t, "m1", "10.99.0.11")
	tests := []struct {
		name        string
		initialized bool
		change      func(ctl *snapctl.Fake)
		wantTLS     bool
		wantConfig  bool
		wantRestart bool
	}{
		{"same options again", true, func(*snapctl.Fake) {}, false, false, false},
		{"leaf renewal", true, func(ctl *snapctl.Fake) {
			ctl.SetOption("tls.peer.cert", renewed.CertPEM)
			ctl.SetOption("tls.peer.key", renewed.KeyPEM)
		}, true, false, false},
		{"CA bundle change", true, func(ctl *snapctl.Fake) {
			ctl.SetOption("tls.peer.ca", ca.CertPEM+ca2.CertPEM)
		}, true, false, true},
		{"initial-cluster on a joined member", true, func(ctl *snapctl.Fake) {
			ctl.SetOption("initial-cluster", "m1=10.99.0.11,m2=10.99.0.12")
		}, false, true, false},
		{"initial-cluster before the first start", false, func(ctl *snapctl.Fake) {
			ctl.SetOption("initial-cluster", "m1=10.99.0.11,m2=10.99.0.12")
		}, false, true, true},
		{"etcd option", true, func(ctl *snapctl.Fake) {
			ctl.SetOption("etcd.heartbeat-interval", 200)
			ctl.SetOption("etcd.election-timeout", 2000)
		}, false, true, true},
		{"peer TLS off", false, func(ctl *snapctl.Fake) {
			ctl.SetOption("tls.peer", nil)
		}, true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			setTLS(f.ctl, "peer", leaf, ca)
			f.mustRun()
			if tc.initialized {
				f.initialize()
			}
			f.ctl.Active["charmed-etcd.etcd"] = true
			before := f.snapshot()
			time.Sleep(10 * time.Millisecond) // mtimes must be able to differ
			tc.change(f.ctl)
			r := f.mustRun()
			if r.WroteTLS != tc.wantTLS || r.WroteConfig != tc.wantConfig || r.Restarted != tc.wantRestart {
				t.Fatalf("got tls=%v config=%v restart=%v, want %v %v %v", r.WroteTLS, r.WroteConfig, r.Restarted, tc.wantTLS, tc.wantConfig, tc.wantRestart)
			}
			if !tc.wantTLS && !tc.wantConfig {
				if after := f.snapshot(); !maps.Equal(before, after) {
					t.Fatalf("files changed although nothing should be written")
				}
			}
			if tc.name == "peer TLS off" {
				if left := f.disk().files; len(left) != 0 {
					t.Fatalf("peer TLS off left files: %d", len(left))
				}
			}
			if tc.wantRestart != (len(f.ctl.Restarts) == 1) {
				t.Fatalf("restarts asked: %v", f.ctl.Restarts)
			}
		})
	}
}

func TestKeyOptionIsReplacedByItsFingerprint(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	leaf := ca.Leaf(t, "m1", "10.99.0.11")
	f := newFixture(t)
	setTLS(f.ctl, "peer", leaf, ca)
	f.mustRun()
	got := f.ctl.Options["tls"].(map[string]any)["peer"].(map[string]any)["key"].(string)
	if !strings.HasPrefix(got, "sha256:") || strings.Contains(got, "PRIVATE") {
		t.Fatalf("key option still holds the key or no fingerprint: %.20q", got)
	}
	stored, err := os.ReadFile(filepath.Join(f.paths.TLSDir, snapenv.PeerKey))
	if err != nil || !strings.Contains(string(stored), "PRIVATE KEY") {
		t.Fatalf("stored key missing: %v", err)
	}
	// The fingerprint set back means "keep the stored key": nothing changes.
	before := f.snapshot()
	if r := f.mustRun(); r.WroteTLS || r.WroteConfig {
		t.Fatalf("re-running with the fingerprint wrote files: %+v", r)
	}
	if !maps.Equal(before, f.snapshot()) {
		t.Fatal("files changed")
	}
	if st, _ := os.Stat(filepath.Join(f.paths.TLSDir, snapenv.PeerKey)); st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", st.Mode().Perm())
	}
}

func TestPeerSchemeChangeOnAJoinedMember(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	leaf := ca.Leaf(t, "m1", "10.99.0.11")
	tests := []struct {
		name       string
		active     bool
		clusterErr error
		wantErr    string
		wantUpdate bool
	}{
		{"running, cluster answers", true, nil, "", true},
		{"running, no quorum", true, errors.New("the cluster does not answer"), "cannot change this member's peer URL from http://10.99.0.11:2380 to https://10.99.0.11:2380: the cluster does not answer", false},
		{"stopped", false, nil, "is not running", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.mustRun()
			f.initialize()
			f.ctl.Active["charmed-etcd.etcd"] = tc.active
			f.cluster.err = tc.clusterErr
			before := f.snapshot()
			setTLS(f.ctl, "peer", leaf, ca)
			r, err := f.run()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				if !maps.Equal(before, f.snapshot()) {
					t.Fatal("a refused change wrote files")
				}
				if len(f.ctl.Restarts) != 0 {
					t.Fatal("a refused change restarted the daemon")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !r.PeerURLUpdated || len(f.cluster.updates) != 1 || f.cluster.updates[0] != "m1=https://10.99.0.11:2380" {
				t.Fatalf("peer URL not updated first: %v", f.cluster.updates)
			}
			if !r.Restarted || f.cluster.moves != 1 {
				t.Fatalf("expected leadership moved and a restart: %+v moves=%d", r, f.cluster.moves)
			}
		})
	}
}

func TestRefusedChangeLeavesEverything(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	other := certtest.NewCA(t, "other-ca")
	good := ca.Leaf(t, "m1", "10.99.0.11")
	wrongSAN := ca.Leaf(t, "m1", "10.99.0.12")
	foreign := other.Leaf(t, "m1", "10.99.0.11")
	tests := []struct {
		name    string
		change  func(*snapctl.Fake)
		wantErr string
	}{
		{"certificate for another address", func(c *snapctl.Fake) { setTLS(c, "peer", wrongSAN, ca) }, "cannot use tls.peer.cert: certificate does not cover this member's address 10.99.0.11"},
		{"certificate from another CA", func(c *snapctl.Fake) { setTLS(c, "peer", foreign, ca) }, "cannot use tls.peer.cert"},
		{"key of another pair", func(c *snapctl.Fake) { setTLS(c, "peer", good, ca); c.SetOption("tls.peer.key", foreign.KeyPEM) }, "does not match tls.peer.cert"},
		{"etcd refuses timing", func(c *snapctl.Fake) { c.SetOption("etcd.heartbeat-interval", 1000) }, "cannot use etcd.heartbeat-interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.mustRun()
			f.ctl.Active["charmed-etcd.etcd"] = true
			before := f.snapshot()
			tc.change(f.ctl)
			_, err := f.run()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "BEGIN") {
				t.Fatalf("error prints PEM: %v", err)
			}
			if !maps.Equal(before, f.snapshot()) || len(f.ctl.Restarts) != 0 {
				t.Fatal("a refused change changed files or restarted")
			}
		})
	}
}
