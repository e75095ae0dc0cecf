// Command configure is the snap's configure hook: snapd runs it on every
// snap set and after install. It validates every option before writing
// anything, then applies the change with the smallest effect on the
// running member (internal/configure).
package main

import (
	"os"

	"github.com/canonical/charmed-etcd-snap/internal/hookmain"
)

func main() {
	os.Exit(hookmain.Run(os.Stderr))
}
