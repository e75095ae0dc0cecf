// Package hookmain is the shared entry of the snap's hooks: build the real
// edges (environment, snapctl, cluster, owner) and run the configure logic.
package hookmain

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/canonical/charmed-etcd-snap/internal/atomicfile"
	"github.com/canonical/charmed-etcd-snap/internal/configure"
	"github.com/canonical/charmed-etcd-snap/internal/snapctl"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// Run runs the configure logic with the real snap environment and returns
// the process exit status. snapd shows a failed hook's stderr to the user,
// so the error goes there alone, without a prefix snapd adds itself.
func Run(stderr io.Writer) int {
	env, err := snapenv.FromOS()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	owner := atomicfile.Keep
	if os.Geteuid() == 0 {
		owner = atomicfile.Owner{UID: snapenv.DaemonUID, GID: snapenv.DaemonGID}
	}
	h := &configure.Hook{Env: env, Ctl: snapctl.Command{}, Cluster: configure.EtcdCluster{Owner: owner}, Owner: owner, Log: stderr}
	if _, err := h.Run(context.Background()); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
