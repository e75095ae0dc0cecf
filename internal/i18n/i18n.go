// Package i18n translates the messages the snap shows to people, the way
// snapd does with i18n.G, so that an operator reading a refused `snap set`
// can get it in their language.
package i18n

import (
	"os"
	"strings"
	"sync"

	"github.com/snapcore/go-gettext"
)

// TextDomain is the gettext domain of the snap's messages.
const TextDomain = "charmed-etcd"

var (
	mu      sync.RWMutex
	catalog gettext.Catalog
)

func init() {
	// Catalogs live in the snap itself: $SNAP/usr/share/locale, as snapcraft
	// lays out a gettext part. Outside a snap there is none and G is the
	// identity.
	dir := "/usr/share/locale"
	if snap := os.Getenv("SNAP"); snap != "" {
		dir = snap + "/usr/share/locale"
	}
	Bind(dir, localeFromEnv())
}

// Bind loads the catalog of locale from dir (dir/LOCALE/LC_MESSAGES/charmed-etcd.mo).
// Tests use it to load a small catalog.
func Bind(dir, locale string) {
	t := &gettext.TextDomain{Name: TextDomain, LocaleDir: dir}
	mu.Lock()
	defer mu.Unlock()
	catalog = t.Locale(simplify(locale))
}

// G returns the translation of msgid, or msgid itself when there is none.
func G(msgid string) string {
	mu.RLock()
	defer mu.RUnlock()
	return catalog.Gettext(msgid)
}

func localeFromEnv() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			return l
		}
	}
	return ""
}

// simplify turns de_DE.UTF-8 or de_DE@euro into de_DE, as gettext's lookup expects.
func simplify(loc string) string {
	loc, _, _ = strings.Cut(loc, "@")
	loc, _, _ = strings.Cut(loc, ".")
	return loc
}
