package settings

import (
	"encoding/json"
	"fmt"
	"sort"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/canonical/charmed-etcd-snap/internal/etcdconf"
	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// owned are etcd config keys the snap renders itself, with the option that
// sets them. Passing one through would let two options fight over one key.
var owned = map[string]string{
	"name":                        "name",
	"data-dir":                    "",
	"wal-dir":                     "",
	"listen-peer-urls":            "listen-address and peer-port",
	"listen-client-urls":          "listen-address and client-port",
	"listen-client-http-urls":     "listen-address and client-port",
	"initial-advertise-peer-urls": "address and peer-port",
	"advertise-client-urls":       "address and client-port",
	"initial-cluster":             "initial-cluster",
	"initial-cluster-state":       "initial-cluster-state",
	"initial-cluster-token":       "initial-cluster-token",
	"client-transport-security":   "tls.client.*",
	"peer-transport-security":     "tls.peer.*",
	"cipher-suites":               "tls.cipher-suites",
	"tls-min-version":             "tls.min-version",
	"tls-max-version":             "tls.max-version",
	"discovery":                   "initial-cluster",
	"discovery-srv":               "initial-cluster",
	"discovery-srv-name":          "initial-cluster",
	"discovery-proxy":             "initial-cluster",
	"discovery-config":            "initial-cluster",
	"self-signed-cert-validity":   "tls.peer.* and tls.client.*",
}

// fileOnlyKeys are strings in etcd's file that are not embed.Config fields.
var fileOnlyKeys = map[string]bool{"cors": true, "host-whitelist": true, "feature-gates": true}

// notSettable are embed.Config fields that have a json tag but hold Go
// values (functions, gRPC options) that cannot come from a file.
var notSettable = map[string]bool{"grpc-additional-server-options": true}

func validateEtcd(pass map[string]any) error {
	known := etcdconf.Keys()
	keys := make([]string, 0, len(pass))
	for k := range pass {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		opt := EtcdPrefix + "." + k
		if where, ok := owned[k]; ok {
			if where == "" {
				return fmt.Errorf(i18n.G("cannot use %s: the snap sets it (etcd's data lives in $SNAP_COMMON/var/lib/etcd)"), opt)
			}
			return fmt.Errorf(i18n.G("cannot use %s: the snap sets it; use %s instead"), opt, where)
		}
		if !known[k] || notSettable[k] {
			return fmt.Errorf(i18n.G("cannot use %s: etcd has no configuration key %q"), opt, k)
		}
		if err := checkEtcdType(k, pass[k]); err != nil {
			return fmt.Errorf(i18n.G("cannot use %s: %v"), opt, err)
		}
	}
	return nil
}

// checkEtcdType decodes one value into etcd's Config the way etcd reads its
// file (YAML to JSON), so a wrong type is refused per key with etcd's type.
func checkEtcdType(key string, v any) error {
	if fileOnlyKeys[key] {
		if _, ok := v.(string); !ok {
			return fmt.Errorf(i18n.G("expected a string, got %s"), describe(v))
		}
		return nil
	}
	b, err := json.Marshal(map[string]any{key: v})
	if err != nil {
		return err
	}
	var cfg embed.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok {
			return fmt.Errorf(i18n.G("expected a value of type %s, got %s"), te.Type, describe(v))
		}
		return fmt.Errorf(i18n.G("etcd cannot read it: %v"), err)
	}
	return nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = t
	}
	return ok
}

// PassThrough returns the etcd.* options as they go into etcd's file, with
// JSON numbers turned into Go numbers.
func (s *Settings) PassThrough() map[string]any {
	out := map[string]any{}
	for k, v := range s.Etcd {
		out[k] = plain(v)
	}
	return out
}

func plain(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			out[k] = plain(e)
		}
		return out
	}
	return v
}
