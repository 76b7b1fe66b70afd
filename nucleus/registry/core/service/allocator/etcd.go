package allocator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Etcd is an Interface recording allocations as etcd keys under a prefix.
type Etcd[V any] struct {
	client *clientv3.Client
	// prefix ends with a slash; the key of v is prefix+Range.Key(v).
	prefix string
	r      Range[V]
}

var _ Interface[int] = &Etcd[int]{}

// NewEtcd returns an allocator of the values of r whose allocations are the
// keys under prefix.
func NewEtcd[V any](client *clientv3.Client, prefix string, r Range[V]) *Etcd[V] {
	return &Etcd[V]{client: client, prefix: strings.TrimSuffix(prefix, "/") + "/", r: r}
}

// Allocate reserves v for owner.
func (a *Etcd[V]) Allocate(ctx context.Context, v V, owner Owner) error {
	if _, err := a.r.Offset(v); err != nil {
		return err
	}
	return a.claim(ctx, a.r.Key(v), owner)
}

// AllocateNext reserves a random free value for owner.
func (a *Etcd[V]) AllocateNext(ctx context.Context, owner Owner) (V, error) {
	return a.search(ctx, func(key string) (bool, error) {
		err := a.claim(ctx, key, owner)
		if errors.Is(err, ErrAllocated) {
			// Taken concurrently since the listing: try the next one.
			return false, nil
		}
		return err == nil, err
	})
}

// Release frees v if owner holds it.
func (a *Etcd[V]) Release(ctx context.Context, v V, owner Owner) error {
	key := a.r.Key(v)
	holder, rev, found, err := a.owner(ctx, key)
	if err != nil || !found || holder.UID != owner.UID {
		return err
	}
	// Delete only the version we looked at: if it changed, it is no
	// longer the allocation owner made.
	_, err = a.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(a.prefix+key), "=", rev)).
		Then(clientv3.OpDelete(a.prefix + key)).
		Commit()
	if err != nil {
		return fmt.Errorf("releasing %s %s: %w", a.r.Kind(), key, err)
	}
	return nil
}

// Has reports whether v is allocated.
func (a *Etcd[V]) Has(ctx context.Context, v V) (bool, error) {
	_, _, found, err := a.owner(ctx, a.r.Key(v))
	return found, err
}

// DryRun returns a view of the allocator that checks requests like a but
// never writes: Allocate and AllocateNext reserve nothing, Release does
// nothing.
func (a *Etcd[V]) DryRun() Interface[V] { return dryRun[V]{a} }

// claim creates the key of a value for owner unless it exists; a key that
// already names owner counts as claimed.
func (a *Etcd[V]) claim(ctx context.Context, key string, owner Owner) error {
	value, err := json.Marshal(owner)
	if err != nil {
		return fmt.Errorf("encoding owner of %s %s: %w", a.r.Kind(), key, err)
	}
	full := a.prefix + key
	resp, err := a.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(full), "=", 0)).
		Then(clientv3.OpPut(full, string(value))).
		Else(clientv3.OpGet(full)).
		Commit()
	if err != nil {
		return fmt.Errorf("allocating %s %s: %w", a.r.Kind(), key, err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) == 1 {
		var holder Owner
		if json.Unmarshal(kvs[0].Value, &holder) == nil && holder.UID == owner.UID {
			return nil
		}
	}
	return allocatedError{kind: a.r.Kind()}
}

// owner reads who holds a key and the key's modification revision.
func (a *Etcd[V]) owner(ctx context.Context, key string) (Owner, int64, bool, error) {
	resp, err := a.client.Get(ctx, a.prefix+key)
	if err != nil {
		return Owner{}, 0, false, fmt.Errorf("reading allocation of %s %s: %w", a.r.Kind(), key, err)
	}
	if len(resp.Kvs) == 0 {
		return Owner{}, 0, false, nil
	}
	var holder Owner
	if err := json.Unmarshal(resp.Kvs[0].Value, &holder); err != nil {
		return Owner{}, 0, false, fmt.Errorf("decoding owner of %s %s: %w", a.r.Kind(), key, err)
	}
	return holder, resp.Kvs[0].ModRevision, true, nil
}

// search offers the free values to try in random order, the dynamic part of
// the range first and its static part last, until try takes one.
func (a *Etcd[V]) search(ctx context.Context, try func(key string) (bool, error)) (V, error) {
	var none V
	taken, err := a.takenKeys(ctx)
	if err != nil {
		return none, err
	}
	size, static := a.r.Size(), a.r.Static()
	for _, band := range [][2]uint64{{static, size}, {0, static}} {
		lo, n := band[0], band[1]-band[0]
		if n == 0 {
			continue
		}
		start := rand.Uint64N(n)
		for i := uint64(0); i < n; i++ {
			v := a.r.At(lo + (start+i)%n)
			key := a.r.Key(v)
			if taken[key] {
				continue
			}
			ok, err := try(key)
			if err != nil {
				return none, err
			}
			if ok {
				return v, nil
			}
		}
	}
	return none, ErrFull
}

// takenKeys lists the allocated keys, without the prefix.
func (a *Etcd[V]) takenKeys(ctx context.Context) (map[string]bool, error) {
	resp, err := a.client.Get(ctx, a.prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("listing allocated %ss: %w", a.r.Kind(), err)
	}
	taken := make(map[string]bool, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		taken[strings.TrimPrefix(string(kv.Key), a.prefix)] = true
	}
	return taken, nil
}

// dryRun checks allocations without making them.
type dryRun[V any] struct{ a *Etcd[V] }

func (d dryRun[V]) Allocate(ctx context.Context, v V, owner Owner) error {
	if _, err := d.a.r.Offset(v); err != nil {
		return err
	}
	holder, _, found, err := d.a.owner(ctx, d.a.r.Key(v))
	if err != nil {
		return err
	}
	if found && holder.UID != owner.UID {
		return allocatedError{kind: d.a.r.Kind()}
	}
	return nil
}

func (d dryRun[V]) AllocateNext(ctx context.Context, _ Owner) (V, error) {
	return d.a.search(ctx, func(string) (bool, error) { return true, nil })
}

func (d dryRun[V]) Release(context.Context, V, Owner) error { return nil }

func (d dryRun[V]) Has(ctx context.Context, v V) (bool, error) { return d.a.Has(ctx, v) }
