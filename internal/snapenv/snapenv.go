// Package snapenv names every path the snap reads or writes, derived from
// the environment snapd gives apps and hooks, so that the rest of the code
// never reads $SNAP_* itself and tests can point it at a temporary tree.
package snapenv

import (
	"errors"
	"os"
	"path/filepath"
)

// DaemonUID and DaemonGID are snapd's fixed ids for the snap_daemon user that
// the snap declares in system-usernames; snapd reserves them on every system.
const (
	DaemonUID = 584788
	DaemonGID = 584788
)

// Env is the snap environment as seen by one process.
type Env interface {
	// Snap is $SNAP: the read-only installed tree.
	Snap() string
	// Data is $SNAP_DATA: per-revision writable data (the rendered config).
	Data() string
	// Common is $SNAP_COMMON: data kept across revisions (TLS files, etcd data).
	Common() string
	// InstanceName is $SNAP_INSTANCE_NAME (charmed-etcd, or charmed-etcd_m2 for a parallel instance).
	InstanceName() string
}

// Paths are the files of DESIGN.md section 3, derived from an Env.
type Paths struct {
	// Config is the rendered etcd configuration, $SNAP_DATA/etcd.conf.yml.
	Config string
	// TLSDir holds the certificate set, $SNAP_COMMON/tls.
	TLSDir string
	// DataDir is etcd's data directory, $SNAP_COMMON/var/lib/etcd.
	DataDir string
	// Defaults is the directory of default option files in the snap, $SNAP/configs.
	Defaults string
}

// PathsOf derives the snap's paths from env.
func PathsOf(env Env) Paths {
	return Paths{
		Config:   filepath.Join(env.Data(), "etcd.conf.yml"),
		TLSDir:   filepath.Join(env.Common(), "tls"),
		DataDir:  filepath.Join(env.Common(), "var", "lib", "etcd"),
		Defaults: filepath.Join(env.Snap(), "configs"),
	}
}

// TLS file names inside TLSDir. The Juju charm and its documentation use these
// names, so they are part of the snap's contract.
const (
	PeerCert     = "peer.pem"
	PeerKey      = "peer.key"
	PeerCA       = "peer_ca.pem"
	PeerCRL      = "peer.crl"
	ClientCert   = "client.pem"
	ClientKey    = "client.key"
	ClientCA     = "client_ca.pem"
	ClientCRL    = "client.crl"
	configPrefix = "SNAP"
)

// Static is an Env with fixed values, for tests and tools.
type Static struct {
	SnapDir, DataDir, CommonDir, Instance string
}

func (s Static) Snap() string         { return s.SnapDir }
func (s Static) Data() string         { return s.DataDir }
func (s Static) Common() string       { return s.CommonDir }
func (s Static) InstanceName() string { return s.Instance }

// FromOS reads the environment snapd sets for apps and hooks.
func FromOS() (Env, error) {
	s := Static{
		SnapDir:   os.Getenv(configPrefix),
		DataDir:   os.Getenv(configPrefix + "_DATA"),
		CommonDir: os.Getenv(configPrefix + "_COMMON"),
		Instance:  os.Getenv(configPrefix + "_INSTANCE_NAME"),
	}
	if s.DataDir == "" || s.CommonDir == "" {
		return nil, errors.New("cannot find the snap environment: SNAP_DATA and SNAP_COMMON must be set (run this through snap or snapsim)")
	}
	if s.Instance == "" {
		s.Instance = os.Getenv(configPrefix + "_NAME")
	}
	return s, nil
}
