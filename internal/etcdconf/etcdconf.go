// Package etcdconf knows etcd's configuration-file format: which keys it
// has, read from etcd's own types, and a strict reader. etcd itself ignores
// keys it does not know, so a misspelt TLS key would silently serve
// plaintext; the daemon refuses such a file instead.
package etcdconf

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.etcd.io/etcd/server/v3/embed"
	"sigs.k8s.io/yaml"
)

// FileOnlyKeys are config-file keys that are not fields of embed.Config
// (etcd's unexported configJSON).
var FileOnlyKeys = []string{
	"listen-peer-urls", "listen-client-urls", "listen-client-http-urls",
	"initial-advertise-peer-urls", "advertise-client-urls",
	"cors", "host-whitelist", "feature-gates",
	"client-transport-security", "peer-transport-security",
}

// SecurityKeys are the keys of client-transport-security and
// peer-transport-security (etcd's unexported securityConfig).
var SecurityKeys = []string{
	"cert-file", "key-file", "client-cert-file", "client-key-file", "client-cert-auth",
	"trusted-ca-file", "auto-tls", "allowed-cn", "allowed-hostname", "skip-client-san-verification",
}

// Keys is every top-level key etcd's config file accepts: the json tags of
// embed.Config plus FileOnlyKeys.
func Keys() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeOf(embed.Config{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	for _, k := range FileOnlyKeys {
		keys[k] = true
	}
	return keys
}

// CheckStrict refuses a file with a key etcd does not know, at the top
// level or in a transport-security section. Keys must match exactly: etcd's
// JSON decoding would also accept other cases.
func CheckStrict(data []byte) error {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("cannot parse the configuration: %v", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(j, &top); err != nil {
		return fmt.Errorf("cannot parse the configuration: %v", err)
	}
	known := Keys()
	sec := map[string]bool{}
	for _, k := range SecurityKeys {
		sec[k] = true
	}
	var unknown []string
	for k, v := range top {
		if !known[k] {
			unknown = append(unknown, k)
			continue
		}
		if k == "client-transport-security" || k == "peer-transport-security" {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("cannot parse %s: %v", k, err)
			}
			for sk := range m {
				if !sec[sk] {
					unknown = append(unknown, k+"."+sk)
				}
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("cannot use the configuration: etcd has no key %s", strings.Join(unknown, ", "))
	}
	return nil
}
