// Package health decides what the snap reports with snapctl set-health:
// okay, or error naming the first certificate that has expired or expires
// within a week, and its date. The message and code follow snapd's rules
// (overlord/hookstate/ctlcmd/health.go) so that snapctl never refuses them.
package health

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/canonical/charmed-etcd-snap/internal/certs"
	"github.com/canonical/charmed-etcd-snap/internal/i18n"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// Statuses the snap reports. snapd also knows "waiting" and "blocked"; see
// Evaluate for why they are not used.
const (
	Okay  = "okay"
	Error = "error"
)

// Codes name the problem for tools (snapd: 3 to 30 characters matching
// [a-z](-?[a-z0-9])+).
const (
	CodeExpired  = "certificate-expired"
	CodeExpiring = "certificate-expiring"
)

// snapd's limits on a message: at least 7 characters; beyond 70 it is cut
// to 69 and an ellipsis. The snap cuts first, keeping the date.
const (
	MinMessage = 7
	MaxMessage = 70
)

var validCode = regexp.MustCompile(`^[a-z](?:-?[a-z0-9])+$`).MatchString

// Status is one snapctl set-health call.
type Status struct {
	Status  string
	Message string
	Code    string
}

// Source is PEM text holding certificates, under the option name people
// set it with (tls.peer.cert, tls.client.ca...).
type Source struct {
	Option string
	PEM    []byte
}

const dateLayout = "2006-01-02 15:04 MST"

// Evaluate is okay unless a certificate of sources has expired or expires
// within certs.ExpiryWarning of now: then error, naming the option, the
// certificate's common name and its end date. An expired certificate is
// reported before one that is only expiring; among equals, the one that
// ends first.
//
// "waiting" is never reported: the configure hook refuses partial TLS, so
// no half-configured state is ever stored, and a peer URL scheme change is
// recorded in the cluster (or refused) before the hook succeeds. A hook
// that fails cannot report either, since snapd keeps set-health only when
// the hook succeeds.
func Evaluate(now time.Time, sources []Source) Status {
	type finding struct {
		option string
		cert   *x509.Certificate
	}
	var found []finding
	for _, s := range sources {
		for _, c := range parse(s.PEM) {
			if c.NotAfter.Sub(now) < certs.ExpiryWarning {
				found = append(found, finding{s.Option, c})
			}
		}
	}
	if len(found) == 0 {
		return Status{Status: Okay}
	}
	sort.SliceStable(found, func(i, j int) bool {
		ei, ej := !now.Before(found[i].cert.NotAfter), !now.Before(found[j].cert.NotAfter)
		if ei != ej {
			return ei
		}
		return found[i].cert.NotAfter.Before(found[j].cert.NotAfter)
	})
	f := found[0]
	format, code := i18n.G("%s (CN %s) expires %s"), CodeExpiring
	if !now.Before(f.cert.NotAfter) {
		format, code = i18n.G("%s (CN %s) expired %s"), CodeExpired
	}
	return Status{Status: Error, Code: code, Message: message(format, f.option, f.cert)}
}

// message fills format ("<option> (CN <name>) expires <date>") with the
// common name shortened so that the whole fits snapd's 70 characters.
func message(format, option string, c *x509.Certificate) string {
	date := c.NotAfter.UTC().Format(dateLayout)
	cn := c.Subject.CommonName
	if cn == "" {
		cn = "serial " + c.SerialNumber.Text(16)
	}
	msg := fmt.Sprintf(format, option, cn, date)
	for utf8.RuneCountInString(msg) > MaxMessage && cn != "" {
		r := []rune(cn)
		cn = string(r[:len(r)-1])
		msg = fmt.Sprintf(format, option, cn+"…", date)
	}
	if utf8.RuneCountInString(msg) > MaxMessage {
		msg = string([]rune(msg)[:MaxMessage])
	}
	return msg
}

func parse(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// FromSettings lists the certificates validated settings put in use.
func FromSettings(s *settings.Settings) []Source {
	var out []Source
	for _, m := range []struct {
		surface string
		mat     *settings.Material
	}{{"peer", s.Peer()}, {"client", s.Client()}} {
		if m.mat == nil {
			continue
		}
		out = append(out, Source{"tls." + m.surface + ".cert", m.mat.CertPEM})
		if len(m.mat.CAPEM) > 0 {
			out = append(out, Source{"tls." + m.surface + ".ca", m.mat.CAPEM})
		}
	}
	return out
}

// FromDir lists the certificates stored in the snap's TLS directory, for a
// check that runs between hooks (certificates age without any hook
// running).
func FromDir(tlsDir string) []Source {
	var out []Source
	for _, f := range []struct{ option, name string }{
		{"tls.peer.cert", snapenv.PeerCert}, {"tls.peer.ca", snapenv.PeerCA},
		{"tls.client.cert", snapenv.ClientCert}, {"tls.client.ca", snapenv.ClientCA},
	} {
		if b, err := os.ReadFile(filepath.Join(tlsDir, f.name)); err == nil {
			out = append(out, Source{f.option, b})
		}
	}
	return out
}

// Valid reports whether snapctl set-health accepts st as it is, without
// cutting the message: the rules of snapd's ctlcmd/health.go.
func Valid(st Status) error {
	switch st.Status {
	case Okay:
		if st.Message != "" || st.Code != "" {
			return fmt.Errorf(`when status is "okay", message and code must be empty`)
		}
		return nil
	case "waiting", "blocked", Error:
	default:
		return fmt.Errorf("invalid status %q", st.Status)
	}
	if st.Code != "" && (len(st.Code) < 3 || len(st.Code) > 30 || !validCode(st.Code)) {
		return fmt.Errorf("invalid code %q", st.Code)
	}
	n := utf8.RuneCountInString(st.Message)
	if n < MinMessage {
		return fmt.Errorf("message must be at least %d characters long (got %d)", MinMessage, n)
	}
	if n > MaxMessage {
		return fmt.Errorf("message has %d characters; snapd would cut it at %d", n, MaxMessage)
	}
	return nil
}
