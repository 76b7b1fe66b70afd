package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// operations are the request kinds measured, in report order.
var operations = []string{"create", "get", "list", "watch"}

// cell is one measured combination of kind, operation and concurrent clients.
type cell struct {
	kind    string
	op      string
	clients int
	sample
}

// kindResult is what the requests phase measured for one kind.
type kindResult struct {
	kind string
	// notServed is set if the nucleus answered 404 for the resource.
	notServed bool
	cells     []cell
	// encodedSize is the protobuf size of one stored object, in bytes.
	encodedSize int
}

// benchRequests runs a nucleus on a fresh dataDir and measures, for each
// kind, create, get, list and watch delivery at each concurrency.
func benchRequests(ctx context.Context, c *config, dataDir string) ([]kindResult, error) {
	n, err := startNucleus(ctx, c.bin, dataDir)
	if err != nil {
		return nil, err
	}
	defer n.stop()
	if _, err := n.waitReady(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	clients, err := newClients(n.kubeconfig(), slices.Max(c.concurrency))
	if err != nil {
		return nil, err
	}
	var results []kindResult
	for _, k := range []kind{configMaps, pods} {
		r, err := benchKind(ctx, c, clients, k)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; nucleus log:\n%s", k.name, err, n.logTail())
		}
		results = append(results, r)
	}
	return results, nil
}

// benchKind measures every operation on k at every concurrency.
func benchKind(ctx context.Context, c *config, clients []kubernetes.Interface, k kind) (kindResult, error) {
	r := kindResult{kind: k.name}
	served, err := k.served(ctx, clients[0])
	if err != nil {
		return r, err
	}
	if !served {
		progressf("%s: not served (404), skipped", k.name)
		r.notServed = true
		return r, nil
	}

	// get and list read a namespace holding listSize objects.
	prefix := "bench-" + strings.ToLower(k.name)
	listNS := prefix + "-list"
	if err := createNamespace(ctx, clients[0], listNS); err != nil {
		return r, err
	}
	fill := measure(ctx, createWorkers(k, clients[:min(10, len(clients))], listNS, itemName), 0, c.listSize, time.Hour)
	if fill.failures() > 0 {
		return r, fmt.Errorf("filling %s: %v", listNS, fill.errors)
	}
	obj, err := k.get(ctx, clients[0], listNS, itemName(0))
	if err != nil {
		return r, err
	}
	if r.encodedSize, err = encodedSize(obj); err != nil {
		return r, err
	}

	for _, op := range operations {
		for _, conc := range c.concurrency {
			cl := clients[:conc]
			if err := warm(ctx, cl); err != nil {
				return r, err
			}
			workers, done, err := cellWorkers(ctx, op, k, cl, prefix, listNS, c.listSize)
			if err != nil {
				return r, fmt.Errorf("preparing %s with %d clients: %w", op, conc, err)
			}
			s := measure(ctx, workers, 0, c.ops, c.cellLimit)
			done()
			if err := ctx.Err(); err != nil {
				return r, err
			}
			progressf("%-20s %s", fmt.Sprintf("%s %s ×%d", k.name, op, conc), s.summary())
			r.cells = append(r.cells, cell{kind: k.name, op: op, clients: conc, sample: s})
		}
	}
	return r, nil
}

// itemName names the objects get and list read.
func itemName(i int) string { return fmt.Sprintf("item-%04d", i) }

// cellWorkers prepares one worker per client for op, and a function to call
// once the cell is measured.
func cellWorkers(ctx context.Context, op string, k kind, clients []kubernetes.Interface, prefix, listNS string, listSize int) ([]worker, func(), error) {
	workers := make([]worker, len(clients))
	done := func() {}
	switch op {
	case "create":
		ns := fmt.Sprintf("%s-create-%d", prefix, len(clients))
		if err := createNamespace(ctx, clients[0], ns); err != nil {
			return nil, nil, err
		}
		workers = createWorkers(k, clients, ns, func(seq int) string { return fmt.Sprintf("obj-%06d", seq) })
	case "get":
		for i, c := range clients {
			workers[i] = func(ctx context.Context, seq int) (time.Duration, error) {
				return timed(func() error {
					_, err := k.get(ctx, c, listNS, itemName(seq%listSize))
					return err
				})
			}
		}
	case "list":
		for i, c := range clients {
			workers[i] = func(ctx context.Context, seq int) (time.Duration, error) {
				return timed(func() error {
					n, err := k.list(ctx, c, listNS)
					// The cluster adds objects of its own to every
					// namespace (the kube-root-ca.crt ConfigMap).
					if err == nil && (n < listSize || n > listSize+1) {
						err = fmt.Errorf("listed %d objects, want %d (or one more, the namespace's kube-root-ca.crt)", n, listSize)
					}
					return err
				})
			}
		}
	case "watch":
		ns := prefix + "-watch"
		if err := createNamespace(ctx, clients[0], ns); err != nil {
			return nil, nil, err
		}
		var watches []watch.Interface
		done = func() {
			for _, w := range watches {
				w.Stop()
			}
		}
		for i, c := range clients {
			id := fmt.Sprintf("c%d-w%d", len(clients), i)
			w, err := k.watch(ctx, c, ns, watcherLabel+"="+id)
			if err != nil {
				done()
				return nil, nil, err
			}
			watches = append(watches, w)
			workers[i] = watchWorker(k, c, w, ns, id)
		}
	default:
		return nil, nil, fmt.Errorf("unknown operation %q", op)
	}
	return workers, done, nil
}

// createWorkers create objects of kind k in ns, named by name(seq).
func createWorkers(k kind, clients []kubernetes.Interface, ns string, name func(int) string) []worker {
	workers := make([]worker, len(clients))
	for i, c := range clients {
		workers[i] = func(ctx context.Context, seq int) (time.Duration, error) {
			return timed(func() error { return k.create(ctx, c, ns, name(seq), nil) })
		}
	}
	return workers
}

// watcherLabel tells which watcher an object is for.
const watcherLabel = "bench-watcher"

// watchWorker creates an object labelled for the watch w and returns the time
// from the create returning to w delivering its ADDED event; an event that
// came before the create returned counts as (nearly) zero.
func watchWorker(k kind, c kubernetes.Interface, w watch.Interface, ns, id string) worker {
	labels := map[string]string{watcherLabel: id}
	return func(ctx context.Context, seq int) (time.Duration, error) {
		name := fmt.Sprintf("%s-%06d", id, seq)
		if err := k.create(ctx, c, ns, name, labels); err != nil {
			return 0, err
		}
		created := time.Now()
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					return 0, fmt.Errorf("watch closed")
				}
				if ev.Type == watch.Error {
					return 0, apierrors.FromObject(ev.Object)
				}
				if m, err := meta.Accessor(ev.Object); ev.Type == watch.Added && err == nil && m.GetName() == name {
					return time.Since(created), nil
				}
			case <-ctx.Done():
				return 0, fmt.Errorf("no ADDED event for %s: %w", name, ctx.Err())
			}
		}
	}
}
