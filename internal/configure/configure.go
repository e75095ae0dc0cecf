// Package configure is the configure hook: read every option, validate the
// whole change, then apply it with the smallest effect on the running
// member (nothing; new files only; or new files and a restart).
package configure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"gopkg.in/yaml.v3"

	"github.com/canonical/charmed-etcd-snap/internal/atomicfile"
	"github.com/canonical/charmed-etcd-snap/internal/health"
	"github.com/canonical/charmed-etcd-snap/internal/i18n"
	"github.com/canonical/charmed-etcd-snap/internal/membership"
	"github.com/canonical/charmed-etcd-snap/internal/render"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
	"github.com/canonical/charmed-etcd-snap/internal/snapctl"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// Cluster is what the hook asks of the running cluster.
type Cluster interface {
	UpdatePeerURL(ctx context.Context, ep membership.Endpoint, name, peerURL string) (bool, error)
	MoveLeaderAway(ctx context.Context, ep membership.Endpoint) (bool, error)
}

// Hook holds the edges the configure logic acts on.
type Hook struct {
	Env     snapenv.Env
	Ctl     snapctl.Client
	Cluster Cluster
	// Owner is given to every file written (snap_daemon when run as root).
	Owner atomicfile.Owner
	// Log receives one line per action, never key material.
	Log io.Writer
	// Settings, when set, adjusts the loaded settings before validation
	// (tests use it to fix the clock).
	Settings func(*settings.Settings)
}

// Result says what a run did.
type Result struct {
	WroteTLS, WroteConfig, Restarted, PeerURLUpdated, LeaderMoved bool
}

// DaemonService is the daemon's app name.
const DaemonService = "etcd"

// Run is the configure (and install) hook.
func (h *Hook) Run(ctx context.Context) (*Result, error) {
	p := snapenv.PathsOf(h.Env)
	res := &Result{}
	if err := atomicfile.Recover(p.TLSDir, h.Owner); err != nil {
		return nil, err
	}

	doc, err := h.Ctl.GetDocument(settings.TopLevelKeys()...)
	if err != nil {
		return nil, err
	}
	s, err := settings.Load(doc)
	if err != nil {
		return nil, err
	}
	if h.Settings != nil {
		h.Settings(s)
	}
	// What is on disk belongs to the daemon user and is closed to others:
	// read it with its ids (root has no DAC override under confinement).
	var oldFiles map[string][]byte
	var oldConf []byte
	var initialized bool
	_ = h.Owner.Do(func() error {
		oldFiles = readDir(p.TLSDir)
		oldConf, _ = os.ReadFile(p.Config)
		initialized = memberInitialized(p.DataDir)
		return nil
	})
	for _, surf := range []struct{ name, file string }{{"peer", snapenv.PeerKey}, {"client", snapenv.ClientKey}} {
		if err := s.ResolveStoredKey(surf.name, oldFiles[surf.file]); err != nil {
			return nil, err
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	conf, err := render.Config(s, p)
	if err != nil {
		return nil, err
	}
	if err := etcdAccepts(conf, s); err != nil {
		return nil, err
	}
	for _, w := range s.Warnings() {
		fmt.Fprintln(h.Log, "warning:", w)
	}

	// Compare with what is on disk.
	newFiles := render.TLSFiles(s)
	tlsChanged, restartFiles := diffFiles(oldFiles, newFiles)
	confChanged := !bytes.Equal(oldConf, conf)
	restart := restartFiles || (confChanged && !(initialized && render.SameAfterBootstrap(oldConf, conf)))

	service := h.Env.InstanceName() + "." + DaemonService
	active := false
	if tlsChanged || confChanged {
		if active, err = h.Ctl.ServiceActive(service); err != nil {
			return nil, err
		}
	}
	cur := currentEndpoint(oldConf, oldFiles[snapenv.ClientCA] != nil, p.TLSDir)

	// The cluster must know this member's new peer URL before the member
	// listens on it: peers dial the URL the cluster records.
	oldPeer := currentPeerURL(oldConf)
	newPeer := render.PeerURL(s)
	peerURLChanges := initialized && oldPeer != "" && oldPeer != newPeer
	if peerURLChanges && !active {
		return nil, fmt.Errorf(i18n.G("cannot change this member's peer URL from %s to %s: the member has joined a cluster, but %s is not running, so the cluster cannot be told; start it first"), oldPeer, newPeer, service)
	}
	// Leadership moves before the peer URL changes. From the update until
	// the restart, the member still listens on its old scheme while peers
	// dial the new one; the last member to turn peer TLS on cannot dial
	// its peers either (they listen on https, it has no certificate in
	// use yet), so nothing reaches it. A follower cut off that way costs
	// nothing while the others keep quorum; a leader would stall every
	// write and could not hand its leadership over.
	if restart && active {
		moved, err := h.Cluster.MoveLeaderAway(ctx, cur)
		switch {
		case err != nil && !errors.Is(err, membership.ErrNoOtherMember):
			fmt.Fprintln(h.Log, "warning: leadership not moved before restart:", err)
		case moved:
			res.LeaderMoved = true
			fmt.Fprintln(h.Log, "moved leadership to another member before restarting")
		}
	}
	if peerURLChanges {
		updated, err := h.Cluster.UpdatePeerURL(ctx, cur, s.Name, newPeer)
		if err != nil {
			return nil, fmt.Errorf(i18n.G("cannot change this member's peer URL from %s to %s: %v"), oldPeer, newPeer, err)
		}
		res.PeerURLUpdated = updated
		fmt.Fprintf(h.Log, "cluster now records peer URL %s for %s\n", newPeer, s.Name)
	}

	if err := h.write(p, oldFiles, newFiles, tlsChanged, conf, confChanged); err != nil {
		return nil, err
	}
	res.WroteTLS, res.WroteConfig = tlsChanged, confChanged

	if err := h.hideKeys(s); err != nil {
		return nil, err
	}
	if restart && active {
		if err := h.Ctl.Restart(service); err != nil {
			return nil, err
		}
		res.Restarted = true
	}
	h.reportHealth(s)
	return res, nil
}

// write applies the change so that the configuration never names a TLS
// file that is not there, even after a crash between steps: files the new
// configuration needs are added before it is written, files it no longer
// needs are removed after.
func (h *Hook) write(p snapenv.Paths, oldFiles map[string][]byte, newFiles []render.File, tlsChanged bool, conf []byte, confChanged bool) error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{filepath.Dir(p.TLSDir), 0o755}, {p.DataDir, 0o700}, {filepath.Dir(p.Config), 0o755}} {
		if err := ensureDir(d.path, d.mode, h.Owner, d.path == p.DataDir); err != nil {
			return err
		}
	}
	final := toAtomic(newFiles)
	if tlsChanged {
		union := final
		names := map[string]bool{}
		for _, f := range final {
			names[f.Name] = true
		}
		removing := false
		for name, data := range oldFiles {
			if !names[name] {
				union = append(union, atomicfile.File{Name: name, Data: data, Mode: 0o600})
				removing = true
			}
		}
		if err := atomicfile.ReplaceDir(p.TLSDir, union, 0o700, h.Owner); err != nil {
			return err
		}
		if !removing {
			tlsChanged = false
		}
	}
	atomicfile.Failpoint("tls-written")
	if confChanged {
		if err := atomicfile.WriteFile(p.Config, conf, 0o600, h.Owner); err != nil {
			return err
		}
	}
	atomicfile.Failpoint("config-written")
	if tlsChanged {
		if err := atomicfile.ReplaceDir(p.TLSDir, final, 0o700, h.Owner); err != nil {
			return err
		}
	}
	return nil
}

func toAtomic(files []render.File) []atomicfile.File {
	out := make([]atomicfile.File, 0, len(files))
	// Every TLS file is 0600, certificates too: one rule for the set, and
	// nothing in it is for other users (the directory is 0700 anyway).
	for _, f := range files {
		out = append(out, atomicfile.File{Name: f.Name, Data: f.Data, Mode: 0o600})
	}
	return out
}

// hideKeys replaces stored private keys in the options by their
// fingerprint: any user can read options with snap run --shell.
func (h *Hook) hideKeys(s *settings.Settings) error {
	set := map[string]any{}
	for _, m := range []struct {
		opt, val string
		mat      *settings.Material
	}{{"tls.peer.key", s.TLS.Peer.Key, s.Peer()}, {"tls.client.key", s.TLS.Client.Key, s.Client()}} {
		if m.mat != nil && strings.TrimSpace(m.val) != m.mat.KeyFingerprint {
			set[m.opt] = m.mat.KeyFingerprint
		}
	}
	return h.Ctl.Set(set)
}

// reportHealth tells snapd whether a certificate in use expires within a
// week (error, naming it and its date) or all is well (okay). snapd keeps
// it only if the hook succeeds, so it runs last.
func (h *Hook) reportHealth(s *settings.Settings) {
	st := health.Evaluate(s.Now, health.FromSettings(s))
	if err := h.Ctl.SetHealth(st.Status, st.Message, st.Code); err != nil {
		fmt.Fprintln(h.Log, "warning: cannot report health:", err)
	}
}

// etcdAccepts runs etcd's own file loading and validation on the rendered
// configuration, so that anything etcd would refuse at start is refused
// now, while the old configuration still runs.
func etcdAccepts(conf []byte, s *settings.Settings) error {
	dir, err := os.MkdirTemp("", "charmed-etcd-check")
	if err != nil {
		return fmt.Errorf("cannot check the configuration: %v", err)
	}
	defer os.RemoveAll(dir)
	// etcd's loader logs its warnings where the file says; the hook's
	// output goes to the user, so the check logs nowhere.
	var m map[string]any
	if err := yaml.Unmarshal(conf, &m); err != nil {
		return fmt.Errorf("cannot check the configuration: %v", err)
	}
	m["log-outputs"] = []string{os.DevNull}
	quiet, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Errorf("cannot check the configuration: %v", err)
	}
	path := filepath.Join(dir, "etcd.conf.yml")
	if err := os.WriteFile(path, quiet, 0o600); err != nil {
		return fmt.Errorf("cannot check the configuration: %v", err)
	}
	if _, err := embed.ConfigFromFile(path); err != nil {
		var keys []string
		for k := range s.Etcd {
			if strings.Contains(err.Error(), k) {
				keys = append(keys, settings.EtcdPrefix+"."+k)
			}
		}
		if len(keys) == 0 {
			keys = []string{settings.EtcdPrefix + ".*"}
		}
		return fmt.Errorf(i18n.G("cannot use %s: etcd refuses the configuration: %v"), strings.Join(keys, ", "), err)
	}
	return nil
}

func readDir(dir string) map[string][]byte {
	out := map[string][]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Type().IsRegular() {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				out[e.Name()] = b
			}
		}
	}
	return out
}

// diffFiles reports whether the TLS set changes, and whether a file etcd
// reads only at start (a CA bundle) changes, or a file appears or goes.
func diffFiles(old map[string][]byte, new []render.File) (changed, restart bool) {
	seen := map[string]bool{}
	for _, f := range new {
		seen[f.Name] = true
		o, ok := old[f.Name]
		if !ok {
			changed, restart = true, true
			continue
		}
		if !bytes.Equal(o, f.Data) {
			changed = true
			restart = restart || f.Restart
		}
	}
	for name := range old {
		if !seen[name] {
			changed, restart = true, true
		}
	}
	return changed, restart
}

func memberInitialized(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, "member", "wal"))
	return err == nil
}

type running struct {
	AdvertiseClient string `yaml:"advertise-client-urls"`
	AdvertisePeer   string `yaml:"initial-advertise-peer-urls"`
	ClientSecurity  struct {
		CertFile string `yaml:"cert-file"`
		KeyFile  string `yaml:"key-file"`
	} `yaml:"client-transport-security"`
}

func parseRunning(conf []byte) running {
	var r running
	_ = yaml.Unmarshal(conf, &r)
	return r
}

func currentPeerURL(conf []byte) string {
	first, _, _ := strings.Cut(parseRunning(conf).AdvertisePeer, ",")
	return first
}

// currentEndpoint is how to reach the member as it runs now, with the
// configuration on disk before this hook writes anything.
func currentEndpoint(conf []byte, haveCA bool, tlsDir string) membership.Endpoint {
	r := parseRunning(conf)
	url, _, _ := strings.Cut(r.AdvertiseClient, ",")
	ep := membership.Endpoint{URL: url, CertFile: r.ClientSecurity.CertFile, KeyFile: r.ClientSecurity.KeyFile}
	if strings.HasPrefix(url, "https://") && haveCA {
		ep.CAFile = filepath.Join(tlsDir, snapenv.ClientCA)
	}
	return ep
}

func ensureDir(path string, mode os.FileMode, owner atomicfile.Owner, exact bool) error {
	// Parents stay traversable: the daemon user must reach the data directory.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %v", filepath.Dir(path), err)
	}
	if err := os.Mkdir(path, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cannot create %s: %v", path, err)
	}
	if !exact {
		return nil
	}
	// Chown first (root may), then chmod as the owner: root has no
	// CAP_FOWNER under confinement.
	if owner.UID >= 0 {
		if err := os.Chown(path, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("cannot set the owner of %s: %v", path, err)
		}
	}
	return owner.Do(func() error {
		if err := os.Chmod(path, mode); err != nil {
			return fmt.Errorf("cannot set the mode of %s: %v", path, err)
		}
		return nil
	})
}

// EtcdCluster is the Cluster of a real etcd.
type EtcdCluster struct {
	// Owner owns the client TLS files the hook reads to reach the member.
	Owner atomicfile.Owner
}

func (c EtcdCluster) connect(ep membership.Endpoint) (cli *clientv3.Client, err error) {
	err = c.Owner.Do(func() error {
		cli, err = membership.Connect(ep)
		return err
	})
	return cli, err
}

// UpdatePeerURL implements Cluster.
func (c EtcdCluster) UpdatePeerURL(ctx context.Context, ep membership.Endpoint, name, peerURL string) (bool, error) {
	cli, err := c.connect(ep)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	dial := func(urls []string) (others *clientv3.Client, err error) {
		err = c.Owner.Do(func() error {
			others, err = membership.ConnectTo(ep, urls)
			return err
		})
		return others, err
	}
	return membership.UpdatePeerURLFrom(ctx, cli, ep, dial, name, peerURL)
}

// MoveLeaderAway implements Cluster.
func (c EtcdCluster) MoveLeaderAway(ctx context.Context, ep membership.Endpoint) (bool, error) {
	cli, err := c.connect(ep)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	return membership.MoveLeaderAway(ctx, cli, ep.URL)
}
