package membership

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startEtcd runs a one-member etcd in this process on loopback.
func startEtcd(t *testing.T) (string, string) {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = "m1"
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "error"
	cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = "m1=" + pu.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		t.Fatal("etcd not ready")
	}
	return cu.String(), pu.String()
}

func TestUpdatePeerURLAndMoveLeader(t *testing.T) {
	client, peer := startEtcd(t)
	cli, err := Connect(Endpoint{URL: client})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()

	changed, err := UpdatePeerURL(ctx, cli, "m1", peer)
	if err != nil || changed {
		t.Fatalf("same URL: changed=%v err=%v", changed, err)
	}
	https := "https" + peer[len("http"):]
	if changed, err = UpdatePeerURL(ctx, cli, "m1", https); err != nil || !changed {
		t.Fatalf("new URL: changed=%v err=%v", changed, err)
	}
	list, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Until the member serves the new URL (its daemon then records it
	// alone), peers may reach it through either: new first, old second.
	if got := list.Members[0].PeerURLs; len(got) != 2 || got[0] != https || got[1] != peer {
		t.Fatalf("peer URLs %v, want [%s %s]", got, https, peer)
	}
	if _, err := UpdatePeerURL(ctx, cli, "nobody", https); err == nil {
		t.Fatal("an unknown member was updated")
	}
	if _, err := MoveLeaderAway(ctx, cli, client); !errors.Is(err, ErrNoOtherMember) {
		t.Fatalf("a lone leader: got %v", err)
	}
}

func TestNoQuorumFailsFast(t *testing.T) {
	cli, err := Connect(Endpoint{URL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	start := time.Now()
	if _, err := UpdatePeerURL(context.Background(), cli, "m1", "https://127.0.0.1:1"); err == nil {
		t.Fatal("no cluster, yet no error")
	}
	if d := time.Since(start); d > Timeout+2*time.Second {
		t.Fatalf("took %s, more than the %s bound", d, Timeout)
	}
}
