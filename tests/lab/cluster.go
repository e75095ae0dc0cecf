package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// TLSArgs are etcdctl's client TLS flags; empty for plain HTTP.
type TLSArgs []string

// MutualTLS is what a client holding the member's client certificate passes.
func (m *Member) MutualTLS(caCert string) TLSArgs {
	tls := filepath.Join(m.Common(), "tls")
	return TLSArgs{"--cacert", caCert, "--cert", filepath.Join(tls, "client.pem"), "--key", filepath.Join(tls, "client.key")}
}

// InitialCluster is name=host:port for every member of the lab.
func (l *Lab) InitialCluster() string {
	var parts []string
	for _, m := range l.Members {
		parts = append(parts, fmt.Sprintf("%s=%s:%d", m.Name, m.Addr, m.PeerPort))
	}
	return strings.Join(parts, ",")
}

// Install installs the primed snap in the member's unit and sets its
// membership options (not started: the daemon installs disabled).
func (m *Member) Install(ctx context.Context, extra ...string) error {
	if r := m.Snap(ctx, "install", m.lab.Prime()); r.Err != nil {
		return fmt.Errorf("cannot install on %s: %v", m.Name, r.Err)
	}
	args := []string{"set", "charmed-etcd", "name=" + m.Name, "address=" + m.Addr,
		"initial-cluster=" + m.lab.InitialCluster(),
		fmt.Sprintf("client-port=%d", m.ClientPort), fmt.Sprintf("peer-port=%d", m.PeerPort)}
	if r := m.Snap(ctx, append(args, extra...)...); r.Err != nil {
		return fmt.Errorf("cannot configure %s: %v", m.Name, r.Err)
	}
	return nil
}

// StartAll starts every member's daemon: a new cluster needs a quorum of
// members up before any of them is ready.
func (l *Lab) StartAll(ctx context.Context) error {
	for _, m := range l.Members {
		if r := m.Snap(ctx, "start", "--enable", "charmed-etcd.etcd"); r.Err != nil {
			return fmt.Errorf("cannot start %s: %v", m.Name, r.Err)
		}
	}
	return nil
}

// MemberInfo is one member as etcdctl -w json member list reports it.
type MemberInfo struct {
	ID         uint64   `json:"ID"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
	IsLearner  bool     `json:"isLearner"`
}

// Members lists the cluster's members as seen through m.
func (m *Member) Members(ctx context.Context, scheme string, tls TLSArgs) ([]MemberInfo, error) {
	args := append([]string{"--endpoints", m.ClientURL(scheme), "--dial-timeout=2s", "--command-timeout=4s", "-w", "json", "member", "list"}, tls...)
	r := m.EtcdctlQuiet(ctx, args...)
	if r.Err != nil {
		return nil, fmt.Errorf("member list through %s failed: %s", m.Name, strings.TrimSpace(lastLine(r.Out)))
	}
	var out struct {
		Members []MemberInfo `json:"members"`
	}
	if err := json.Unmarshal([]byte(r.Out), &out); err != nil {
		return nil, fmt.Errorf("cannot parse member list: %v", err)
	}
	return out.Members, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// Healthy checks, from inside each member's namespace, that its endpoint
// answers a linearizable health check.
func (l *Lab) Healthy(ctx context.Context, scheme string, tls func(*Member) TLSArgs) error {
	for _, m := range l.Members {
		var t TLSArgs
		if tls != nil {
			t = tls(m)
		}
		args := append([]string{"--endpoints", m.ClientURL(scheme), "--dial-timeout=2s", "--command-timeout=4s", "endpoint", "health"}, t...)
		if r := m.EtcdctlQuiet(ctx, args...); r.Err != nil {
			return fmt.Errorf("%s is not healthy: %s", m.Name, strings.TrimSpace(lastLine(r.Out)))
		}
	}
	return nil
}

// WaitHealthy retries Healthy for up to a minute.
func (l *Lab) WaitHealthy(ctx context.Context, scheme string, tls func(*Member) TLSArgs) error {
	return Retry(ctx, 60*time.Second, func() error { return l.Healthy(ctx, scheme, tls) })
}

// CheckMembers checks that the list has every lab member, started (named),
// with the given peer and client URL schemes.
func (l *Lab) CheckMembers(list []MemberInfo, peerScheme, clientScheme string) error {
	if len(list) != len(l.Members) {
		return fmt.Errorf("expected %d members, the cluster lists %d", len(l.Members), len(list))
	}
	byName := map[string]MemberInfo{}
	for _, mi := range list {
		byName[mi.Name] = mi
	}
	for _, m := range l.Members {
		mi, ok := byName[m.Name]
		if !ok {
			return fmt.Errorf("member %s is not listed as started", m.Name)
		}
		wantPeer := fmt.Sprintf("%s://%s:%d", peerScheme, m.Addr, m.PeerPort)
		if len(mi.PeerURLs) != 1 || mi.PeerURLs[0] != wantPeer {
			return fmt.Errorf("member %s has peer URLs %v, expected %s", m.Name, mi.PeerURLs, wantPeer)
		}
		if len(mi.ClientURLs) != 1 || mi.ClientURLs[0] != m.ClientURL(clientScheme) {
			return fmt.Errorf("member %s has client URLs %v, expected %s", m.Name, mi.ClientURLs, m.ClientURL(clientScheme))
		}
	}
	return nil
}
