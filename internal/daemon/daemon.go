// Package daemon runs etcd embedded from upstream's server module, from the
// configuration file the configure hook rendered, as the snap_daemon user.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/membership"

	"github.com/canonical/charmed-etcd-snap/internal/etcdconf"
	"github.com/canonical/charmed-etcd-snap/internal/privs"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// Load reads the rendered file strictly (a key etcd does not know is an
// error, where etcd would ignore it) and builds etcd's Config from it.
// etcd's file has no key for revocation lists: a CRL written beside a
// surface's certificate is set on the Config here.
func Load(path string) (*embed.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the etcd configuration: %v", err)
	}
	if err := etcdconf.CheckStrict(data); err != nil {
		return nil, fmt.Errorf("cannot use %s: %v", path, err)
	}
	cfg, err := embed.ConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot use %s: %v", path, err)
	}
	if err := finishLikeEtcdMain(cfg); err != nil {
		return nil, fmt.Errorf("cannot use %s: %v", path, err)
	}
	for _, c := range []struct {
		cert *string
		crl  *string
		name string
	}{
		{&cfg.PeerTLSInfo.CertFile, &cfg.PeerTLSInfo.CRLFile, snapenv.PeerCRL},
		{&cfg.ClientTLSInfo.CertFile, &cfg.ClientTLSInfo.CRLFile, snapenv.ClientCRL},
	} {
		if *c.cert == "" {
			continue
		}
		crl := filepath.Join(filepath.Dir(*c.cert), c.name)
		if _, err := os.Stat(crl); err == nil {
			*c.crl = crl
		}
	}
	return cfg, nil
}

// DropPrivileges switches a root process to snap_daemon for good, after
// making sure the data directory exists and belongs to it. It runs before
// anything reads the configuration or the TLS files: they belong to
// snap_daemon, and root has no DAC override under confinement.
func DropPrivileges(dataDir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %v", filepath.Dir(dataDir), err)
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cannot create %s: %v", dataDir, err)
	}
	// A data directory created by root (or restored by root with etcdutl)
	// is handed to the daemon user; its content is etcd's to fix.
	if st, err := os.Stat(dataDir); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && (int(sys.Uid) != snapenv.DaemonUID || int(sys.Gid) != snapenv.DaemonGID) {
			if err := os.Chown(dataDir, snapenv.DaemonUID, snapenv.DaemonGID); err != nil {
				return fmt.Errorf("cannot give %s to the daemon user: %v", dataDir, err)
			}
		}
	}
	return privs.Drop(privs.ID{UID: snapenv.DaemonUID, GID: snapenv.DaemonGID})
}

// Run drops privileges, loads the configuration, starts etcd and serves
// until ctx is done, then closes etcd cleanly (it finishes in-flight
// requests and syncs the WAL).
func Run(ctx context.Context, p snapenv.Paths, log io.Writer) error {
	if err := DropPrivileges(p.DataDir); err != nil {
		return err
	}
	cfg, err := Load(p.Config)
	if err != nil {
		return err
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("cannot start etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		fmt.Fprintf(log, "charmed-etcd: member %s ready: client %s, peer %s, client TLS %s, peer TLS %s\n",
			cfg.Name, cfg.AdvertiseClientUrls[0].String(), cfg.AdvertisePeerUrls[0].String(),
			describeTLS(cfg.ClientTLSInfo.CertFile, cfg.ClientTLSInfo.TrustedCAFile, cfg.ClientTLSInfo.ClientCertAuth),
			describeTLS(cfg.PeerTLSInfo.CertFile, cfg.PeerTLSInfo.TrustedCAFile, cfg.PeerTLSInfo.ClientCertAuth))
		go reconcilePeerURLs(ctx, e, cfg, log)
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("cannot start etcd: %v", err)
	case <-ctx.Done():
		e.Close()
		return nil
	}
	select {
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("etcd stopped: %v", err)
	case <-ctx.Done():
		fmt.Fprintln(log, "charmed-etcd: stopping")
		stopped := make(chan struct{})
		go func() { e.Close(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			return errors.New("cannot stop etcd within 20s")
		}
		return nil
	}
}

func describeTLS(cert, ca string, auth bool) string {
	if cert == "" {
		return "off"
	}
	s := "on (cert-file " + cert
	if ca != "" {
		s += ", trusted-ca-file " + ca
	}
	if auth {
		s += ", client certificates required"
	}
	return s + ")"
}

// reconcilePeerURLs makes the cluster record exactly this member's
// advertised peer URLs, once it serves them: the hook records the old and
// new URL side by side across a scheme change.
func reconcilePeerURLs(ctx context.Context, e *embed.Etcd, cfg *embed.Config, log io.Writer) {
	var want []string
	for _, u := range cfg.AdvertisePeerUrls {
		want = append(want, u.String())
	}
	for i := 0; i < 60 && ctx.Err() == nil; i++ {
		m := e.Server.Cluster().Member(e.Server.MemberID())
		if m == nil || slices.Equal(m.PeerURLs, want) {
			return
		}
		uctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := e.Server.UpdateMember(uctx, membership.Member{ID: m.ID, RaftAttributes: membership.RaftAttributes{PeerURLs: want}})
		cancel()
		if err == nil {
			fmt.Fprintf(log, "charmed-etcd: cluster now records peer URLs %v\n", want)
			return
		}
		time.Sleep(time.Second)
	}
}
