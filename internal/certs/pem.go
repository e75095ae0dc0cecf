// Package certs parses and checks the certificates and keys given through
// snap options, before anything is written: a wrong certificate that reaches
// etcd fails hours later, on a peer's handshake, with a vague timeout.
//
// Errors never quote PEM bodies or key material; they name subjects, SANs,
// dates and fingerprints.
package certs

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// Normalize turns PEM text as it arrives through `snap set` into what the
// pem package reads: "$(cat cert.pem)" loses the final newline, Windows
// editors add CR, YAML and shell quoting add indentation and blank lines, and
// some tools escape newlines as a literal \n. A base64 encoding of the whole
// PEM (as Juju secrets and some charms pass it) is decoded too.
func Normalize(text string) []byte {
	// Windows editors also start a UTF-8 file with a byte order mark.
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "\ufeff"))
	if !strings.Contains(s, "-----BEGIN") {
		if dec, ok := decodeBase64PEM(s); ok {
			s = strings.TrimSpace(strings.TrimPrefix(dec, "\ufeff"))
		}
	}
	if !strings.Contains(s, "\n") && strings.Contains(s, `\n`) {
		s = strings.ReplaceAll(s, `\r\n`, "\n")
		s = strings.ReplaceAll(s, `\n`, "\n")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b bytes.Buffer
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func decodeBase64PEM(s string) (string, bool) {
	compact := strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if dec, err := enc.DecodeString(compact); err == nil && bytes.Contains(dec, []byte("-----BEGIN")) {
			return string(dec), true
		}
	}
	return "", false
}

// blocks splits normalized PEM into its blocks. Anything that is not a
// complete block (a PEM cut before its END line, stray text between blocks)
// is an error: pem.Decode alone would silently skip it and read the first
// block only.
func blocks(data []byte) ([]*pem.Block, error) {
	var out []*pem.Block
	rest := data
	for len(bytes.TrimSpace(rest)) > 0 {
		trimmed := bytes.TrimSpace(rest)
		if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
			if len(out) == 0 {
				return nil, errors.New(i18n.G("does not start with a PEM block"))
			}
			return nil, errors.New(i18n.G("has text after its last PEM block"))
		}
		b, r := pem.Decode(trimmed)
		// pem.Decode skips a damaged block and returns the next good one:
		// a block cut before its END line, followed by another block,
		// would be silently dropped. The block returned must be the one
		// that starts here.
		if b == nil || bytes.Count(trimmed[:len(trimmed)-len(r)], []byte("-----BEGIN ")) != 1 {
			return nil, errors.New(i18n.G("holds a PEM block that is cut short or damaged (no matching END line, or a body that is not base64)"))
		}
		out = append(out, b)
		rest = r
	}
	return out, nil
}

// Fingerprint is the form a private key option takes once the key is stored:
// "sha256:" and the hex digest of its canonical PEM.
func Fingerprint(canonicalPEM []byte) string {
	sum := sha256.Sum256(canonicalPEM)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// IsFingerprint reports whether an option value has the form Fingerprint returns.
func IsFingerprint(v string) bool {
	h, ok := strings.CutPrefix(v, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

func describeBlock(t string) string {
	if strings.Contains(t, "PRIVATE KEY") {
		return "a PRIVATE KEY"
	}
	return fmt.Sprintf("a %s", t)
}
