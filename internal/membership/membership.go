// Package membership tells the running cluster what this member is about to
// change: its peer URL (before it listens on a new scheme) and its
// leadership (before a planned restart), through etcd's client API.
package membership

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// Endpoint is how to reach this member's client port as it runs now.
type Endpoint struct {
	URL string
	// CAFile, CertFile, KeyFile are the client TLS files of the running
	// configuration; empty when client TLS is off.
	CAFile, CertFile, KeyFile string
}

// Timeout bounds every cluster call of the hook: a cluster without quorum
// must produce a refusal, not a hook that hangs until snapd kills it.
const Timeout = 5 * time.Second

// Connect opens a client to this member.
func Connect(ep Endpoint) (*clientv3.Client, error) {
	return ConnectTo(ep, []string{ep.URL})
}

// ConnectTo opens a client to urls with the TLS files of this member's
// endpoint.
func ConnectTo(ep Endpoint, urls []string) (*clientv3.Client, error) {
	cfg := clientv3.Config{
		Endpoints:   urls,
		DialTimeout: Timeout,
		Logger:      zap.NewNop(),
	}
	u, err := url.Parse(ep.URL)
	if err != nil {
		return nil, fmt.Errorf(i18n.G("cannot parse this member's client URL %q: %v"), ep.URL, err)
	}
	if u.Scheme == "https" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if ep.CAFile != "" {
			pem, err := os.ReadFile(ep.CAFile)
			if err != nil {
				return nil, fmt.Errorf(i18n.G("cannot read %s: %v"), ep.CAFile, err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			tc.RootCAs = pool
		} else {
			// One-way client TLS without a CA option: the hook cannot know
			// the issuer of its own member's certificate. It dials its own
			// listener on this host, so skipping verification exposes
			// nothing that the host does not already hold.
			tc.InsecureSkipVerify = true
		}
		if ep.CertFile != "" {
			pair, err := tls.LoadX509KeyPair(ep.CertFile, ep.KeyFile)
			if err != nil {
				return nil, fmt.Errorf(i18n.G("cannot load this member's client certificate: %v"), err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf(i18n.G("cannot reach this member at %s: %v"), ep.URL, err)
	}
	return cli, nil
}

// Dialer opens a client to urls with the TLS files of this member's
// endpoint (ConnectTo, or ConnectTo run with the ids that may read them).
type Dialer func(urls []string) (*clientv3.Client, error)

// others opens a client to the other started members that serve clients
// with the same scheme as this member; nil when there is none, or when
// this member's endpoint does not verify the servers it dials (it may
// skip verification on its own host only).
func others(ep Endpoint, dial Dialer, self uint64, members []*etcdserverpb.Member) *clientv3.Client {
	scheme, _, _ := strings.Cut(ep.URL, "://")
	if scheme == "https" && ep.CAFile == "" {
		return nil
	}
	var urls []string
	for _, m := range members {
		if m.ID == self || m.Name == "" || m.IsLearner {
			continue
		}
		for _, u := range m.ClientURLs {
			if strings.HasPrefix(u, scheme+"://") {
				urls = append(urls, u)
			}
		}
	}
	if len(urls) == 0 {
		return nil
	}
	cli, err := dial(urls)
	if err != nil {
		return nil
	}
	return cli
}

// UpdatePeerURL makes the cluster record peerURL as the peer URL of the
// member called name (or, for a member that has not started yet and so
// has no name, the member whose peer URL has the same host and port). It
// first checks for quorum with a linearizable read, so that without quorum
// it fails fast and changes nothing.
func UpdatePeerURL(ctx context.Context, cli *clientv3.Client, name, peerURL string) (changed bool, err error) {
	return updatePeerURL(ctx, cli, nil, nil, name, peerURL)
}

// UpdatePeerURLFrom is UpdatePeerURL for the member that cli reaches at
// ep, with the update itself sent through the other members when dial
// (ConnectTo when nil) reaches them with ep's TLS files. Once the update applies, peers dial this
// member on the new URL, which it does not serve until it restarts, and it
// may never hear that the update committed (the last member to turn peer
// TLS on can dial no peer either): asked through this member, the update
// would time out after it took effect.
func UpdatePeerURLFrom(ctx context.Context, cli *clientv3.Client, ep Endpoint, dial Dialer, name, peerURL string) (changed bool, err error) {
	if dial == nil {
		dial = func(urls []string) (*clientv3.Client, error) { return ConnectTo(ep, urls) }
	}
	return updatePeerURL(ctx, cli, &ep, dial, name, peerURL)
}

func updatePeerURL(ctx context.Context, cli *clientv3.Client, ep *Endpoint, dial Dialer, name, peerURL string) (changed bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if _, err := cli.Get(ctx, "charmed-etcd/quorum-check"); err != nil {
		return false, fmt.Errorf(i18n.G("the cluster does not answer a linearizable read (no quorum?): %v"), err)
	}
	list, err := cli.MemberList(ctx)
	if err != nil {
		return false, fmt.Errorf(i18n.G("cannot list members: %v"), err)
	}
	want, err := url.Parse(peerURL)
	if err != nil {
		return false, err
	}
	for _, m := range list.Members {
		match := m.Name == name
		if !match && m.Name == "" {
			for _, p := range m.PeerURLs {
				if u, err := url.Parse(p); err == nil && u.Host == want.Host {
					match = true
				}
			}
		}
		if !match {
			continue
		}
		if slices.Equal(m.PeerURLs, []string{peerURL}) {
			return false, nil
		}
		via := cli
		if ep != nil {
			if o := others(*ep, dial, m.ID, list.Members); o != nil {
				defer o.Close()
				via = o
			}
		}
		urls := []string{peerURL}
		for _, p := range m.PeerURLs {
			if u, err := url.Parse(p); err == nil && u.Host == want.Host && p != peerURL {
				urls = append(urls, p)
			}
		}
		if _, err := via.MemberUpdate(ctx, m.ID, urls); err != nil {
			return false, fmt.Errorf(i18n.G("cannot update this member's peer URL to %s: %v"), peerURL, err)
		}
		return true, nil
	}
	return false, fmt.Errorf(i18n.G("the cluster has no member called %s"), name)
}

// ErrNoOtherMember is returned by MoveLeaderAway when no other member can lead.
var ErrNoOtherMember = errors.New("no other started voting member")

// MoveLeaderAway hands leadership to another started voting member when
// this member leads, so that its planned restart costs no election.
func MoveLeaderAway(ctx context.Context, cli *clientv3.Client, ep string) (moved bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	st, err := cli.Status(ctx, ep)
	if err != nil {
		return false, fmt.Errorf(i18n.G("cannot read this member's status: %v"), err)
	}
	if st.Leader != st.Header.MemberId {
		return false, nil
	}
	list, err := cli.MemberList(ctx)
	if err != nil {
		return false, fmt.Errorf(i18n.G("cannot list members: %v"), err)
	}
	for _, m := range list.Members {
		if m.ID == st.Header.MemberId || m.IsLearner || m.Name == "" {
			continue
		}
		if _, err := cli.MoveLeader(ctx, m.ID); err != nil {
			return false, fmt.Errorf(i18n.G("cannot move leadership to %s: %v"), m.Name, err)
		}
		return true, nil
	}
	return false, ErrNoOtherMember
}
