package i18n_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
)

// writeMO writes a GNU gettext catalog (the .mo format msgfmt produces,
// little-endian, without a hash table) holding msgs and the header entry.
func writeMO(t *testing.T, path string, msgs map[string]string) {
	t.Helper()
	all := map[string]string{"": "Content-Type: text/plain; charset=UTF-8\n"}
	for k, v := range msgs {
		all[k] = v
	}
	ids := make([]string, 0, len(all))
	for k := range all {
		ids = append(ids, k)
	}
	sort.Strings(ids) // readers binary-search the original strings
	const headerSize = 7 * 4
	n := uint32(len(ids))
	origTab := uint32(headerSize)
	transTab := origTab + 8*n
	data := transTab + 8*n
	var tables, strs bytes.Buffer
	le := binary.LittleEndian
	var trans bytes.Buffer
	for _, id := range ids {
		_ = binary.Write(&tables, le, [2]uint32{uint32(len(id)), data + uint32(strs.Len())})
		strs.WriteString(id + "\x00")
	}
	for _, id := range ids {
		_ = binary.Write(&trans, le, [2]uint32{uint32(len(all[id])), data + uint32(strs.Len())})
		strs.WriteString(all[id] + "\x00")
	}
	var mo bytes.Buffer
	// magic, revision, N, original table, translation table, hash size, hash offset
	_ = binary.Write(&mo, le, [7]uint32{0x950412de, 0, n, origTab, transTab, 0, data})
	mo.Write(tables.Bytes())
	mo.Write(trans.Bytes())
	mo.Write(strs.Bytes())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, mo.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBindTranslatesSettingsMessages(t *testing.T) {
	dir := t.TempDir()
	writeMO(t, filepath.Join(dir, "fr", "LC_MESSAGES", i18n.TextDomain+".mo"), map[string]string{
		"cannot use %s: %v":               "impossible d'utiliser %s : %v",
		"expected a whole number, got %s": "un nombre entier était attendu, %s reçu",
	})
	empty := t.TempDir()
	t.Cleanup(func() { i18n.Bind(empty, "") })

	tests := []struct {
		name   string
		locale string
		want   string
	}{
		{"fr_FR.UTF-8 falls back to fr", "fr_FR.UTF-8", `impossible d'utiliser client-port : un nombre entier était attendu, "abc" reçu`},
		{"fr", "fr", `impossible d'utiliser client-port : un nombre entier était attendu, "abc" reçu`},
		{"fr_FR@euro", "fr_FR@euro", `impossible d'utiliser client-port : un nombre entier était attendu, "abc" reçu`},
		{"a locale without a catalog", "de_DE.UTF-8", `cannot use client-port: expected a whole number, got "abc"`},
		{"C", "C", `cannot use client-port: expected a whole number, got "abc"`},
		{"no locale", "", `cannot use client-port: expected a whole number, got "abc"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i18n.Bind(dir, tc.locale)
			_, err := settings.Load(map[string]any{"client-port": "abc"})
			if err == nil {
				t.Fatalf("client-port=abc accepted")
			}
			if err.Error() != tc.want {
				t.Errorf("got %q, want %q", err, tc.want)
			}
		})
	}

	i18n.Bind(empty, "")
	if got := i18n.G("cannot use %s: %v"); got != "cannot use %s: %v" {
		t.Errorf("after Bind to an empty directory, G returns %q", got)
	}
}

func TestGWithoutCatalog(t *testing.T) {
	i18n.Bind(t.TempDir(), "fr_FR.UTF-8")
	t.Cleanup(func() { i18n.Bind(t.TempDir(), "") })
	for _, msg := range []string{"", "cannot use %s: %v", "plain text"} {
		if got := i18n.G(msg); got != msg {
			t.Errorf("G(%q) = %q", msg, got)
		}
	}
	if strings.Contains(i18n.TextDomain, "/") {
		t.Errorf("text domain %q is not a file name", i18n.TextDomain)
	}
}
