package etcdconf

import (
	"strings"
	"testing"
)

func TestCheckStrict(t *testing.T) {
	tests := []struct {
		name, conf, wantErr string
	}{
		{"etcd keys", "name: m1\nheartbeat-interval: 100\nlisten-client-urls: http://127.0.0.1:2379\ncors: '*'\n", ""},
		{"security keys", "peer-transport-security:\n  cert-file: /a\n  key-file: /b\n  trusted-ca-file: /c\n  client-cert-auth: true\n  allowed-cn: [x]\n", ""},
		{"flag name at top", "peer-cert-file: /a\n", "peer-cert-file"},
		{"flag name in security", "peer-transport-security:\n  peer-cert-file: /a\n", "peer-transport-security.peer-cert-file"},
		{"wrong case", "Name: m1\n", "Name"},
		{"go field name", "ClientTLSInfo: {}\n", "ClientTLSInfo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckStrict([]byte(tc.conf))
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
}
