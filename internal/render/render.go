// Package render turns validated settings into etcd's own configuration file
// and the set of TLS files, as pure functions: the same settings always
// give the same bytes, which is what lets the hook skip writes and restarts.
package render

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/canonical/charmed-etcd-snap/internal/settings"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// File is one file of the TLS set.
type File struct {
	Name string
	Data []byte
	// Restart is true when etcd reads the file only at start (CA bundles):
	// a change to it needs a restart. Leaf certificates, keys and CRLs are
	// read again on each new TLS handshake.
	Restart bool
}

// TLSFiles is the TLS set the settings call for, in a fixed order.
func TLSFiles(s *settings.Settings) []File {
	var out []File
	if p := s.Peer(); p != nil {
		out = append(out, File{snapenv.PeerCert, p.CertPEM, false}, File{snapenv.PeerKey, p.KeyPEM, false}, File{snapenv.PeerCA, p.CAPEM, true})
		if p.CRLPEM != nil {
			out = append(out, File{snapenv.PeerCRL, crlDER(p.CRLPEM), false})
		}
	}
	if c := s.Client(); c != nil {
		out = append(out, File{snapenv.ClientCert, c.CertPEM, false}, File{snapenv.ClientKey, c.KeyPEM, false})
		if c.CAPEM != nil {
			out = append(out, File{snapenv.ClientCA, c.CAPEM, true})
		}
		if c.CRLPEM != nil {
			out = append(out, File{snapenv.ClientCRL, crlDER(c.CRLPEM), false})
		}
	}
	return out
}

// crlDER is the form etcd reads a revocation list in: its CRL check parses
// the file with x509.ParseRevocationList, which takes DER, not PEM.
func crlDER(canonicalPEM []byte) []byte {
	b, _ := pem.Decode(canonicalPEM)
	if b == nil {
		return nil
	}
	return b.Bytes
}

// Scheme is the URL scheme a surface uses: https exactly when it has certificates.
func Scheme(tlsOn bool) string {
	if tlsOn {
		return "https"
	}
	return "http"
}

// URL joins scheme, host and port, bracketing IPv6 hosts.
func URL(scheme, host string, port int) string {
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// PeerURL is the peer URL this member advertises.
func PeerURL(s *settings.Settings) string {
	return URL(Scheme(s.Peer() != nil), s.Address, s.PeerPort)
}

// ClientURL is the client URL this member advertises.
func ClientURL(s *settings.Settings) string {
	return URL(Scheme(s.Client() != nil), s.Address, s.ClientPort)
}

// BootstrapKeys are read by etcd only when it creates its data directory;
// once a member has joined, changing them changes nothing etcd does.
var BootstrapKeys = []string{"initial-cluster", "initial-cluster-state", "initial-cluster-token"}

type kv struct {
	k string
	v any
}

// Config renders etcd's configuration file for s, with the snap's paths.
// Key names are etcd's config-file keys (cert-file, not --peer-cert-file):
// etcd ignores keys it does not know and would then serve without TLS.
func Config(s *settings.Settings, p snapenv.Paths) ([]byte, error) {
	if !s.Validated() {
		return nil, fmt.Errorf("cannot render the configuration of settings that were not validated")
	}
	peerScheme, clientScheme := Scheme(s.Peer() != nil), Scheme(s.Client() != nil)
	var cluster []string
	for _, m := range s.Members() {
		cluster = append(cluster, m.Name+"="+URL(peerScheme, m.Host, m.Port))
	}
	top := []kv{
		{"name", s.Name},
		{"data-dir", p.DataDir},
		{"listen-peer-urls", URL(peerScheme, s.ListenAddress, s.PeerPort)},
		{"listen-client-urls", URL(clientScheme, s.ListenAddress, s.ClientPort)},
		{"initial-advertise-peer-urls", PeerURL(s)},
		{"advertise-client-urls", ClientURL(s)},
		{"initial-cluster", strings.Join(cluster, ",")},
		{"initial-cluster-state", s.InitialClusterState},
		{"initial-cluster-token", s.InitialClusterToken},
		// snapd sends a daemon's stderr to the journal: log there, in JSON.
		{"logger", "zap"},
		{"log-outputs", []string{"stderr"}},
	}
	if s.Peer() != nil || s.Client() != nil {
		top = append(top, kv{"tls-min-version", s.TLS.MinVersion}, kv{"tls-max-version", s.TLS.MaxVersion})
		if s.TLS.MinVersion == "TLS1.2" && len(s.TLS.CipherSuites) > 0 {
			top = append(top, kv{"cipher-suites", s.TLS.CipherSuites})
		}
	}
	if c := s.Client(); c != nil {
		sec := []kv{
			{"cert-file", filepath.Join(p.TLSDir, snapenv.ClientCert)},
			{"key-file", filepath.Join(p.TLSDir, snapenv.ClientKey)},
			{"client-cert-auth", c.ClientCertAuth},
		}
		// etcd verifies client certificates whenever it has a trusted CA
		// file, whatever client-cert-auth says: one-way TLS must not hand
		// it the CA.
		if c.ClientCertAuth {
			sec = append(sec, kv{"trusted-ca-file", filepath.Join(p.TLSDir, snapenv.ClientCA)})
		}
		if len(c.AllowedHostname) > 0 {
			sec = append(sec, kv{"allowed-hostname", c.AllowedHostname})
		}
		top = append(top, kv{"client-transport-security", sec})
	}
	if pm := s.Peer(); pm != nil {
		sec := []kv{
			{"cert-file", filepath.Join(p.TLSDir, snapenv.PeerCert)},
			{"key-file", filepath.Join(p.TLSDir, snapenv.PeerKey)},
			{"client-cert-auth", pm.ClientCertAuth},
			{"trusted-ca-file", filepath.Join(p.TLSDir, snapenv.PeerCA)},
		}
		if len(pm.AllowedCN) > 0 {
			sec = append(sec, kv{"allowed-cn", pm.AllowedCN})
		}
		if len(pm.AllowedHostname) > 0 {
			sec = append(sec, kv{"allowed-hostname", pm.AllowedHostname})
		}
		top = append(top, kv{"peer-transport-security", sec})
	}
	pass := s.PassThrough()
	keys := make([]string, 0, len(pass))
	for k := range pass {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		top = append(top, kv{k, pass[k]})
	}

	var buf bytes.Buffer
	buf.WriteString("# Rendered by the charmed-etcd configure hook from the snap's options.\n# Edits are lost: use snap set charmed-etcd ...\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node(top)); err != nil {
		return nil, fmt.Errorf("cannot render the etcd configuration: %v", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("cannot render the etcd configuration: %v", err)
	}
	return buf.Bytes(), nil
}

func node(v any) *yaml.Node {
	switch t := v.(type) {
	case []kv:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, e := range t {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e.k}, node(e.v))
		}
		return n
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(v)}
	}
	return &n
}

// SameAfterBootstrap reports whether two rendered files differ only in the
// keys etcd reads at bootstrap: on a member that has already joined, such a
// change needs no restart.
func SameAfterBootstrap(a, b []byte) bool {
	var ma, mb map[string]any
	if yaml.Unmarshal(a, &ma) != nil || yaml.Unmarshal(b, &mb) != nil {
		return false
	}
	for _, k := range BootstrapKeys {
		delete(ma, k)
		delete(mb, k)
	}
	return reflect.DeepEqual(ma, mb)
}
