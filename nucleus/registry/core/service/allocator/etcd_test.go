package allocator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/types"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/nucleus/etcd"
)

// etcdURL is the client URL of the member shared by the package's tests.
var etcdURL string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "allocator-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := etcd.Start(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting etcd:", err)
		os.Exit(1)
	}
	etcdURL = e.ClientURL
	code := m.Run()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newClient returns a client of the shared etcd and a key prefix unique to
// the test.
func newClient(t *testing.T) (*clientv3.Client, string) {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, "/test/" + t.Name() + "/"
}

func owner(name string) Owner {
	return Owner{Namespace: "default", Name: name, UID: types.UID("uid-" + name)}
}

func ipAllocator(t *testing.T, cidr string) *Etcd[net.IP] {
	t.Helper()
	c, prefix := newClient(t)
	r, err := NewIPRange(mustCIDR(t, cidr))
	if err != nil {
		t.Fatal(err)
	}
	return NewEtcd[net.IP](c, prefix, r)
}

func TestAllocateSpecific(t *testing.T) {
	ctx := context.Background()
	a := ipAllocator(t, "10.96.0.0/12")
	ip := netutils.ParseIPSloppy("10.96.0.10")

	if err := a.Allocate(ctx, ip, owner("a")); err != nil {
		t.Fatalf("first Allocate: %v", err)
	}
	if err := a.Allocate(ctx, ip, owner("a")); err != nil {
		t.Errorf("Allocate by the same owner: %v, want success", err)
	}
	err := a.Allocate(ctx, ip, owner("b"))
	if !errors.Is(err, ErrAllocated) || err.Error() != "provided IP is already allocated" {
		t.Errorf("Allocate by another owner: %v, want ErrAllocated", err)
	}
	var notInRange *NotInRangeError
	if err := a.Allocate(ctx, netutils.ParseIPSloppy("10.200.0.1"), owner("b")); !errors.As(err, &notInRange) {
		t.Errorf("Allocate out of range: %v, want NotInRangeError", err)
	}

	// Only the owner can release.
	if err := a.Release(ctx, ip, owner("b")); err != nil {
		t.Fatal(err)
	}
	if has, err := a.Has(ctx, ip); err != nil || !has {
		t.Errorf("Has after a foreign Release = %v, %v; want true", has, err)
	}
	if err := a.Release(ctx, ip, owner("a")); err != nil {
		t.Fatal(err)
	}
	if has, err := a.Has(ctx, ip); err != nil || has {
		t.Errorf("Has after Release = %v, %v; want false", has, err)
	}
	if err := a.Allocate(ctx, ip, owner("b")); err != nil {
		t.Errorf("Allocate after Release: %v", err)
	}
}

func TestAllocateNextUntilFull(t *testing.T) {
	ctx := context.Background()
	a := ipAllocator(t, "192.168.0.0/29") // 6 usable addresses
	var got []string
	for i := 0; i < 6; i++ {
		ip, err := a.AllocateNext(ctx, owner(fmt.Sprint(i)))
		if err != nil {
			t.Fatalf("AllocateNext #%d: %v", i, err)
		}
		got = append(got, ip.String())
	}
	sort.Strings(got)
	want := []string{"192.168.0.1", "192.168.0.2", "192.168.0.3", "192.168.0.4", "192.168.0.5", "192.168.0.6"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allocated addresses (-want +got):\n%s", diff)
	}
	if _, err := a.AllocateNext(ctx, owner("extra")); !errors.Is(err, ErrFull) {
		t.Errorf("AllocateNext on a full range: %v, want ErrFull", err)
	}
}

func TestAllocateNextPrefersDynamicBand(t *testing.T) {
	ctx := context.Background()
	c, prefix := newClient(t)
	pr, _ := utilnet.ParsePortRange("30000-30099") // static band 30000-30015
	r, err := NewPortRange(*pr)
	if err != nil {
		t.Fatal(err)
	}
	a := NewEtcd[int](c, prefix, r)
	for i := 0; i < 84; i++ {
		p, err := a.AllocateNext(ctx, owner(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if p < 30016 {
			t.Fatalf("allocation #%d got port %d from the static band while the dynamic band had room", i, p)
		}
	}
	p, err := a.AllocateNext(ctx, owner("overflow"))
	if err != nil || p >= 30016 {
		t.Errorf("AllocateNext with a full dynamic band = %d, %v; want a port below 30016", p, err)
	}
}

func TestDryRunDoesNotWrite(t *testing.T) {
	ctx := context.Background()
	a := ipAllocator(t, "10.0.0.0/24")
	taken := netutils.ParseIPSloppy("10.0.0.5")
	if err := a.Allocate(ctx, taken, owner("a")); err != nil {
		t.Fatal(err)
	}
	d := a.DryRun()
	if err := d.Allocate(ctx, taken, owner("b")); !errors.Is(err, ErrAllocated) {
		t.Errorf("dry-run Allocate of a taken IP: %v, want ErrAllocated", err)
	}
	free := netutils.ParseIPSloppy("10.0.0.6")
	if err := d.Allocate(ctx, free, owner("b")); err != nil {
		t.Errorf("dry-run Allocate of a free IP: %v", err)
	}
	next, err := d.AllocateNext(ctx, owner("b"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []net.IP{free, next} {
		if has, err := a.Has(ctx, ip); err != nil || has {
			t.Errorf("Has(%s) after dry run = %v, %v; want false", ip, has, err)
		}
	}
	if err := d.Release(ctx, taken, owner("a")); err != nil {
		t.Fatal(err)
	}
	if has, _ := a.Has(ctx, taken); !has {
		t.Error("dry-run Release freed the IP")
	}
}

func TestListAndReleaseUnchanged(t *testing.T) {
	ctx := context.Background()
	a := ipAllocator(t, "10.0.0.0/24")
	ip := netutils.ParseIPSloppy("10.0.0.7")
	if err := a.Allocate(ctx, ip, owner("a")); err != nil {
		t.Fatal(err)
	}
	list, unreadable, err := a.List(ctx)
	if err != nil || unreadable != 0 || len(list) != 1 {
		t.Fatalf("List = %v, %d, %v; want one allocation", list, unreadable, err)
	}
	if diff := cmp.Diff([]string{ip.String(), "default/a (uid-a)"}, []string{list[0].Value.String(), list[0].Owner.String()}); diff != "" {
		t.Errorf("listed allocation (-want +got):\n%s", diff)
	}

	// Re-created since the listing: must survive.
	if err := a.Release(ctx, ip, owner("a")); err != nil {
		t.Fatal(err)
	}
	if err := a.Allocate(ctx, ip, owner("b")); err != nil {
		t.Fatal(err)
	}
	if deleted, err := a.ReleaseUnchanged(ctx, list[0]); err != nil || deleted {
		t.Errorf("ReleaseUnchanged of a re-created record = %v, %v; want false", deleted, err)
	}
	list, _, _ = a.List(ctx)
	if deleted, err := a.ReleaseUnchanged(ctx, list[0]); err != nil || !deleted {
		t.Errorf("ReleaseUnchanged of an unchanged record = %v, %v; want true", deleted, err)
	}
	if has, _ := a.Has(ctx, ip); has {
		t.Error("record still present after ReleaseUnchanged")
	}
}

// TestConcurrentAllocateNext runs many allocators, as several API servers
// would, against a tiny range: every address is handed out exactly once.
func TestConcurrentAllocateNext(t *testing.T) {
	ctx := context.Background()
	first := ipAllocator(t, "10.1.0.0/28") // 14 usable addresses
	replicas := []*Etcd[net.IP]{first}
	for i := 0; i < 2; i++ {
		c, _ := newClient(t)
		replicas = append(replicas, NewEtcd[net.IP](c, first.prefix, first.r))
	}

	const workers = 40
	var (
		mu    sync.Mutex
		got   = map[string]string{}
		full  int
		wg    sync.WaitGroup
		fails []error
	)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o := owner(fmt.Sprint("svc-", i))
			ip, err := replicas[i%len(replicas)].AllocateNext(ctx, o)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrFull):
				full++
			case err != nil:
				fails = append(fails, err)
			default:
				if prev, dup := got[ip.String()]; dup {
					fails = append(fails, fmt.Errorf("%s handed to both %s and %s", ip, prev, o.Name))
				}
				got[ip.String()] = o.Name
			}
		}(i)
	}
	wg.Wait()
	if len(fails) > 0 {
		t.Fatalf("errors: %v", fails)
	}
	if len(got) != 14 || full != workers-14 {
		t.Errorf("allocated %d addresses with %d ErrFull, want 14 and %d", len(got), full, workers-14)
	}
	list, _, err := first.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, al := range list {
		if got[al.Value.String()] != al.Owner.Name {
			t.Errorf("record of %s names %s, but it was handed to %q", al.Value, al.Owner.Name, got[al.Value.String()])
		}
	}
}
