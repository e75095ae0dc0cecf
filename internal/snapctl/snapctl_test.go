package snapctl

import (
	"encoding/json"
	"testing"
)

func TestParseServiceActive(t *testing.T) {
	out := []byte("Service            Startup   Current   Notes\ncharmed-etcd.etcd  enabled   active    -\ncharmed-etcd_m2.etcd  disabled  inactive  -\n")
	for _, tc := range []struct {
		service string
		want    bool
	}{{"charmed-etcd.etcd", true}, {"charmed-etcd_m2.etcd", false}, {"other.etcd", false}} {
		if got := ParseServiceActive(out, tc.service); got != tc.want {
			t.Errorf("%s: got %v", tc.service, got)
		}
	}
}

func TestDecodeDocumentKeepsBigNumbers(t *testing.T) {
	doc, err := DecodeDocument([]byte(`{"etcd":{"quota-backend-bytes":9007199254740993}}`))
	if err != nil {
		t.Fatal(err)
	}
	n := doc["etcd"].(map[string]any)["quota-backend-bytes"].(json.Number)
	if n.String() != "9007199254740993" {
		t.Fatalf("got %s", n)
	}
}
