package settings

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// kind is the type of value an option takes.
type kind int

const (
	kString kind = iota
	kInt
	kBool
	kList
	kPEM
)

// option describes one snap option: its dotted name, type and where it goes
// in Settings. The table is the single list of options the snap accepts.
type option struct {
	key  string
	kind kind
	set  func(s *Settings, v value)
}

type value struct {
	str  string
	num  int
	b    *bool
	list []string
}

var options = []option{
	{"name", kString, func(s *Settings, v value) { s.Name = v.str }},
	{"address", kString, func(s *Settings, v value) { s.Address = v.str }},
	{"listen-address", kString, func(s *Settings, v value) { s.ListenAddress = v.str }},
	{"client-port", kInt, func(s *Settings, v value) { s.ClientPort = v.num }},
	{"peer-port", kInt, func(s *Settings, v value) { s.PeerPort = v.num }},
	{"initial-cluster", kString, func(s *Settings, v value) { s.InitialCluster = v.str }},
	{"initial-cluster-state", kString, func(s *Settings, v value) { s.InitialClusterState = v.str }},
	{"initial-cluster-token", kString, func(s *Settings, v value) { s.InitialClusterToken = v.str }},
	{"tls.min-version", kString, func(s *Settings, v value) { s.TLS.MinVersion = v.str }},
	{"tls.max-version", kString, func(s *Settings, v value) { s.TLS.MaxVersion = v.str }},
	{"tls.cipher-suites", kList, func(s *Settings, v value) { s.TLS.CipherSuites = v.list }},
	{"tls.peer.cert", kPEM, func(s *Settings, v value) { s.TLS.Peer.Cert = v.str }},
	{"tls.peer.key", kPEM, func(s *Settings, v value) { s.TLS.Peer.Key = v.str }},
	{"tls.peer.ca", kPEM, func(s *Settings, v value) { s.TLS.Peer.CA = v.str }},
	{"tls.peer.crl", kPEM, func(s *Settings, v value) { s.TLS.Peer.CRL = v.str }},
	{"tls.peer.client-cert-auth", kBool, func(s *Settings, v value) { s.TLS.Peer.ClientCertAuth = v.b }},
	{"tls.peer.allowed-cn", kList, func(s *Settings, v value) { s.TLS.Peer.AllowedCN = v.list }},
	{"tls.peer.allowed-hostname", kList, func(s *Settings, v value) { s.TLS.Peer.AllowedHostname = v.list }},
	{"tls.client.cert", kPEM, func(s *Settings, v value) { s.TLS.Client.Cert = v.str }},
	{"tls.client.key", kPEM, func(s *Settings, v value) { s.TLS.Client.Key = v.str }},
	{"tls.client.ca", kPEM, func(s *Settings, v value) { s.TLS.Client.CA = v.str }},
	{"tls.client.crl", kPEM, func(s *Settings, v value) { s.TLS.Client.CRL = v.str }},
	{"tls.client.client-cert-auth", kBool, func(s *Settings, v value) { s.TLS.Client.ClientCertAuth = v.b }},
	{"tls.client.allowed-hostname", kList, func(s *Settings, v value) { s.TLS.Client.AllowedHostname = v.list }},
}

// EtcdPrefix is the subtree of options passed through to etcd's config file.
const EtcdPrefix = "etcd"

// TopLevelKeys are the keys to ask snapctl for: every option sits under one of them.
func TopLevelKeys() []string {
	seen := map[string]bool{EtcdPrefix: true}
	out := []string{EtcdPrefix}
	for _, o := range options {
		top, _, _ := strings.Cut(o.key, ".")
		if !seen[top] {
			seen[top] = true
			out = append(out, top)
		}
	}
	return out
}

// KnownKeys lists every option name, for messages and documentation.
func KnownKeys() []string {
	out := make([]string, 0, len(options)+1)
	for _, o := range options {
		out = append(out, o.key)
	}
	return append(out, EtcdPrefix+".<etcd config key>")
}

// flatten turns a snapctl document into dotted keys. The etcd subtree is
// flattened one level only: its values may themselves be lists or maps.
func flatten(prefix string, doc map[string]any, out map[string]any) {
	for k, v := range doc {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok && prefix != EtcdPrefix {
			flatten(key, m, out)
			continue
		}
		out[key] = v
	}
}

func acceptedBool() string { return `true, false, "true", "false"` }

// convert checks that raw has the option's type, as snapd stored it: JSON
// when the text parsed as JSON, a string otherwise.
func convert(o option, raw any) (value, error) {
	if raw == nil {
		return value{}, nil
	}
	switch o.kind {
	case kString, kPEM:
		switch t := raw.(type) {
		case string:
			return value{str: t}, nil
		case json.Number:
			if o.kind == kString {
				return value{str: t.String()}, nil
			}
		case nil:
			return value{}, nil
		}
		return value{}, fmt.Errorf(i18n.G("expected a string, got %s"), describe(raw))
	case kInt:
		var s string
		switch t := raw.(type) {
		case json.Number:
			s = t.String()
		case string:
			s = strings.TrimSpace(t)
		case int:
			return value{num: t}, nil
		default:
			return value{}, fmt.Errorf(i18n.G("expected a whole number, got %s"), describe(raw))
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return value{}, fmt.Errorf(i18n.G("expected a whole number, got %s"), show(s))
		}
		return value{num: n}, nil
	case kBool:
		switch t := raw.(type) {
		case bool:
			return value{b: &t}, nil
		case string:
			switch t {
			case "true":
				b := true
				return value{b: &b}, nil
			case "false":
				b := false
				return value{b: &b}, nil
			case "":
				return value{}, nil
			}
			return value{}, fmt.Errorf(i18n.G("expected one of %s, got %s"), acceptedBool(), show(t))
		}
		return value{}, fmt.Errorf(i18n.G("expected one of %s, got %s"), acceptedBool(), describe(raw))
	case kList:
		switch t := raw.(type) {
		case string:
			return value{list: splitList(t)}, nil
		case []any:
			var out []string
			for _, e := range t {
				s, ok := e.(string)
				if !ok {
					return value{}, fmt.Errorf(i18n.G("expected a list of strings, got an element %s"), describe(e))
				}
				out = append(out, splitList(s)...)
			}
			return value{list: out}, nil
		}
		return value{}, fmt.Errorf(i18n.G("expected a comma-separated string or a list of strings, got %s"), describe(raw))
	}
	return value{}, fmt.Errorf("unknown option kind %d", o.kind)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// describe names a value's type without printing it: it may be key material.
func describe(v any) string {
	switch t := v.(type) {
	case string:
		return i18n.G("a string")
	case json.Number:
		return fmt.Sprintf(i18n.G("the number %s"), t)
	case bool:
		return fmt.Sprintf(i18n.G("the boolean %t"), t)
	case []any:
		return i18n.G("a list")
	case map[string]any:
		return i18n.G("a map")
	case nil:
		return i18n.G("null")
	}
	return fmt.Sprintf("%T", v)
}

// show quotes a value the user gave, for a message, unless it may be key
// material: a PEM pasted into the wrong option (F4) must not reach the hook's
// output, which any local user can read. Such values are long or multi-line;
// the names, addresses and versions that options take are neither.
func show(v string) string {
	if len(v) > 64 || strings.ContainsAny(v, "\r\n") || strings.Contains(v, `\n`) || strings.Contains(v, "-----") || strings.Contains(v, "PRIVATE") {
		return fmt.Sprintf(i18n.G("(%d characters, not shown)"), len(v))
	}
	return fmt.Sprintf("%q", v)
}

// nearest returns the known option closest to key, for "did you mean".
func nearest(key string) string {
	best, bestD := "", 1<<30
	cands := make([]string, 0, len(options))
	for _, o := range options {
		cands = append(cands, o.key)
	}
	sort.Strings(cands)
	for _, c := range cands {
		if d := distance(key, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
