// Package settings is the typed form of every snap option: it merges the
// options snapd holds with the defaults of configs/, checks their types and
// validates them as a whole, naming the option in every refusal.
package settings

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/canonical/charmed-etcd-snap/configs"
	"github.com/canonical/charmed-etcd-snap/internal/certs"
	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// Settings holds every snap option, typed, with defaults applied.
type Settings struct {
	Name                string
	Address             string
	ListenAddress       string
	ClientPort          int
	PeerPort            int
	InitialCluster      string
	InitialClusterState string
	InitialClusterToken string
	// Etcd holds the etcd.* pass-through options, keyed by etcd's config-file key.
	Etcd map[string]any
	TLS  TLS

	// Now is the time certificates are checked at.
	Now time.Time

	validated bool
	peer      *Material
	client    *Material
	members   []Member
	warnings  []string
}

// TLS holds the tls.* options.
type TLS struct {
	MinVersion   string
	MaxVersion   string
	CipherSuites []string
	Peer         Surface
	Client       Surface
}

// Surface is one TLS surface (tls.peer or tls.client) as the user gave it.
type Surface struct {
	Cert, Key, CA, CRL string
	// ClientCertAuth is nil when not set: peer defaults to true, client to
	// "true when a CA is given".
	ClientCertAuth  *bool
	AllowedCN       []string
	AllowedHostname []string
}

// Material is a validated TLS surface: canonical PEM to write, and the facts
// rendering needs.
type Material struct {
	CertPEM, KeyPEM, CAPEM, CRLPEM []byte
	ClientCertAuth                 bool
	AllowedCN, AllowedHostname     []string
	KeyFingerprint                 string
	Leaf                           *x509.Certificate
}

// Member is one entry of initial-cluster, with the peer URL's scheme left to
// the renderer (it follows peer TLS).
type Member struct {
	Name string
	Host string
	Port int
}

// Load merges opts (a snapctl get -d document) over the defaults and checks
// each option's type. Unknown options are refused with the nearest known name.
func Load(opts map[string]any) (*Settings, error) {
	defaults := map[string]any{}
	if err := yaml.Unmarshal(configs.Defaults, &defaults); err != nil {
		return nil, fmt.Errorf("cannot read the snap's default options: %v", err)
	}
	flatDefaults := map[string]any{}
	flatten("", normalizeYAML(defaults).(map[string]any), flatDefaults)
	flatOpts := map[string]any{}
	flatten("", opts, flatOpts)

	s := &Settings{Etcd: map[string]any{}, Now: time.Now()}
	byKey := map[string]option{}
	for _, o := range options {
		byKey[o.key] = o
	}
	keys := make([]string, 0, len(flatOpts))
	for k := range flatOpts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(k, EtcdPrefix+"."); ok {
			s.Etcd[rest] = flatOpts[k]
			continue
		}
		if k == EtcdPrefix {
			return nil, fmt.Errorf(i18n.G("cannot use %s: expected a map of etcd configuration keys, got %s"), k, describe(flatOpts[k]))
		}
		if _, ok := byKey[k]; !ok {
			return nil, fmt.Errorf(i18n.G("cannot use %s: unknown option (did you mean %s?)"), k, nearest(k))
		}
	}
	for _, o := range options {
		raw, ok := flatOpts[o.key]
		if !ok || raw == nil || raw == "" {
			raw = flatDefaults[o.key]
		}
		v, err := convert(o, raw)
		if err != nil {
			return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), o.key, err)
		}
		o.set(s, v)
	}
	return s, nil
}

// normalizeYAML turns what yaml.v3 decodes into what snapctl's JSON gives,
// so defaults and options go through the same conversions.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeYAML(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalizeYAML(e)
		}
		return t
	case int:
		return json.Number(fmt.Sprint(t))
	}
	return v
}

// ResolveStoredKey turns a key option that holds a fingerprint back into the
// key stored on disk. The hook replaces stored private keys by their
// fingerprint so they cannot be read back with snapctl get; setting the
// same fingerprint means "keep the stored key".
func (s *Settings) ResolveStoredKey(surface string, stored []byte) error {
	sf := s.surface(surface)
	if !certs.IsFingerprint(strings.TrimSpace(sf.Key)) {
		return nil
	}
	if len(stored) == 0 || certs.Fingerprint(stored) != strings.TrimSpace(sf.Key) {
		return fmt.Errorf(i18n.G("cannot use tls.%s.key: %s is not the fingerprint of the stored key; give the key itself"), surface, strings.TrimSpace(sf.Key))
	}
	sf.Key = string(stored)
	return nil
}

func (s *Settings) surface(name string) *Surface {
	if name == "peer" {
		return &s.TLS.Peer
	}
	return &s.TLS.Client
}

// Validate checks the settings as a whole and stops at the first problem.
// Every error names the option ("cannot use tls.peer.key: ...") and never
// quotes key or certificate material.
func (s *Settings) Validate() error {
	if s.Name == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf(i18n.G("cannot use name: it is unset and the host name is unknown: %v"), err)
		}
		s.Name = h
	}
	if strings.ContainsAny(s.Name, ",= \t\n") {
		return fmt.Errorf(i18n.G("cannot use name %s: a member name cannot contain commas, equals signs or spaces"), show(s.Name))
	}
	if err := checkHost(s.Address); err != nil {
		return fmt.Errorf(i18n.G("cannot use address %s: %v"), show(s.Address), err)
	}
	if s.ListenAddress == "" {
		s.ListenAddress = s.Address
		if net.ParseIP(s.Address) == nil {
			s.ListenAddress = "0.0.0.0"
		}
	}
	if net.ParseIP(s.ListenAddress) == nil {
		return fmt.Errorf(i18n.G("cannot use listen-address %s: expected an IP address to bind"), show(s.ListenAddress))
	}
	for _, p := range []struct {
		key string
		v   int
	}{{"client-port", s.ClientPort}, {"peer-port", s.PeerPort}} {
		if p.v < 1 || p.v > 65535 {
			return fmt.Errorf(i18n.G("cannot use %s: %d is not a port number (1-65535)"), p.key, p.v)
		}
	}
	if s.ClientPort == s.PeerPort {
		return fmt.Errorf(i18n.G("cannot use peer-port: %d is also client-port"), s.PeerPort)
	}
	if s.InitialClusterState != "new" && s.InitialClusterState != "existing" {
		return fmt.Errorf(i18n.G("cannot use initial-cluster-state %s: expected new or existing"), show(s.InitialClusterState))
	}
	if s.InitialClusterToken == "" {
		return errors.New(i18n.G("cannot use initial-cluster-token: it cannot be empty"))
	}
	members, err := parseInitialCluster(s.InitialCluster, s.Name, s.Address, s.PeerPort)
	if err != nil {
		return fmt.Errorf(i18n.G("cannot use initial-cluster: %v"), err)
	}
	s.members = members
	if err := s.validateTLS(); err != nil {
		return err
	}
	if err := validateEtcd(s.Etcd); err != nil {
		return err
	}
	s.validated = true
	return nil
}

func checkHost(h string) error {
	if h == "" {
		return errors.New(i18n.G("it cannot be empty"))
	}
	if ip := net.ParseIP(h); ip != nil {
		if ip.IsUnspecified() {
			return errors.New(i18n.G("peers and clients cannot reach the unspecified address; set listen-address to bind it"))
		}
		return nil
	}
	if len(h) > 253 {
		return errors.New(i18n.G("a DNS name has at most 253 characters"))
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New(i18n.G("expected an IP address or a DNS name"))
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return errors.New(i18n.G("expected an IP address or a DNS name"))
			}
		}
	}
	return nil
}

// Members is the validated initial-cluster.
func (s *Settings) Members() []Member { return s.members }

// Peer is the validated peer TLS material, nil when peer TLS is off.
func (s *Settings) Peer() *Material { return s.peer }

// Client is the validated client TLS material, nil when client TLS is off.
func (s *Settings) Client() *Material { return s.client }

// Warnings are problems that do not refuse the settings (a certificate that
// expires within a week).
func (s *Settings) Warnings() []string { return s.warnings }

// Validated reports whether Validate succeeded.
func (s *Settings) Validated() bool { return s.validated }

func parseInitialCluster(text, self, address string, peerPort int) ([]Member, error) {
	if strings.TrimSpace(text) == "" {
		return []Member{{Name: self, Host: address, Port: peerPort}}, nil
	}
	var out []Member
	seen := map[string]bool{}
	byTarget := map[string]string{}
	for _, entry := range strings.Split(text, ",") {
		entry = strings.TrimSpace(entry)
		name, target, ok := strings.Cut(entry, "=")
		name, target = strings.TrimSpace(name), strings.TrimSpace(target)
		if !ok || name == "" || target == "" {
			return nil, fmt.Errorf(i18n.G("entry %s is not name=host[:port] or name=URL"), show(entry))
		}
		if seen[name] {
			return nil, fmt.Errorf(i18n.G("member %s appears twice"), show(name))
		}
		seen[name] = true
		m, err := parseMemberTarget(target, peerPort)
		if err != nil {
			return nil, fmt.Errorf(i18n.G("entry %s: %v"), show(entry), err)
		}
		m.Name = name
		// Two members on one peer address would both be reached at the
		// same place: etcd refuses such a cluster when it starts.
		at := net.JoinHostPort(canonicalHost(m.Host), strconv.Itoa(m.Port))
		if other, ok := byTarget[at]; ok {
			return nil, fmt.Errorf(i18n.G("members %s and %s have the same peer address %s"), show(other), show(name), at)
		}
		byTarget[at] = name
		out = append(out, m)
	}
	for _, m := range out {
		if m.Name == self {
			if canonicalHost(m.Host) != canonicalHost(address) || m.Port != peerPort {
				return nil, fmt.Errorf(i18n.G("it places this member (%s) at %s, but address and peer-port give %s"), self,
					net.JoinHostPort(m.Host, strconv.Itoa(m.Port)), net.JoinHostPort(address, strconv.Itoa(peerPort)))
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf(i18n.G("it does not name this member (%s)"), self)
}

// canonicalHost spells an address one way, so that fd00::1 and
// fd00:0::1, or M1.example and m1.example, compare equal.
func canonicalHost(h string) string {
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// parseMemberTarget reads host, host:port or an http(s) URL with nothing
// but a host and a port: etcd refuses a peer URL with a path or a query.
func parseMemberTarget(target string, defPort int) (Member, error) {
	hostport := target
	if strings.Contains(target, "://") {
		// url.Parse errors quote the input: say what is wrong instead.
		u, err := url.Parse(target)
		if err != nil {
			return Member{}, errors.New(i18n.G("it is not a valid URL"))
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return Member{}, fmt.Errorf(i18n.G("scheme %s is not http or https"), show(u.Scheme))
		}
		if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return Member{}, errors.New(i18n.G("a peer URL holds a scheme, a host and a port, nothing else"))
		}
		hostport = u.Host
	}
	host, port := hostport, defPort
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host = h
		n, err := strconv.Atoi(p)
		if err != nil || strings.TrimLeft(p, "0123456789") != "" || n < 1 || n > 65535 {
			return Member{}, fmt.Errorf(i18n.G("port %s is not a port number (1-65535)"), show(p))
		}
		port = n
	} else if strings.HasPrefix(hostport, "[") && !strings.HasSuffix(hostport, "]") {
		return Member{}, fmt.Errorf(i18n.G("host %s: expected [IPv6 address] or [IPv6 address]:port"), show(hostport))
	}
	host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	if err := checkHost(host); err != nil {
		return Member{}, fmt.Errorf(i18n.G("host %s: %v"), show(host), err)
	}
	return Member{Host: host, Port: port}, nil
}
