package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestLayout(t *testing.T) {
	src := t.TempDir()
	osv := filepath.Join(src, "data", "osv")
	if err := os.MkdirAll(osv, 0o755); err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{
		"GO-2026-0001": `{"id":"GO-2026-0001","modified":"2026-05-01T00:00:00Z","affected":[{"package":{"name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.9"},{"introduced":"1.27.0-0"},{"fixed":"1.27.2"}]}]}]}`,
		"GO-2026-0002": `{"id":"GO-2026-0002","modified":"2026-06-01T00:00:00Z","affected":[{"package":{"name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"1.3.0"}]}]},{"package":{"name":"stdlib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.10"}]}]}]}`,
	}
	for id, body := range entries {
		if err := os.WriteFile(filepath.Join(osv, id+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "db")
	if err := run("", src, out); err != nil {
		t.Fatal(err)
	}
	var db struct{ Modified string }
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if db.Modified != "2026-06-01T00:00:00Z" {
		t.Errorf("db.json modified %q, want the newest entry's", db.Modified)
	}
	var mods []moduleMeta
	readJSON(t, filepath.Join(out, "index", "modules.json"), &mods)
	want := map[string]map[string]string{
		"example.com/m": {"GO-2026-0002": ""}, // introduced again after the fix
		"stdlib":        {"GO-2026-0001": "1.27.2", "GO-2026-0002": "1.26.10"},
	}
	if len(mods) != len(want) {
		t.Fatalf("modules.json has %d modules, want %d", len(mods), len(want))
	}
	for _, m := range mods {
		for _, v := range m.Vulns {
			if fixed, ok := want[m.Path][v.ID]; !ok || fixed != v.Fixed {
				t.Errorf("%s %s fixed %q, want %q (listed: %v)", m.Path, v.ID, v.Fixed, fixed, ok)
			}
		}
	}
	for id := range entries {
		if _, err := os.Stat(filepath.Join(out, "ID", id+".json")); err != nil {
			t.Errorf("entry %s not under ID/: %v", id, err)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
