package allocator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Allocation is one recorded allocation.
type Allocation[V any] struct {
	Value V
	Owner Owner
	// Revision is the etcd modification revision of the record.
	Revision int64
}

// List returns every recorded allocation. Records that cannot be read are
// skipped and reported in the returned count.
func (a *Etcd[V]) List(ctx context.Context) ([]Allocation[V], int, error) {
	resp, err := a.client.Get(ctx, a.prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("listing allocated %ss: %w", a.r.Kind(), err)
	}
	out := make([]Allocation[V], 0, len(resp.Kvs))
	unreadable := 0
	for _, kv := range resp.Kvs {
		v, ok := a.r.Parse(strings.TrimPrefix(string(kv.Key), a.prefix))
		var owner Owner
		if !ok || json.Unmarshal(kv.Value, &owner) != nil {
			unreadable++
			continue
		}
		out = append(out, Allocation[V]{Value: v, Owner: owner, Revision: kv.ModRevision})
	}
	return out, unreadable, nil
}

// ReleaseUnchanged deletes the record of al if it was not modified since it
// was listed. It reports whether the record was deleted.
func (a *Etcd[V]) ReleaseUnchanged(ctx context.Context, al Allocation[V]) (bool, error) {
	key := a.prefix + a.r.Key(al.Value)
	resp, err := a.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", al.Revision)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return false, fmt.Errorf("releasing %s %s: %w", a.r.Kind(), a.r.Key(al.Value), err)
	}
	return resp.Succeeded, nil
}
