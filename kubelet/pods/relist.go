package pods

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"

	"k8s.io/apimachinery/pkg/types"

	"github.com/strata-dev/strata/kubelet/cri"
)

// relister notices which pods' sandboxes or containers changed state, by
// listing the runtime (as upstream's generic PLEG does), so that their
// workers sync them at once rather than at their next resync.
type relister struct {
	runtime cri.RuntimeService
	last    map[types.UID]uint64
	names   map[types.UID]podName
}

// podName is a pod's namespace and name, as its runtime labels say.
type podName struct{ namespace, name string }

func newRelister(runtime cri.RuntimeService) *relister {
	return &relister{runtime: runtime}
}

// relist returns the pods whose sandboxes or containers changed since the
// last call (none on the first).
func (r *relister) relist(ctx context.Context) ([]types.UID, error) {
	sandboxes, err := r.runtime.ListPodSandbox(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	containers, err := r.runtime.ListContainers(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	states := map[types.UID][]string{}
	names := map[types.UID]podName{}
	for _, s := range sandboxes {
		uid := types.UID(s.GetLabels()[PodUIDLabel])
		states[uid] = append(states[uid], "sandbox "+s.GetId()+" "+s.GetState().String())
		names[uid] = podName{namespace: s.GetLabels()[PodNamespaceLabel], name: s.GetLabels()[PodNameLabel]}
	}
	for _, c := range containers {
		uid := types.UID(c.GetLabels()[PodUIDLabel])
		states[uid] = append(states[uid], "container "+c.GetId()+" "+c.GetState().String())
		names[uid] = podName{namespace: c.GetLabels()[PodNamespaceLabel], name: c.GetLabels()[PodNameLabel]}
	}
	delete(names, "")
	r.names = names
	current := make(map[types.UID]uint64, len(states))
	for uid, list := range states {
		if uid == "" {
			continue
		}
		sort.Strings(list)
		h := fnv.New64a()
		for _, s := range list {
			_, _ = h.Write([]byte(s))
			_, _ = h.Write([]byte{0})
		}
		current[uid] = h.Sum64()
	}

	var changed []types.UID
	if r.last != nil {
		for uid, sum := range current {
			if r.last[uid] != sum {
				changed = append(changed, uid)
			}
		}
		for uid := range r.last {
			if _, ok := current[uid]; !ok {
				changed = append(changed, uid)
			}
		}
	}
	r.last = current
	sort.Slice(changed, func(i, j int) bool { return changed[i] < changed[j] })
	return changed, nil
}

// pods are the pods the last relist found in the runtime.
func (r *relister) pods() map[types.UID]podName {
	return r.names
}
