package history

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func put(w int, key, v string, s, e int64, err string) Op {
	return Op{Worker: w, Kind: Put, Key: key, Value: v, Start: s, End: e, Err: err}
}

func get(w int, key, v string, s, e int64) Op {
	return Op{Worker: w, Kind: Get, Key: key, Value: v, Found: v != "", Start: s, End: e}
}

func TestCheckLinearizable(t *testing.T) {
	tests := []struct {
		name string
		ops  []Op
		want porcupine.CheckResult
	}{{
		name: "sequential",
		ops:  []Op{get(0, "a", "", 0, 1), put(0, "a", "1", 2, 3, ""), get(1, "a", "1", 4, 5)},
		want: porcupine.Ok,
	}, {
		name: "concurrent read may see either value",
		ops:  []Op{put(0, "a", "1", 0, 10, ""), get(1, "a", "", 1, 2), get(2, "a", "1", 3, 4)},
		want: porcupine.Ok,
	}, {
		name: "stale read after an acknowledged write",
		ops:  []Op{put(0, "a", "1", 0, 1, ""), put(0, "a", "2", 2, 3, ""), get(1, "a", "1", 4, 5)},
		want: porcupine.Illegal,
	}, {
		name: "read back to nothing",
		ops:  []Op{put(0, "a", "1", 0, 1, ""), get(1, "a", "", 2, 3)},
		want: porcupine.Illegal,
	}, {
		name: "failed put may take effect later",
		ops:  []Op{put(0, "a", "1", 0, 1, "timeout"), get(1, "a", "", 2, 3), get(1, "a", "1", 4, 5)},
		want: porcupine.Ok,
	}, {
		name: "failed put may never take effect",
		ops:  []Op{put(0, "a", "1", 0, 1, "timeout"), get(1, "a", "", 2, 3)},
		want: porcupine.Ok,
	}, {
		name: "keys are independent",
		ops:  []Op{put(0, "a", "1", 0, 1, ""), get(1, "b", "", 2, 3), get(1, "a", "1", 4, 5)},
		want: porcupine.Ok,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckLinearizable(tt.ops, 10*time.Second); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	ms := int64(time.Millisecond)
	r := &Report{
		Ops: []Op{
			put(0, "a", "1", 0, 10*ms, ""),
			put(1, "a", "2", 5*ms, 20*ms, "unavailable"),
			put(0, "a", "3", 11*ms, 510*ms, ""),
			get(1, "a", "3", 600*ms, 610*ms),
		},
		Logged: []string{"3"},
		Samples: []Sample{
			{At: 0, Leader: "m1", Term: 2}, {At: 100 * ms, Leader: "", Term: 2},
			{At: 400 * ms, Leader: "m2", Term: 3}, {At: 500 * ms, Leader: "m3", Term: 4},
		},
	}
	s := Summarize(r, 10*time.Second)
	want := "scenario=x ops=4 failed=1 lost=1 linearizable=true max_write_gap_ms=500 leader_changes=2"
	if got := s.Line("x"); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if from, to := WriteGap(append(r.Ops, put(2, "b", "4", 520*ms, 9000*ms, "timeout"))); from != 10*ms || to != 510*ms {
		t.Fatalf("gap from %v to %v: a write in flight at the end stretched it", from, to)
	}
	if s.NoLeader != 300*time.Millisecond {
		t.Fatalf("no-leader time %v, want 300ms", s.NoLeader)
	}
	r.FinalErr = "cannot read"
	if lost := LostWrites(r); len(lost) != 2 {
		t.Fatalf("with no final read, %d writes lost, want every acknowledged one (2)", len(lost))
	}
}
