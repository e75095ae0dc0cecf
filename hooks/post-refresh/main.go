// Command post-refresh is the snap's post-refresh hook: it (re)writes the configuration from
// the snap's options, exactly as the configure hook does, so that a fresh
// install or a new revision starts from a rendered, validated state.
package main

import (
	"os"

	"github.com/canonical/charmed-etcd-snap/internal/hookmain"
)

func main() {
	os.Exit(hookmain.Run(os.Stderr))
}
