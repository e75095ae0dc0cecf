package cis_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/canonical/charmed-etcd-snap/internal/atomicfile"
	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/cis"
	"github.com/canonical/charmed-etcd-snap/internal/configure"
	"github.com/canonical/charmed-etcd-snap/internal/snapctl"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// pki is one member's certificates on 127.0.0.1, from separate peer and
// client CAs.
type pki struct {
	peerCA, clientCA, peer, client *certtest.Cert
}

func newPKI(t *testing.T) *pki {
	p := &pki{peerCA: certtest.NewCA(t, "peer-ca"), clientCA: certtest.NewCA(t, "client-ca")}
	p.peer = p.peerCA.Leaf(t, "m1", "127.0.0.1")
	p.client = p.clientCA.Leaf(t, "m1", "127.0.0.1")
	return p
}

func (p *pki) fullTLS() map[string]any {
	return map[string]any{
		"tls.peer.cert": p.peer.CertPEM, "tls.peer.key": p.peer.KeyPEM, "tls.peer.ca": p.peerCA.CertPEM,
		"tls.client.cert": p.client.CertPEM, "tls.client.key": p.client.KeyPEM, "tls.client.ca": p.clientCA.CertPEM,
	}
}

func with(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// member is one configured member: the hook has written its files.
type member struct {
	t     *testing.T
	paths snapenv.Paths
	ctl   *snapctl.Fake
	env   snapenv.Static
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newMember(t *testing.T, opts map[string]any) *member {
	dir := t.TempDir()
	env := snapenv.Static{SnapDir: filepath.Join(dir, "snap"), DataDir: filepath.Join(dir, "data"), CommonDir: filepath.Join(dir, "common"), Instance: "charmed-etcd"}
	for _, d := range []string{env.SnapDir, env.DataDir, env.CommonDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := &member{t: t, paths: snapenv.PathsOf(env), ctl: snapctl.NewFake(), env: env}
	m.configure(with(map[string]any{"name": "m1", "address": "127.0.0.1", "client-port": freePort(t), "peer-port": freePort(t)}, opts))
	return m
}

// configure sets options and runs the hook, as snap set does (the fake
// reports the daemon inactive, so nothing restarts).
func (m *member) configure(opts map[string]any) {
	m.t.Helper()
	for k, v := range opts {
		m.ctl.SetOption(k, v)
	}
	h := &configure.Hook{Env: m.env, Ctl: m.ctl, Owner: atomicfile.Keep, Log: io.Discard}
	if _, err := h.Run(context.Background()); err != nil {
		m.t.Fatalf("configure hook refused the options: %v", err)
	}
}

// start runs etcd in this process from the rendered file, as the daemon
// does (without dropping privileges), until the test ends.
func (m *member) start() {
	m.t.Helper()
	cfg, err := cis.LoadConfig(m.paths.Config)
	if err != nil {
		m.t.Fatal(err)
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		m.t.Fatalf("cannot start etcd: %v", err)
	}
	m.t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		m.t.Fatalf("etcd stopped: %v", err)
	case <-time.After(60 * time.Second):
		m.t.Fatal("etcd not ready within 60s")
	}
}

func (m *member) check(offline bool) *cis.Report {
	return cis.Check(context.Background(), cis.Options{Paths: m.paths, Owner: os.Getuid(), Offline: offline, Timeout: 5 * time.Second})
}

func failed(r *cis.Report) []string {
	var out []string
	for _, it := range r.Items {
		if !it.Pass {
			out = append(out, it.ID)
		}
	}
	sort.Strings(out)
	return out
}

func assertFailed(t *testing.T, r *cis.Report, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := failed(r); strings.Join(got, ",") != strings.Join(want, ",") {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Errorf("failed items %v, want %v\n%s", got, want, b.String())
	}
}

// TestLive runs the check against etcd serving the rendered configuration.
func TestLive(t *testing.T) {
	p := newPKI(t)
	shared := p.peerCA.Leaf(t, "m1", "127.0.0.1")
	cases := []struct {
		name string
		opts map[string]any
		want []string // the items that fail
		// evidence, per item, that must appear (the live probe's verdict)
		evidence map[string]string
	}{
		{name: "full TLS", opts: p.fullTLS(), evidence: map[string]string{
			"2.2": "live: a connection without a client certificate to https://127.0.0.1",
			"2.7": "live: the peer certificate is refused on the client port",
		}},
		{name: "client-cert-auth=false", opts: with(p.fullTLS(), map[string]any{"tls.client.client-cert-auth": false}), want: []string{"2.2", "2.7"}, evidence: map[string]string{
			"2.2": "FAIL: live: a connection without a client certificate to https://127.0.0.1",
		}},
		{name: "client TLS off", opts: map[string]any{"tls.peer.cert": p.peer.CertPEM, "tls.peer.key": p.peer.KeyPEM, "tls.peer.ca": p.peerCA.CertPEM}, want: []string{"2.1", "2.2", "2.7"}},
		{name: "no TLS", want: []string{"2.1", "2.2", "2.4", "2.5", "2.7", "file.tls-dir", "file.keys"}},
		{name: "peer client-cert-auth=false", opts: with(p.fullTLS(), map[string]any{"tls.peer.client-cert-auth": false}), want: []string{"2.5"}},
		{name: "one CA for both surfaces", opts: with(p.fullTLS(), map[string]any{
			"tls.client.cert": shared.CertPEM, "tls.client.key": shared.KeyPEM, "tls.client.ca": p.peerCA.CertPEM,
		}), want: []string{"2.7"}, evidence: map[string]string{
			"2.7": "FAIL: live: the peer certificate is refused on the client port",
		}},
		{name: "enable-pprof", opts: with(p.fullTLS(), map[string]any{"etcd.enable-pprof": true}), want: []string{"pprof"}, evidence: map[string]string{
			"pprof": "FAIL: live: https://127.0.0.1",
		}},
		{name: "log-level debug", opts: with(p.fullTLS(), map[string]any{"etcd.log-level": "debug"}), want: []string{"pprof"}, evidence: map[string]string{
			"pprof": "FAIL: live: https://127.0.0.1",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMember(t, tc.opts)
			m.start()
			r := m.check(false)
			assertFailed(t, r, tc.want...)
			for id, want := range tc.evidence {
				it := r.Item(id)
				if it == nil || !strings.Contains(strings.Join(it.Evidence, "\n"), want) {
					t.Errorf("item %s has no evidence %q: %+v", id, want, it)
				}
			}
		})
	}
}

// TestLiveDisagreesWithFile: the file on disk asks for client
// certificates, but the running member was started without: the live
// probe must fail 2.2 although the configuration passes.
func TestLiveDisagreesWithFile(t *testing.T) {
	p := newPKI(t)
	m := newMember(t, with(p.fullTLS(), map[string]any{"tls.client.client-cert-auth": false}))
	m.start()
	m.configure(map[string]any{"tls.client.client-cert-auth": true})
	r := m.check(false)
	// The member also accepts the peer certificate on the client port.
	assertFailed(t, r, "2.2", "2.7")
	ev := strings.Join(r.Item("2.2").Evidence, "\n")
	if !strings.Contains(ev, "client-transport-security.client-cert-auth: true") || !strings.Contains(ev, "FAIL: live") {
		t.Errorf("2.2 evidence does not show the file passing and the member failing:\n%s", ev)
	}
	if r := m.check(true); r.Failed() != 0 {
		t.Errorf("offline, only the files count, and they pass: %v", failed(r))
	}
}

// TestFiles checks modes and owners without a running member.
func TestFiles(t *testing.T) {
	p := newPKI(t)
	cases := []struct {
		name  string
		path  func(snapenv.Paths) string
		mode  os.FileMode
		owner int
		want  []string
	}{
		{name: "as written by the hook"},
		{name: "config 0644", path: func(p snapenv.Paths) string { return p.Config }, mode: 0o644, want: []string{"file.config"}},
		{name: "config 0400", path: func(p snapenv.Paths) string { return p.Config }, mode: 0o400},
		{name: "data dir 0755", path: func(p snapenv.Paths) string { return p.DataDir }, mode: 0o755, want: []string{"file.data-dir"}},
		{name: "TLS dir 0750", path: func(p snapenv.Paths) string { return p.TLSDir }, mode: 0o750, want: []string{"file.tls-dir"}},
		{name: "peer key 0640", path: func(p snapenv.Paths) string { return filepath.Join(p.TLSDir, snapenv.PeerKey) }, mode: 0o640, want: []string{"file.keys"}},
		{name: "client key 0604", path: func(p snapenv.Paths) string { return filepath.Join(p.TLSDir, snapenv.ClientKey) }, mode: 0o604, want: []string{"file.keys"}},
		{name: "wrong owner", owner: 4242, want: []string{"file.config", "file.data-dir", "file.tls-dir", "file.keys"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMember(t, p.fullTLS())
			if tc.path != nil {
				if err := os.Chmod(tc.path(m.paths), tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			owner := os.Getuid()
			if tc.owner != 0 {
				owner = tc.owner
			}
			r := cis.Check(context.Background(), cis.Options{Paths: m.paths, Owner: owner, Offline: true})
			assertFailed(t, r, tc.want...)
		})
	}
}
