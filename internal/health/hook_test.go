package health_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/atomicfile"
	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/configure"
	"github.com/canonical/charmed-etcd-snap/internal/health"
	"github.com/canonical/charmed-etcd-snap/internal/snapctl"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// TestHookReportsHealth runs the configure hook with a fake snapctl and
// checks the set-health call it makes last.
func TestHookReportsHealth(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	expiring := ca.Issue(t, certtest.Options{CN: "m1", IPs: []string{"10.99.0.11"}, NotAfter: time.Now().Add(72 * time.Hour)})
	fine := ca.Leaf(t, "m1", "10.99.0.11")
	cases := []struct {
		name string
		leaf *certtest.Cert
		want []string // status, code, message prefix
	}{
		{"no TLS", nil, []string{"okay", "", ""}},
		{"peer certificate valid for 90 days", fine, []string{"okay", "", ""}},
		{"peer certificate expires in 3 days", expiring, []string{"error", "certificate-expiring", "tls.peer.cert (CN m1) expires " + expiring.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := snapenv.Static{SnapDir: filepath.Join(dir, "snap"), DataDir: filepath.Join(dir, "data"), CommonDir: filepath.Join(dir, "common"), Instance: "charmed-etcd"}
			for _, d := range []string{env.SnapDir, env.DataDir, env.CommonDir} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			ctl := snapctl.NewFake()
			ctl.SetOption("name", "m1")
			ctl.SetOption("address", "10.99.0.11")
			if tc.leaf != nil {
				ctl.SetOption("tls.peer.cert", tc.leaf.CertPEM)
				ctl.SetOption("tls.peer.key", tc.leaf.KeyPEM)
				ctl.SetOption("tls.peer.ca", ca.CertPEM)
			}
			h := &configure.Hook{Env: env, Ctl: ctl, Owner: atomicfile.Keep, Log: io.Discard}
			if _, err := h.Run(context.Background()); err != nil {
				t.Fatalf("hook failed: %v", err)
			}
			if len(ctl.Health) != 1 {
				t.Fatalf("set-health called %d times, want once", len(ctl.Health))
			}
			got := ctl.Health[0]
			want := strings.TrimSpace(strings.Join(tc.want, " "))
			if strings.TrimSpace(got) != want {
				t.Errorf("set-health %q, want %q", got, want)
			}
		})
	}
}

// TestFromDir reads what the hook stored, for checks made between hooks.
func TestFromDir(t *testing.T) {
	dir := t.TempDir()
	ca := certtest.NewCA(t, "client-ca")
	old := ca.Issue(t, certtest.Options{CN: "m1", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	for name, data := range map[string]string{snapenv.ClientCert: old.CertPEM, snapenv.ClientCA: ca.CertPEM, snapenv.ClientKey: old.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := health.Evaluate(time.Now(), health.FromDir(dir))
	if got.Status != "error" || got.Code != "certificate-expired" || !strings.HasPrefix(got.Message, "tls.client.cert (CN m1) expired ") {
		t.Errorf("got %+v", got)
	}
}
