// Command etcd is the snap's daemon (charmed-etcd.etcd): etcd embedded from
// upstream's server module, configured by $SNAP_DATA/etcd.conf.yml.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/canonical/charmed-etcd-snap/internal/daemon"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

func main() {
	env, err := snapenv.FromOS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := daemon.Run(ctx, snapenv.PathsOf(env), os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
