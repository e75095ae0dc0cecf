// Package ctlflags gives charmed-etcd.etcdctl this member's endpoint and
// client TLS files as defaults, so that `charmed-etcd.etcdctl member list`
// works with no flags. Defaults are added as flags only where the user gave
// neither the flag nor its ETCDCTL_ environment variable: explicit input wins.
package ctlflags

import (
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

type rendered struct {
	AdvertiseClient string `yaml:"advertise-client-urls"`
	ClientSecurity  struct {
		CertFile string `yaml:"cert-file"`
		KeyFile  string `yaml:"key-file"`
	} `yaml:"client-transport-security"`
}

// Defaults returns the flags this member's rendered configuration implies.
func Defaults(p snapenv.Paths) map[string]string {
	data, err := os.ReadFile(p.Config)
	if err != nil {
		return nil
	}
	var r rendered
	if yaml.Unmarshal(data, &r) != nil {
		return nil
	}
	out := map[string]string{}
	if r.AdvertiseClient != "" {
		out["endpoints"] = r.AdvertiseClient
	}
	if r.ClientSecurity.CertFile != "" {
		out["cert"] = r.ClientSecurity.CertFile
		out["key"] = r.ClientSecurity.KeyFile
		// The client CA verifies the member's certificate too: one CA per
		// surface is the snap's model. It is used even for one-way TLS,
		// where the rendered file does not hand it to etcd.
		if ca := filepath.Join(p.TLSDir, snapenv.ClientCA); fileExists(ca) {
			out["cacert"] = ca
		}
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Apply returns args (without the program name) with defaults added for
// every flag the user did not give on the command line or in the environment.
func Apply(args []string, defaults map[string]string, getenv func(string) string) []string {
	out, _ := apply(args, defaults, getenv)
	return out
}

// NeedsDaemonUser reports whether the defaults Apply adds name TLS files:
// they belong to snap_daemon, so a root etcdctl must become that user to
// read them (root has no DAC override under confinement).
func NeedsDaemonUser(args []string, defaults map[string]string, getenv func(string) string) bool {
	_, added := apply(args, defaults, getenv)
	for _, a := range added {
		if a != "endpoints" {
			return true
		}
	}
	return false
}

func apply(args []string, defaults map[string]string, getenv func(string) string) ([]string, []string) {
	given := map[string]bool{}
	for _, a := range args {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "--") {
			given[name] = true
		}
	}
	skipEndpoints := given["discovery-srv"] || getenv("ETCDCTL_DISCOVERY_SRV") != ""
	var extra, added []string
	for _, name := range []string{"endpoints", "cacert", "cert", "key"} {
		v, ok := defaults[name]
		if name == "endpoints" && skipEndpoints {
			continue
		}
		if !ok || given[name] || getenv("ETCDCTL_"+strings.ToUpper(name)) != "" {
			continue
		}
		extra = append(extra, "--"+name+"="+v)
		added = append(added, name)
	}
	return append(extra, args...), added
}
