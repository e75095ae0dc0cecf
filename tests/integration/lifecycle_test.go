package integration

import (
	"context"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/scenario"
)

// TestLifecycle runs every live TLS lifecycle scenario (peer TLS on,
// client TLS on, leaf renewal, CA rotation of each surface, TLS off) on a
// fresh 3-member lab under load: the same bodies as make lifecycle.
func TestLifecycle(t *testing.T) {
	opts := options(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(scenario.All())+1)*scenario.Limit)
	defer cancel()
	bin, err := scenario.BuildChecker(ctx, opts.Repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenario.All() {
		t.Run(sc.Name, func(t *testing.T) {
			o := scenario.Run(ctx, scenario.Options{Lab: options(t), Checker: bin}, sc)
			t.Log(o.Line())
			if err := o.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
