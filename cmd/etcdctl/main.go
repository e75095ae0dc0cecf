// Command etcdctl is upstream etcdctl with this member's endpoint and client
// TLS files as defaults (the snap's charmed-etcd.etcdctl).
package main

import (
	"os"

	"go.etcd.io/etcd/etcdctl/v3/ctlv3"

	"github.com/canonical/charmed-etcd-snap/internal/ctlflags"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

func main() {
	if env, err := snapenv.FromOS(); err == nil {
		args := ctlflags.Apply(os.Args[1:], ctlflags.Defaults(snapenv.PathsOf(env)), os.Getenv)
		os.Args = append([]string{os.Args[0]}, args...)
	}
	ctlv3.MustStart()
}
