package scenario

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/history"
)

// window is a leadership transfer as the old leader logged it: from the
// moment it stopped accepting proposals to the moment it knew the new
// leader.
type window struct {
	member     string
	start, end time.Time
}

// transfers reads every member's daemon log for leadership transfers.
func transfers(l *lab.Lab) []window {
	var out []window
	for _, m := range l.Members {
		f, err := os.Open(filepath.Join(m.Root, "var", "log", "snapsim", "charmed-etcd.etcd.log"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var open *window
		for sc.Scan() {
			var line struct {
				TS  time.Time `json:"ts"`
				Msg string    `json:"msg"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch {
			case strings.Contains(line.Msg, "starts to transfer leadership to"):
				open = &window{member: m.Name, start: line.TS, end: line.TS.Add(2 * time.Second)}
			case open != nil && strings.Contains(line.Msg, " elected leader "):
				open.end = line.TS
				out = append(out, *open)
				open = nil
			}
		}
		if open != nil {
			out = append(out, *open)
		}
		f.Close()
	}
	return out
}

// droppedAtTransfer reports whether a failed operation is a write that
// reached a leader while it handed its leadership over. Raft drops
// proposals during a transfer, and etcd tells the client only when its
// request times out (etcd-io/etcd#8975): no client setting avoids it.
func droppedAtTransfer(o history.Op, base time.Time, ws []window) bool {
	if o.Kind != history.Put || !o.Failed() {
		return false
	}
	if !strings.Contains(o.Err, "proposal dropped") && !strings.Contains(o.Err, "request timed out") {
		return false
	}
	start := base.Add(time.Duration(o.Start))
	for _, w := range ws {
		// A write sent before the transfer may still be on its way to the
		// leader when it starts (a follower forwards it; on two busy
		// cores that was seen to take over 100ms); one sent after the old
		// leader knows the new one is forwarded there.
		if !start.Before(w.start.Add(-time.Second)) && !start.After(w.end.Add(20*time.Millisecond)) {
			return true
		}
	}
	return false
}
