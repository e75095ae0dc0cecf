package cis

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// WriteText prints the report for people: one line per item, its
// evidence indented below, then a summary.
func (r *Report) WriteText(w io.Writer) error {
	mode := i18n.G("live member and files")
	if r.Offline {
		mode = i18n.G("files only (offline)")
	}
	fmt.Fprintf(w, i18n.G("CIS Kubernetes Benchmark, etcd items 2.1-2.7, file permissions and profiling: %s\nconfiguration: %s\n\n"), mode, r.Config)
	for _, it := range r.Items {
		verdict := "PASS"
		if !it.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "[%s] %-13s %s\n", verdict, it.ID, it.Title)
		for _, e := range it.Evidence {
			fmt.Fprintf(w, "         %s\n", e)
		}
	}
	_, err := fmt.Fprintf(w, i18n.G("\n%d passed, %d failed\n"), len(r.Items)-r.Failed(), r.Failed())
	return err
}

// WriteJSON prints the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
