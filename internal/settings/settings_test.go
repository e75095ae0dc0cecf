package settings_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/certs"
	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
)

func TestDefaults(t *testing.T) {
	s, err := settings.Load(doc(t))
	if err != nil {
		t.Fatalf("cannot load defaults: %v", err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	if s.Address != "127.0.0.1" || s.ClientPort != 2379 || s.PeerPort != 2380 || s.Peer() != nil || s.Client() != nil {
		t.Errorf("unexpected defaults: address %s ports %d/%d", s.Address, s.ClientPort, s.PeerPort)
	}
	if len(s.Members()) != 1 || s.Members()[0].Host != "127.0.0.1" {
		t.Errorf("initial cluster is not this member alone: %+v", s.Members())
	}
}

func boolIs(get func(*settings.Settings) *bool, want bool) func(*testing.T, *settings.Settings) {
	return func(t *testing.T, s *settings.Settings) {
		if b := get(s); b == nil || *b != want {
			t.Errorf("got %v, want %v", b, want)
		}
	}
}

func TestOptionTypes(t *testing.T) {
	l := newLab(t)
	peerCCA := func(s *settings.Settings) *bool { return s.TLS.Peer.ClientCertAuth }
	ports := func(client, peer int) func(*testing.T, *settings.Settings) {
		return func(t *testing.T, s *settings.Settings) {
			if s.ClientPort != client || s.PeerPort != peer {
				t.Errorf("ports %d/%d, want %d/%d", s.ClientPort, s.PeerPort, client, peer)
			}
		}
	}
	accepted := `expected one of true, false, "true", "false"`
	cases := []tcase{
		{name: "bool: JSON true", opts: map[string]any{"tls.peer.client-cert-auth": true}, check: boolIs(peerCCA, true)},
		{name: "bool: JSON false", opts: map[string]any{"tls.peer.client-cert-auth": false}, check: boolIs(peerCCA, false)},
		{name: "bool: string true", opts: map[string]any{"tls.peer.client-cert-auth": "true"}, check: boolIs(peerCCA, true)},
		{name: "bool: string false", opts: map[string]any{"tls.peer.client-cert-auth": "false"}, check: boolIs(peerCCA, false)},
		{name: "bool: yes", opts: map[string]any{"tls.peer.client-cert-auth": "yes"}, want: []string{"cannot use tls.peer.client-cert-auth", accepted + `, got "yes"`}},
		{name: "bool: a key", opts: map[string]any{"tls.peer.client-cert-auth": l.peer.KeyPEM}, want: []string{"cannot use tls.peer.client-cert-auth", accepted, "not shown"}},
		{name: "bool: True", opts: map[string]any{"tls.peer.client-cert-auth": "True"}, want: []string{"cannot use tls.peer.client-cert-auth", accepted}},
		{name: "bool: 1", opts: map[string]any{"tls.client.client-cert-auth": 1}, want: []string{"cannot use tls.client.client-cert-auth", accepted, "the number 1"}},
		{name: "bool: a list", opts: map[string]any{"tls.client.client-cert-auth": []any{true}}, want: []string{"cannot use tls.client.client-cert-auth", accepted}},
		{name: "port: numbers", opts: map[string]any{"client-port": 12379, "peer-port": 12380}, check: ports(12379, 12380)},
		{name: "port: numeric strings", opts: map[string]any{"client-port": "12379", "peer-port": " 12380 "}, check: ports(12379, 12380)},
		{name: "port: 65535", opts: map[string]any{"client-port": 65535}, check: ports(65535, 2380)},
		{name: "port: 0", opts: map[string]any{"client-port": 0}, want: []string{"cannot use client-port", "0 is not a port number"}},
		{name: "port: 70000", opts: map[string]any{"peer-port": 70000}, want: []string{"cannot use peer-port", "70000 is not a port number"}},
		{name: "port: \"70000\"", opts: map[string]any{"peer-port": "70000"}, want: []string{"cannot use peer-port", "70000 is not a port number"}},
		{name: "port: -1", opts: map[string]any{"client-port": -1}, want: []string{"cannot use client-port", "-1 is not a port number"}},
		{name: "port: abc", opts: map[string]any{"client-port": "abc"}, want: []string{"cannot use client-port", `expected a whole number, got "abc"`}},
		{name: "port: 2379.5", opts: map[string]any{"client-port": 2379.5}, want: []string{"cannot use client-port", "expected a whole number"}},
		{name: "port: true", opts: map[string]any{"client-port": true}, want: []string{"cannot use client-port", "expected a whole number, got the boolean true"}},
		{name: "port: a PEM", opts: map[string]any{"client-port": l.peer.KeyPEM}, want: []string{"cannot use client-port", "not shown"}},
		{name: "ports equal", opts: map[string]any{"client-port": 2380}, want: []string{"cannot use peer-port: 2380 is also client-port"}},
		{name: "string option: a number", opts: map[string]any{"initial-cluster-token": 42}, check: func(t *testing.T, s *settings.Settings) {
			if s.InitialClusterToken != "42" {
				t.Errorf("token %q, want \"42\"", s.InitialClusterToken)
			}
		}},
		{name: "string option: a boolean", opts: map[string]any{"initial-cluster-token": true}, want: []string{"cannot use initial-cluster-token", "expected a string, got the boolean true"}},
		{name: "PEM option: a number", opts: map[string]any{"tls.peer.cert": 42}, want: []string{"cannot use tls.peer.cert", "expected a string"}},
		{name: "list: comma-separated", opts: map[string]any{"tls.peer.allowed-cn": "m1, m2,,m3"}, check: func(t *testing.T, s *settings.Settings) {
			if !reflect.DeepEqual(s.TLS.Peer.AllowedCN, []string{"m1", "m2", "m3"}) {
				t.Errorf("allowed-cn %q", s.TLS.Peer.AllowedCN)
			}
		}},
		{name: "list: JSON list", opts: map[string]any{"tls.peer.allowed-cn": []any{"m1", "m2"}}, check: func(t *testing.T, s *settings.Settings) {
			if !reflect.DeepEqual(s.TLS.Peer.AllowedCN, []string{"m1", "m2"}) {
				t.Errorf("allowed-cn %q", s.TLS.Peer.AllowedCN)
			}
		}},
		{name: "list: a number in it", opts: map[string]any{"tls.peer.allowed-cn": []any{"m1", 2}}, want: []string{"cannot use tls.peer.allowed-cn", "expected a list of strings"}},
		{name: "unknown: tls.peer.certificate", opts: map[string]any{"tls.peer.certificate": "x"}, want: []string{"cannot use tls.peer.certificate: unknown option (did you mean tls.peer.cert?)"}},
		{name: "unknown: adress", opts: map[string]any{"adress": "10.99.0.12"}, want: []string{"cannot use adress: unknown option (did you mean address?)"}},
		{name: "unknown: tls.client.client-cert-aut", opts: map[string]any{"tls.client.client-cert-aut": true}, want: []string{"did you mean tls.client.client-cert-auth?"}},
		{name: "unknown: below a known option", opts: map[string]any{"tls.peer.cert.file": "x"}, want: []string{"cannot use tls.peer.cert.file: unknown option"}},
		{name: "tls versions", opts: map[string]any{"tls.min-version": "TLS1.3"}, check: func(t *testing.T, s *settings.Settings) {
			if s.TLS.MinVersion != "TLS1.3" {
				t.Errorf("min-version %s", s.TLS.MinVersion)
			}
		}},
		{name: "tls version: 1.2", opts: map[string]any{"tls.min-version": "1.2"}, want: []string{`cannot use tls.min-version "1.2": expected TLS1.2 or TLS1.3`}},
		{name: "tls versions reversed", opts: map[string]any{"tls.min-version": "TLS1.3", "tls.max-version": "TLS1.2"}, want: []string{"cannot use tls.min-version TLS1.3: it is above tls.max-version TLS1.2"}},
		{name: "cipher suite unknown", opts: map[string]any{"tls.cipher-suites": "TLS_FOO"}, want: []string{`cannot use tls.cipher-suites: "TLS_FOO" is not a cipher suite name`}},
		{name: "cipher suite insecure", opts: map[string]any{"tls.cipher-suites": "TLS_RSA_WITH_RC4_128_SHA"}, want: []string{"is insecure"}},
		{name: "cipher suite TLS 1.3", opts: map[string]any{"tls.cipher-suites": "TLS_AES_128_GCM_SHA256"}, want: []string{"is a TLS 1.3 suite"}},
		{name: "cipher suites that cannot serve an ECDSA key", opts: with(peerTLS(l.peer, l.peerCA.CertPEM), map[string]any{"tls.cipher-suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}), want: []string{"cannot use tls.cipher-suites: no suite in the list can serve the ECDSA key of tls.peer.cert"}},
		{name: "name with a comma", opts: map[string]any{"name": "m2,m3"}, want: []string{`cannot use name "m2,m3"`}},
		{name: "address: unspecified", opts: map[string]any{"address": "0.0.0.0"}, want: []string{`cannot use address "0.0.0.0"`, "unspecified"}},
		{name: "address: bad DNS name", opts: map[string]any{"address": "m2_etcd"}, want: []string{`cannot use address "m2_etcd"`}},
		{name: "listen-address: DNS name", opts: map[string]any{"listen-address": "m2.etcd.test"}, want: []string{`cannot use listen-address "m2.etcd.test"`}},
		{name: "initial-cluster-state", opts: map[string]any{"initial-cluster-state": "old"}, want: []string{`cannot use initial-cluster-state "old"`}},
		// F4 for options that are not PEM: a key pasted in the wrong place
		// must not be echoed back.
		{name: "a key as address", opts: map[string]any{"address": l.peer.KeyPEM}, want: []string{"cannot use address", "not shown"}},
		{name: "a base64 key as address", opts: map[string]any{"address": base64.StdEncoding.EncodeToString([]byte(l.peer.KeyPEM))}, want: []string{"cannot use address", "not shown"}},
		{name: "a key as name", opts: map[string]any{"name": l.peer.KeyPEM}, want: []string{"cannot use name"}},
		{name: "a key as listen-address", opts: map[string]any{"listen-address": l.peer.KeyPEM}, want: []string{"cannot use listen-address"}},
		{name: "a key as initial-cluster-state", opts: map[string]any{"initial-cluster-state": l.peer.KeyPEM}, want: []string{"cannot use initial-cluster-state"}},
		{name: "a key as initial-cluster", opts: map[string]any{"initial-cluster": l.peer.KeyPEM}, want: []string{"cannot use initial-cluster"}},
		{name: "a key as a member's address", opts: map[string]any{"initial-cluster": "m2=" + l.peer.KeyPEM}, want: []string{"cannot use initial-cluster"}},
		{name: "a key as tls.min-version", opts: map[string]any{"tls.min-version": l.peer.KeyPEM}, want: []string{"cannot use tls.min-version"}},
		{name: "a key as tls.cipher-suites", opts: map[string]any{"tls.cipher-suites": l.peer.KeyPEM}, want: []string{"cannot use tls.cipher-suites"}},
	}
	run(t, cases, l.secrets)
}

func TestEtcdPassThrough(t *testing.T) {
	l := newLab(t)
	passes := func(key string, want any) func(*testing.T, *settings.Settings) {
		return func(t *testing.T, s *settings.Settings) {
			if got := s.PassThrough()[key]; !reflect.DeepEqual(got, want) {
				t.Errorf("pass-through %s = %#v, want %#v", key, got, want)
			}
		}
	}
	cases := []tcase{
		{name: "heartbeat-interval=200", opts: map[string]any{"etcd.heartbeat-interval": 200}, check: passes("heartbeat-interval", int64(200))},
		{name: "quota-backend-bytes, 64-bit exact", opts: map[string]any{"etcd.quota-backend-bytes": 8589934593}, check: passes("quota-backend-bytes", int64(8589934593))},
		{name: "log-level", opts: map[string]any{"etcd.log-level": "debug"}, check: passes("log-level", "debug")},
		{name: "auto-compaction-retention", opts: map[string]any{"etcd.auto-compaction-retention": "1h"}, check: passes("auto-compaction-retention", "1h")},
		{name: "experimental bool", opts: map[string]any{"etcd.strict-reconfig-check": false}, check: passes("strict-reconfig-check", false)},
		{name: "heartbeat-interval=abc", opts: map[string]any{"etcd.heartbeat-interval": "abc"}, want: []string{"cannot use etcd.heartbeat-interval", "expected a value of type uint", "a string"}},
		{name: "heartbeat-interval=-5", opts: map[string]any{"etcd.heartbeat-interval": -5}, want: []string{"cannot use etcd.heartbeat-interval", "uint"}},
		{name: "log-level=5", opts: map[string]any{"etcd.log-level": 5}, want: []string{"cannot use etcd.log-level", "expected a value of type string, got the number 5"}},
		{name: "data-dir", opts: map[string]any{"etcd.data-dir": "/tmp/x"}, want: []string{"cannot use etcd.data-dir: the snap sets it", "$SNAP_COMMON/var/lib/etcd"}},
		{name: "wal-dir", opts: map[string]any{"etcd.wal-dir": "/tmp/x"}, want: []string{"cannot use etcd.wal-dir: the snap sets it"}},
		{name: "listen-client-urls", opts: map[string]any{"etcd.listen-client-urls": "http://0.0.0.0:2379"}, want: []string{"cannot use etcd.listen-client-urls: the snap sets it; use listen-address and client-port instead"}},
		{name: "peer-transport-security", opts: map[string]any{"etcd.peer-transport-security.cert-file": "/x"}, want: []string{"cannot use etcd.peer-transport-security: the snap sets it; use tls.peer.* instead"}},
		{name: "client-transport-security", opts: map[string]any{"etcd.client-transport-security": map[string]any{"cert-file": "/x"}}, want: []string{"use tls.client.* instead"}},
		{name: "name", opts: map[string]any{"etcd.name": "m9"}, want: []string{"cannot use etcd.name: the snap sets it; use name instead"}},
		{name: "initial-cluster", opts: map[string]any{"etcd.initial-cluster": "m9=http://x:2380"}, want: []string{"use initial-cluster instead"}},
		{name: "no-such-key", opts: map[string]any{"etcd.no-such-key": 1}, want: []string{`cannot use etcd.no-such-key: etcd has no configuration key "no-such-key"`}},
		{name: "flag spelling", opts: map[string]any{"etcd.heartbeat_interval": 200}, want: []string{"etcd has no configuration key"}},
		{name: "etcd not a map", opts: map[string]any{"etcd": "x"}, want: []string{"cannot use etcd: expected a map of etcd configuration keys"}},
		{name: "a key as an etcd value", opts: map[string]any{"etcd.heartbeat-interval": l.peer.KeyPEM}, want: []string{"cannot use etcd.heartbeat-interval"}},
	}
	run(t, cases, l.secrets)
}

func TestInitialCluster(t *testing.T) {
	members := func(want ...settings.Member) func(*testing.T, *settings.Settings) {
		return func(t *testing.T, s *settings.Settings) {
			if !reflect.DeepEqual(s.Members(), want) {
				t.Errorf("members %+v, want %+v", s.Members(), want)
			}
		}
	}
	three := []settings.Member{{Name: "m1", Host: "10.99.0.11", Port: 2380}, {Name: "m2", Host: "10.99.0.12", Port: 2380}, {Name: "m3", Host: "10.99.0.13", Port: 2380}}
	ic := func(v string) map[string]any { return map[string]any{"initial-cluster": v} }
	cases := []tcase{
		{name: "unset: this member alone", opts: nil, check: members(settings.Member{Name: "m2", Host: "10.99.0.12", Port: 2380})},
		{name: "host form", opts: ic("m1=10.99.0.11,m2=10.99.0.12,m3=10.99.0.13"), check: members(three...)},
		{name: "host:port form", opts: ic("m1=10.99.0.11:2380,m2=10.99.0.12:2380,m3=10.99.0.13:2380"), check: members(three...)},
		{name: "URL form", opts: ic("m1=http://10.99.0.11:2380,m2=https://10.99.0.12:2380,m3=http://10.99.0.13:2380/"), check: members(three...)},
		{name: "spaces around entries", opts: ic(" m1=10.99.0.11 , m2 = 10.99.0.12, m3=10.99.0.13 "), check: members(three...)},
		{name: "other peer ports", opts: ic("m1=10.99.0.11:3380,m2=10.99.0.12"), check: members(settings.Member{Name: "m1", Host: "10.99.0.11", Port: 3380}, settings.Member{Name: "m2", Host: "10.99.0.12", Port: 2380})},
		{name: "IPv6 self", opts: map[string]any{"address": "fd00:99::12", "initial-cluster": "m1=[fd00:99::11]:2380,m2=https://[fd00:99:0::12]:2380"}, check: members(settings.Member{Name: "m1", Host: "fd00:99::11", Port: 2380}, settings.Member{Name: "m2", Host: "fd00:99:0::12", Port: 2380})},
		{name: "IPv6 without port", opts: map[string]any{"address": "fd00:99::12", "initial-cluster": "m2=fd00:99::12"}, check: members(settings.Member{Name: "m2", Host: "fd00:99::12", Port: 2380})},
		{name: "DNS self, other case", opts: map[string]any{"address": "m2.etcd.test", "initial-cluster": "m1=m1.etcd.test,m2=M2.etcd.test"}, check: members(settings.Member{Name: "m1", Host: "m1.etcd.test", Port: 2380}, settings.Member{Name: "m2", Host: "M2.etcd.test", Port: 2380})},
		{name: "self missing", opts: ic("m1=10.99.0.11,m3=10.99.0.13"), want: []string{"cannot use initial-cluster: it does not name this member (m2)"}},
		{name: "self at a different address", opts: ic("m1=10.99.0.11,m2=10.99.0.22"), want: []string{"cannot use initial-cluster: it places this member (m2) at 10.99.0.22:2380, but address and peer-port give 10.99.0.12:2380"}},
		{name: "self at a different port", opts: ic("m2=10.99.0.12:2381"), want: []string{"places this member (m2) at 10.99.0.12:2381"}},
		{name: "duplicate names", opts: ic("m1=10.99.0.11,m2=10.99.0.12,m1=10.99.0.13"), want: []string{"cannot use initial-cluster: member \"m1\" appears twice"}},
		{name: "two members at one address", opts: ic("m1=10.99.0.12,m2=10.99.0.12"), want: []string{"cannot use initial-cluster: members \"m1\" and \"m2\" have the same peer address 10.99.0.12:2380"}},
		{name: "entry without =", opts: ic("m1=10.99.0.11,m2"), want: []string{`cannot use initial-cluster: entry "m2" is not name=host[:port] or name=URL`}},
		{name: "entry without name", opts: ic("=10.99.0.11,m2=10.99.0.12"), want: []string{"is not name=host[:port] or name=URL"}},
		{name: "entry without host", opts: ic("m1=,m2=10.99.0.12"), want: []string{"is not name=host[:port] or name=URL"}},
		{name: "empty entry", opts: ic("m2=10.99.0.12,,m1=10.99.0.11"), want: []string{"is not name=host[:port] or name=URL"}},
		{name: "unknown scheme", opts: ic("m1=ftp://10.99.0.11:2380,m2=10.99.0.12"), want: []string{`scheme "ftp" is not http or https`}},
		{name: "URL with a path", opts: ic("m1=http://10.99.0.11:2380/peers,m2=10.99.0.12"), want: []string{"a peer URL holds a scheme, a host and a port, nothing else"}},
		{name: "URL with user info", opts: ic("m1=http://u@10.99.0.11:2380,m2=10.99.0.12"), want: []string{"nothing else"}},
		{name: "port out of range", opts: ic("m1=10.99.0.11:99999,m2=10.99.0.12"), want: []string{`port "99999" is not a port number`}},
		{name: "port with trailing text", opts: ic("m1=10.99.0.11:2380abc,m2=10.99.0.12"), want: []string{`port "2380abc" is not a port number`}},
		{name: "port with a sign", opts: ic("m1=10.99.0.11:+2380,m2=10.99.0.12"), want: []string{`port "+2380" is not a port number`}},
		{name: "empty port", opts: ic("m1=10.99.0.11:,m2=10.99.0.12"), want: []string{`port "" is not a port number`}},
		{name: "bad host", opts: ic("m1=m1_etcd,m2=10.99.0.12"), want: []string{`host "m1_etcd"`}},
		{name: "unspecified host", opts: ic("m1=0.0.0.0,m2=10.99.0.12"), want: []string{`host "0.0.0.0"`}},
		{name: "unclosed bracket", opts: ic("m1=[fd00::11,m2=10.99.0.12"), want: []string{"cannot use initial-cluster"}},
	}
	run(t, cases, func() []string { return nil })
}

func TestResolveStoredKey(t *testing.T) {
	l := newLab(t)
	_, stored, err := certs.ParsePrivateKey(l.peer.KeyPEM)
	if err != nil {
		t.Fatalf("cannot parse key: %v", err)
	}
	// The hook reads the key back from $SNAP_COMMON/tls/peer.key.
	path := filepath.Join(t.TempDir(), "peer.key")
	if err := os.WriteFile(path, stored, 0o600); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fp := certs.Fingerprint(onDisk)
	otherFP := certs.Fingerprint([]byte(l.m1Peer.KeyPEM))
	tests := []struct {
		name    string
		surface string
		key     string
		stored  []byte
		want    string // error substring; empty: the stored key is used
	}{
		{"matching fingerprint", "peer", fp, onDisk, ""},
		{"matching fingerprint with spaces", "peer", " " + fp + "\n", onDisk, ""},
		{"the key itself", "peer", l.peer.KeyPEM, onDisk, ""},
		{"fingerprint of another key", "peer", otherFP, onDisk, "cannot use tls.peer.key: " + otherFP + " is not the fingerprint of the stored key; give the key itself"},
		{"nothing stored", "peer", fp, nil, "is not the fingerprint of the stored key"},
		{"stored key of the other surface", "client", fp, []byte(l.client.KeyPEM), "cannot use tls.client.key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, ca := l.peer.CertPEM, l.peerCA.CertPEM
			if tc.surface == "client" {
				cert, ca = l.client.CertPEM, l.clientCA.CertPEM
			}
			s, err := settings.Load(doc(t, m2, map[string]any{
				"tls." + tc.surface + ".cert": cert, "tls." + tc.surface + ".key": tc.key, "tls." + tc.surface + ".ca": ca,
			}))
			if err != nil {
				t.Fatalf("cannot load: %v", err)
			}
			err = s.ResolveStoredKey(tc.surface, tc.stored)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got error %v, want %q", err, tc.want)
				}
				certtest.AssertNoMaterial(t, err.Error(), l.secrets()...)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("refused after restoring the key: %v", err)
			}
			if got := s.Peer().KeyPEM; string(got) != string(stored) {
				t.Errorf("restored key differs from the stored one")
			}
			if s.Peer().KeyFingerprint != fp {
				t.Errorf("fingerprint %s, want %s", s.Peer().KeyFingerprint, fp)
			}
		})
	}
}
