// Command etcdctl is upstream etcdctl with this member's endpoint and client
// TLS files as defaults (the snap's charmed-etcd.etcdctl).
package main

import (
	"fmt"
	"os"

	"go.etcd.io/etcd/etcdctl/v3/ctlv3"

	"github.com/canonical/charmed-etcd-snap/internal/ctlflags"
	"github.com/canonical/charmed-etcd-snap/internal/privs"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

func main() {
	if env, err := snapenv.FromOS(); err == nil {
		daemon := privs.ID{UID: snapenv.DaemonUID, GID: snapenv.DaemonGID}
		var defaults map[string]string
		_ = privs.As(daemon, func() error {
			defaults = ctlflags.Defaults(snapenv.PathsOf(env))
			return nil
		})
		args := os.Args[1:]
		if ctlflags.NeedsDaemonUser(args, defaults, os.Getenv) {
			if err := privs.Drop(daemon); err != nil {
				fmt.Fprintln(os.Stderr, "error:", err)
				os.Exit(1)
			}
		}
		os.Args = append([]string{os.Args[0]}, ctlflags.Apply(args, defaults, os.Getenv)...)
	}
	ctlv3.MustStart()
}
