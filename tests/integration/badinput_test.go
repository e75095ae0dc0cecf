package integration

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/tests/lab"
)

// tlsCluster is a 3-member lab with peer and client TLS from the first start.
func tlsCluster(t *testing.T, ctx context.Context) (*lab.Lab, map[string]*lab.Leaf, map[string]*lab.Leaf) {
	t.Helper()
	l, err := lab.New(ctx, options(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	peer, client, err := l.MakeCAs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range l.Members {
		extra := []string{
			"tls.peer.cert=" + lab.Read(peer[m.Name].Cert), "tls.peer.key=" + lab.Read(peer[m.Name].Key), "tls.peer.ca=" + lab.Read(l.CA.Peer.Cert),
			"tls.client.cert=" + lab.Read(client[m.Name].Cert), "tls.client.key=" + lab.Read(client[m.Name].Key), "tls.client.ca=" + lab.Read(l.CA.Client.Cert),
		}
		if err := m.Install(ctx, extra...); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.WaitHealthy(ctx, "https", func(m *lab.Member) lab.TLSArgs { return m.MutualTLS(l.CA.Client.Cert) }); err != nil {
		t.Fatal(err)
	}
	return l, peer, client
}

// state is everything a refused snap set must leave as it was.
type state struct {
	options string
	files   map[string]string
	pid     int
}

func snapshot(t *testing.T, ctx context.Context, m *lab.Member) state {
	t.Helper()
	r := m.SnapQuiet(ctx, "get", "-d", "charmed-etcd")
	if r.Err != nil {
		t.Fatalf("snap get failed: %s", r.Out)
	}
	files := map[string]string{}
	for _, root := range []string{filepath.Join(m.Common(), "tls"), m.Data()} {
		_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				b, _ := os.ReadFile(p)
				files[p] = fmt.Sprintf("%x|%s|%v", b, info.ModTime().Format(time.RFC3339Nano), info.Mode())
			}
			return nil
		})
	}
	if _, ok := files[filepath.Join(m.Data(), "etcd.conf.yml")]; !ok {
		t.Fatalf("no rendered configuration under %s", m.Data())
	}
	return state{options: r.Out, files: files, pid: m.DaemonPID()}
}

func diff(a, b state) string {
	var out []string
	if a.options != b.options {
		out = append(out, "options")
	}
	if a.pid != b.pid {
		out = append(out, fmt.Sprintf("daemon pid %d -> %d", a.pid, b.pid))
	}
	for k, v := range a.files {
		if b.files[k] != v {
			out = append(out, k)
		}
	}
	for k := range b.files {
		if _, ok := a.files[k]; !ok {
			out = append(out, "new "+k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// TestRefusedSnapSetChangesNothing runs the field cases F1-F6 and the
// option-type refusals through snapsim against a running TLS cluster: each
// is refused naming the option, prints no key material, and leaves
// options, files, rendered configuration and the daemon as they were.
func TestRefusedSnapSetChangesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l, peer, _ := tlsCluster(t, ctx)
	m1, m2 := l.Members[0], l.Members[1]
	peerCA := certtest.Load(t, lab.Read(l.CA.Peer.Cert), lab.Read(l.CA.Peer.Key))
	otherCA := certtest.NewCA(t, "other-ca")
	m2own := certtest.Load(t, lab.Read(peer[m2.Name].Cert), lab.Read(peer[m2.Name].Key))
	serverOnly := peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{m2.Addr}, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	expired := peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{m2.Addr}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	future := peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{m2.Addr}, NotBefore: time.Now().Add(24 * time.Hour)})
	foreign := otherCA.Leaf(t, "m2", m2.Addr)
	m1cert, m1key := lab.Read(peer[m1.Name].Cert), lab.Read(peer[m1.Name].Key)
	truncated := m2own.CertPEM[:len(m2own.CertPEM)/2]
	secp := certtest.Secp256k1SEC1(t)
	encrypted := certtest.EncryptedPKCS8(t)
	legacy := certtest.LegacyEncrypted(t, "EC PRIVATE KEY")
	every := []string{m1key, m2own.KeyPEM, serverOnly.KeyPEM, expired.KeyPEM, future.KeyPEM, foreign.KeyPEM, secp, encrypted, legacy, peerCA.KeyPEM}

	peerSet := func(cert, key string) []string {
		return []string{"tls.peer.cert=" + cert, "tls.peer.key=" + key, "tls.peer.ca=" + peerCA.CertPEM}
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"F1 certificate of another member", peerSet(m1cert, m1key), []string{"tls.peer.cert", "10.99.0.11", m2.Addr}},
		{"F2 serverAuth only", peerSet(serverOnly.CertPEM, serverOnly.KeyPEM), []string{"tls.peer.cert", "both TLS server and client authentication"}},
		{"F3 encrypted PKCS#8", peerSet(m2own.CertPEM, encrypted), []string{"tls.peer.key", "is encrypted; provide an unencrypted key"}},
		{"F3 legacy encrypted", peerSet(m2own.CertPEM, legacy), []string{"tls.peer.key", "is encrypted; provide an unencrypted key"}},
		{"F3 secp256k1", peerSet(m2own.CertPEM, secp), []string{"tls.peer.key", "curve"}},
		{"F4 key of another pair", peerSet(m2own.CertPEM, m1key), []string{"tls.peer.key", "does not match tls.peer.cert"}},
		{"F4 certificate and key swapped", peerSet(m2own.KeyPEM, m2own.CertPEM), []string{"tls.peer.cert", "PRIVATE KEY block where a CERTIFICATE was expected"}},
		{"F4 CA pasted as the key", peerSet(m2own.CertPEM, peerCA.CertPEM), []string{"tls.peer.key", "CERTIFICATE block where a PRIVATE KEY was expected"}},
		{"F4 certificate from another CA", peerSet(foreign.CertPEM, foreign.KeyPEM), []string{"tls.peer.cert", "tls.peer.ca"}},
		{"F5 hello", []string{"tls.peer.cert=hello"}, []string{"tls.peer.cert", "no valid PEM CERTIFICATE block"}},
		{"F5 cut before END", []string{"tls.peer.cert=" + truncated}, []string{"tls.peer.cert", "no valid PEM CERTIFICATE block"}},
		{"F6 expired", peerSet(expired.CertPEM, expired.KeyPEM), []string{"tls.peer.cert", "has expired", "valid from"}},
		{"F6 not yet valid", peerSet(future.CertPEM, future.KeyPEM), []string{"tls.peer.cert", "not valid yet"}},
		{"partial: key unset", []string{"tls.peer.key!"}, []string{"tls.peer.key", "missing"}},
		{"partial: client ca unset with client-cert-auth", []string{"tls.client.ca!", "tls.client.client-cert-auth=true"}, []string{"tls.client.ca"}},
		{"boolean", []string{"tls.client.client-cert-auth=yes"}, []string{"tls.client.client-cert-auth", `"true", "false"`}},
		{"port", []string{"client-port=70000"}, []string{"client-port", "70000"}},
		{"unknown option", []string{"tls.peer.certificate=x"}, []string{"tls.peer.certificate", "tls.peer.cert"}},
		{"owned etcd key", []string{"etcd.data-dir=/tmp/x"}, []string{"etcd.data-dir"}},
		{"etcd type", []string{"etcd.heartbeat-interval=abc"}, []string{"etcd.heartbeat-interval"}},
		{"etcd validation", []string{"etcd.heartbeat-interval=900"}, []string{"etcd.heartbeat-interval", "election-timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, ctx, m2)
			if before.pid == 0 {
				t.Fatal("no daemon pid recorded")
			}
			r := m2.SnapQuiet(ctx, append([]string{"set", "charmed-etcd"}, tc.args...)...)
			if r.Err == nil {
				t.Fatalf("snap set was accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Out, w) {
					t.Errorf("the refusal does not say %q: %s", w, r.Out)
				}
			}
			if !strings.Contains(r.Out, "cannot ") {
				t.Errorf("the refusal does not start with cannot: %s", r.Out)
			}
			noMaterial(t, r.Out, every...)
			after := snapshot(t, ctx, m2)
			if d := diff(before, after); d != "" {
				t.Fatalf("a refused snap set changed: %s", d)
			}
			h := m2.EtcdctlQuiet(ctx, append([]string{"--endpoints", m2.ClientURL("https"), "endpoint", "health", "--command-timeout=5s"}, m2.MutualTLS(l.CA.Client.Cert)...)...)
			if h.Err != nil {
				t.Fatalf("the member does not answer after the refusal: %s", h.Out)
			}
		})
	}
	// The accepted path prints no key material either: the daemon's log
	// after all of the above, and a successful renewal's output.
	renew := m2.SnapQuiet(ctx, append([]string{"set", "charmed-etcd"}, peerSet(m2own.CertPEM, m2own.KeyPEM)...)...)
	if renew.Err != nil {
		t.Fatalf("the member's own certificate was refused: %s", renew.Out)
	}
	noMaterial(t, renew.Out, every...)
	for _, m := range l.Members {
		noMaterial(t, m.DaemonLog(), every...)
	}
}

// TestOneWayTLSIsOneWay is F7: with client-cert-auth=false a client with
// only the CA works; with true the same client is refused and a client
// certificate works.
func TestOneWayTLSIsOneWay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, _, _ := tlsCluster(t, ctx)
	m1 := l.Members[0]
	ca := l.CA.Client.Cert
	put := func(tls ...string) lab.Result {
		return m1.EtcdctlQuiet(ctx, append([]string{"--endpoints", m1.ClientURL("https"), "--dial-timeout=2s", "--command-timeout=3s", "put", "k", "v"}, tls...)...)
	}
	if r := m1.SnapQuiet(ctx, "set", "charmed-etcd", "tls.client.client-cert-auth=false"); r.Err != nil {
		t.Fatal(r.Out)
	}
	if err := lab.Retry(ctx, 30*time.Second, func() error {
		if r := put("--cacert", ca); r.Err != nil {
			return fmt.Errorf("put with only the CA failed: %s", r.Out)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := m1.SnapQuiet(ctx, "set", "charmed-etcd", "tls.client.client-cert-auth=true"); r.Err != nil {
		t.Fatal(r.Out)
	}
	if err := lab.Retry(ctx, 30*time.Second, func() error {
		if r := put(m1.MutualTLS(ca)...); r.Err != nil {
			return fmt.Errorf("put with a client certificate failed: %s", r.Out)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// With TLS 1.3 the client learns of the refusal as an alert
	// ("certificate required") or, if it wrote first, as a reset pipe.
	if r := put("--cacert", ca); r.Err == nil || !strings.Contains(r.Out, "certificate required") && !strings.Contains(r.Out, "broken pipe") {
		t.Fatalf("put without a client certificate was not refused for want of one: %s", r.Out)
	}
}

// noMaterial is certtest.AssertNoMaterial for outputs that hold dashes of
// their own (snapd's ----- frame around hook output, bbolt's -rw------- mode):
// a PEM marker is "BEGIN", and bodies are still searched for.
func noMaterial(t *testing.T, out string, pems ...string) {
	t.Helper()
	if strings.Contains(out, "BEGIN") {
		t.Errorf("output holds a PEM BEGIN line (%d characters, not shown)", len(out))
	}
	certtest.AssertNoMaterial(t, strings.ReplaceAll(out, "-----", ""), pems...)
}

// TestSmallestRestart: the same snap set twice writes nothing and restarts
// nothing; a new leaf certificate and key are written without a restart;
// an option etcd reads only at bootstrap changes the file, not the daemon.
func TestSmallestRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, peer, _ := tlsCluster(t, ctx)
	m2 := l.Members[1]
	own := []string{"tls.peer.cert=" + lab.Read(peer[m2.Name].Cert), "tls.peer.key=" + lab.Read(peer[m2.Name].Key), "tls.peer.ca=" + lab.Read(l.CA.Peer.Cert)}
	ca := certtest.Load(t, lab.Read(l.CA.Peer.Cert), lab.Read(l.CA.Peer.Key))
	renewed := ca.Leaf(t, m2.Name, m2.Addr)
	set := func(args ...string) {
		t.Helper()
		if r := m2.SnapQuiet(ctx, append([]string{"set", "charmed-etcd"}, args...)...); r.Err != nil {
			t.Fatalf("snap set failed: %s", r.Out)
		}
	}
	before := snapshot(t, ctx, m2)
	set(own...)
	if d := diff(before, snapshot(t, ctx, m2)); d != "" {
		t.Fatalf("the same options again changed: %s", d)
	}
	set("tls.peer.cert="+renewed.CertPEM, "tls.peer.key="+renewed.KeyPEM)
	after := snapshot(t, ctx, m2)
	if after.pid != before.pid {
		t.Fatalf("a leaf renewal restarted the daemon (%d -> %d)", before.pid, after.pid)
	}
	if d := diff(before, after); !strings.Contains(d, "peer.pem") || !strings.Contains(d, "peer.key") || strings.Contains(d, "etcd.conf.yml") || strings.Contains(d, "peer_ca.pem") {
		t.Fatalf("a leaf renewal changed %q, want peer.pem and peer.key only", d)
	}
	set("initial-cluster-token=another-token")
	last := snapshot(t, ctx, m2)
	if last.pid != before.pid {
		t.Fatal("a bootstrap-only option restarted the daemon")
	}
	if d := diff(after, last); !strings.Contains(d, "etcd.conf.yml") {
		t.Fatalf("the rendered file did not follow the option: %q", d)
	}
	h := m2.EtcdctlQuiet(ctx, append([]string{"--endpoints", m2.ClientURL("https"), "endpoint", "health", "--command-timeout=5s"}, m2.MutualTLS(l.CA.Client.Cert)...)...)
	if h.Err != nil {
		t.Fatalf("the member does not answer: %s", h.Out)
	}
}
