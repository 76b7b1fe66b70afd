package scheduler

import (
	"math/rand/v2"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/strata-dev/strata/scheduler/framework"
)

// cache is the scheduler's in-memory view of the cluster: every node with
// the pods bound to it, plus the pods the scheduler assumed on a node while
// their binding is in flight, so the next pod sees their resources.
type cache struct {
	mu sync.RWMutex
	// nodes by name; a NodeInfo may have no Node yet (pods seen first).
	nodes map[string]*framework.NodeInfo
	// order lists the names of the nodes that exist, for round-robin
	// sampling.
	order []string
	// podNode maps a pod's UID to the node the cache accounts it on.
	podNode map[types.UID]string
	// assumed holds the pods placed by the scheduler and not yet seen bound.
	assumed map[types.UID]bool
	// nextStart rotates where the search for feasible nodes begins.
	nextStart int
	rand      *rand.Rand
}

func newCache() *cache {
	return &cache{
		nodes:   map[string]*framework.NodeInfo{},
		podNode: map[types.UID]string{},
		assumed: map[types.UID]bool{},
		rand:    rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
}

func (c *cache) nodeInfo(name string) *framework.NodeInfo {
	ni, ok := c.nodes[name]
	if !ok {
		ni = framework.NewNodeInfo(nil)
		c.nodes[name] = ni
	}
	return ni
}

func (c *cache) setNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni := c.nodeInfo(node.Name)
	if ni.Node == nil {
		c.order = append(c.order, node.Name)
	}
	ni.SetNode(node)
}

func (c *cache) removeNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ni, ok := c.nodes[name]
	if !ok {
		return
	}
	for i, n := range c.order {
		if n == name {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	if len(ni.Pods) == 0 {
		delete(c.nodes, name)
	} else {
		ni.Node = nil
	}
}

// setPod accounts a bound pod (confirming it if it was assumed); terminal
// pods free their resources.
func (c *cache) setPod(pod *corev1.Pod) {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		c.removePod(pod.UID)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removePodLocked(pod.UID)
	c.nodeInfo(pod.Spec.NodeName).AddPod(framework.NewPodInfo(pod))
	c.podNode[pod.UID] = pod.Spec.NodeName
}

func (c *cache) removePod(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removePodLocked(uid)
}

func (c *cache) removePodLocked(uid types.UID) {
	delete(c.assumed, uid)
	name, ok := c.podNode[uid]
	if !ok {
		return
	}
	delete(c.podNode, uid)
	if ni, ok := c.nodes[name]; ok {
		ni.RemovePod(uid)
		if ni.Node == nil && len(ni.Pods) == 0 {
			delete(c.nodes, name)
		}
	}
}

// assume places pi on node before the binding is written.
func (c *cache) assume(pi *framework.PodInfo, node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removePodLocked(pi.Pod.UID)
	c.nodeInfo(node).AddPod(pi)
	c.podNode[pi.Pod.UID] = node
	c.assumed[pi.Pod.UID] = true
}

// forget undoes assume after a failed binding.
func (c *cache) forget(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.assumed[uid] {
		c.removePodLocked(uid)
	}
}

func (c *cache) isAssumed(uid types.UID) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.assumed[uid]
}

// result is the outcome of one scheduling cycle.
type result struct {
	node string
	// numNodes and statuses explain a failure.
	numNodes int
	statuses []*framework.Status
}

// numFeasibleNodesToFind is upstream's adaptive sample size: large
// clusters stop searching once enough feasible nodes are found.
func numFeasibleNodesToFind(numAll int) int {
	const minFeasible = 100
	if numAll < minFeasible {
		return numAll
	}
	percentage := max(50-numAll/125, 5)
	return max(numAll*percentage/100, minFeasible)
}

// schedule finds the best node for pi: filter (sampling in large
// clusters), score, pick the highest with ties broken at random.
func (c *cache) schedule(pi *framework.PodInfo) result {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.order)
	res := result{numNodes: n}
	if n == 0 {
		return res
	}
	all := make([]*framework.NodeInfo, n)
	for i, name := range c.order {
		all[i] = c.nodes[name]
	}
	pf := framework.NewPreFilter(pi, all)
	want := numFeasibleNodesToFind(n)
	feasible := make([]*framework.NodeInfo, 0, min(want, 64))
	start := c.nextStart % n
	visited := 0
	for ; visited < n && len(feasible) < want; visited++ {
		ni := all[(start+visited)%n]
		if s := framework.RunFilters(pf, pi, ni); !s.IsSuccess() {
			res.statuses = append(res.statuses, s)
			continue
		}
		feasible = append(feasible, ni)
	}
	c.nextStart = (start + visited) % n
	if len(feasible) == 0 {
		return res
	}
	if len(feasible) == 1 {
		res.node = feasible[0].Name()
		return res
	}
	scores := framework.ScoreNodes(pi, feasible)
	if extra := framework.InterPodScores(pi, all, feasible); extra != nil {
		for i := range scores {
			scores[i] += extra[i]
		}
	}
	best, ties := 0, 1
	for i := 1; i < len(scores); i++ {
		switch {
		case scores[i] > scores[best]:
			best, ties = i, 1
		case scores[i] == scores[best]:
			ties++
			if c.rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	res.node = feasible[best].Name()
	return res
}
