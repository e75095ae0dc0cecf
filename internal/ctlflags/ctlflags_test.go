package ctlflags

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

func TestApply(t *testing.T) {
	defaults := map[string]string{"endpoints": "https://10.0.0.1:2379", "cacert": "/ca", "cert": "/c", "key": "/k"}
	all := []string{"--endpoints=https://10.0.0.1:2379", "--cacert=/ca", "--cert=/c", "--key=/k"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"no flags", []string{"member", "list"}, nil, append(all, "member", "list")},
		{"explicit endpoint wins", []string{"--endpoints", "http://x:2379", "get", "k"}, nil, []string{"--cacert=/ca", "--cert=/c", "--key=/k", "--endpoints", "http://x:2379", "get", "k"}},
		{"explicit cert=value wins", []string{"--cert=/mine", "put", "a", "b"}, nil, []string{"--endpoints=https://10.0.0.1:2379", "--cacert=/ca", "--key=/k", "--cert=/mine", "put", "a", "b"}},
		{"environment wins", []string{"get", "k"}, map[string]string{"ETCDCTL_ENDPOINTS": "http://y:2379", "ETCDCTL_CACERT": "/x"}, []string{"--cert=/c", "--key=/k", "get", "k"}},
		{"discovery replaces endpoints", []string{"--discovery-srv", "example.com", "get", "k"}, nil, []string{"--cacert=/ca", "--cert=/c", "--key=/k", "--discovery-srv", "example.com", "get", "k"}},
		{"after -- is not a flag", []string{"put", "--", "--endpoints", "v"}, nil, append(all, "put", "--", "--endpoints", "v")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := map[string]string{}
			for k, v := range defaults {
				d[k] = v
			}
			got := Apply(tc.args, d, func(k string) string { return tc.env[k] })
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDefaultsFromRenderedConfig(t *testing.T) {
	dir := t.TempDir()
	p := snapenv.Paths{Config: filepath.Join(dir, "etcd.conf.yml"), TLSDir: filepath.Join(dir, "tls")}
	if got := Defaults(p); got != nil {
		t.Fatalf("defaults without a config: %v", got)
	}
	conf := "advertise-client-urls: https://10.0.0.1:2379\nclient-transport-security:\n  cert-file: /t/client.pem\n  key-file: /t/client.key\n"
	if err := os.WriteFile(p.Config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.TLSDir, 0o700); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"endpoints": "https://10.0.0.1:2379", "cert": "/t/client.pem", "key": "/t/client.key"}
	if got := Defaults(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	if err := os.WriteFile(filepath.Join(p.TLSDir, snapenv.ClientCA), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	want["cacert"] = filepath.Join(p.TLSDir, snapenv.ClientCA)
	if got := Defaults(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
}
