package render

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/etcdconf"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var paths = snapenv.Paths{
	Config:  "/var/snap/charmed-etcd/x1/etcd.conf.yml",
	TLSDir:  "/var/snap/charmed-etcd/common/tls",
	DataDir: "/var/snap/charmed-etcd/common/var/lib/etcd",
}

// fixed certificates would expire; the golden files hold only paths, so
// fresh certificates render the same bytes.
func load(t *testing.T, opts map[string]any) *settings.Settings {
	t.Helper()
	b, _ := json.Marshal(opts)
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(doc)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = time.Now()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func tlsOpts(t *testing.T, authClient any) map[string]any {
	peerCA := certtest.NewCA(t, "peer-ca")
	clientCA := certtest.NewCA(t, "client-ca")
	p := peerCA.Leaf(t, "m1", "10.99.0.11")
	c := clientCA.Leaf(t, "m1", "10.99.0.11")
	client := map[string]any{"cert": c.CertPEM, "key": c.KeyPEM, "ca": clientCA.CertPEM}
	if authClient != nil {
		client["client-cert-auth"] = authClient
	}
	return map[string]any{
		"name": "m1", "address": "10.99.0.11", "initial-cluster": "m1=10.99.0.11,m2=10.99.0.12,m3=10.99.0.13",
		"tls": map[string]any{
			"peer":   map[string]any{"cert": p.CertPEM, "key": p.KeyPEM, "ca": peerCA.CertPEM},
			"client": client,
		},
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts func(t *testing.T) map[string]any
	}{
		{"plain", func(*testing.T) map[string]any {
			return map[string]any{"name": "m1", "address": "10.99.0.11", "initial-cluster": "m1=10.99.0.11,m2=10.99.0.12:2390,m3=http://10.99.0.13:2380"}
		}},
		{"mutual-tls", func(t *testing.T) map[string]any { return tlsOpts(t, nil) }},
		{"one-way-client-tls", func(t *testing.T) map[string]any { return tlsOpts(t, "false") }},
		{"pass-through", func(*testing.T) map[string]any {
			return map[string]any{"name": "m1", "address": "10.99.0.11", "listen-address": "0.0.0.0",
				"etcd": map[string]any{"quota-backend-bytes": 8589934592, "heartbeat-interval": 200, "election-timeout": 2000, "auto-compaction-retention": "1h"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Config(load(t, tc.opts(t)), paths)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(got) != string(want) {
				t.Fatalf("rendered config differs from %s:\n%s", golden, got)
			}
			if err := etcdconf.CheckStrict(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// F8: the rendered file, read by etcd itself, gives TLS on both surfaces
// with the snap's files: a wrong key name would be ignored by etcd and
// leave it serving plaintext.
func TestEtcdReadsTheTLSFields(t *testing.T) {
	for _, tc := range []struct {
		name       string
		auth       any
		wantAuth   bool
		wantCAFile string
	}{
		{"mutual", nil, true, "/var/snap/charmed-etcd/common/tls/client_ca.pem"},
		{"one-way", false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, err := Config(load(t, tlsOpts(t, tc.auth)), paths)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "etcd.conf.yml")
			if err := os.WriteFile(path, conf, 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := embed.ConfigFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := paths.TLSDir + "/"
			checks := []struct{ field, got, want string }{
				{"peer cert-file", cfg.PeerTLSInfo.CertFile, dir + "peer.pem"},
				{"peer key-file", cfg.PeerTLSInfo.KeyFile, dir + "peer.key"},
				{"peer trusted-ca-file", cfg.PeerTLSInfo.TrustedCAFile, dir + "peer_ca.pem"},
				{"client cert-file", cfg.ClientTLSInfo.CertFile, dir + "client.pem"},
				{"client key-file", cfg.ClientTLSInfo.KeyFile, dir + "client.key"},
				{"client trusted-ca-file", cfg.ClientTLSInfo.TrustedCAFile, tc.wantCAFile},
				{"listen-peer-urls", cfg.ListenPeerUrls[0].String(), "https://10.99.0.11:2380"},
				{"listen-client-urls", cfg.ListenClientUrls[0].String(), "https://10.99.0.11:2379"},
				{"initial-cluster", cfg.InitialCluster, "m1=https://10.99.0.11:2380,m2=https://10.99.0.12:2380,m3=https://10.99.0.13:2380"},
				{"tls-min-version", cfg.TlsMinVersion, "TLS1.2"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			if !cfg.PeerTLSInfo.ClientCertAuth {
				t.Error("peer client-cert-auth is off")
			}
			if cfg.ClientTLSInfo.ClientCertAuth != tc.wantAuth {
				t.Errorf("client client-cert-auth = %v, want %v", cfg.ClientTLSInfo.ClientCertAuth, tc.wantAuth)
			}
			if len(cfg.CipherSuites) == 0 {
				t.Error("no cipher suites")
			}
		})
	}
}

func TestSameAfterBootstrap(t *testing.T) {
	a, _ := Config(load(t, map[string]any{"name": "m1", "address": "10.99.0.11"}), paths)
	b, _ := Config(load(t, map[string]any{"name": "m1", "address": "10.99.0.11", "initial-cluster": "m1=10.99.0.11,m2=10.99.0.12", "initial-cluster-state": "existing"}), paths)
	c, _ := Config(load(t, map[string]any{"name": "m1", "address": "10.99.0.11", "client-port": 3379}), paths)
	if !SameAfterBootstrap(a, b) {
		t.Error("a change of bootstrap keys only was seen as a change")
	}
	if SameAfterBootstrap(a, c) {
		t.Error("a port change was seen as no change")
	}
}
