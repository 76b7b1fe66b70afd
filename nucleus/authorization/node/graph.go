package node

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// podsByNode is the name of the pod informer index by spec.nodeName.
const podsByNode = "strata.io/node-authorizer-spec.nodeName"

// InformerGraph is a Graph read from shared informers.
type InformerGraph struct {
	pods   cache.Indexer
	claims corelisters.PersistentVolumeClaimLister
}

// NewInformerGraph indexes f's pods by node. Call it before f is started.
func NewInformerGraph(f informers.SharedInformerFactory) (*InformerGraph, error) {
	pods := f.Core().V1().Pods().Informer()
	err := pods.AddIndexers(cache.Indexers{podsByNode: func(obj interface{}) ([]string, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Spec.NodeName == "" {
			return nil, nil
		}
		return []string{pod.Spec.NodeName}, nil
	}})
	if err != nil {
		return nil, fmt.Errorf("indexing pods by node: %w", err)
	}
	return &InformerGraph{pods: pods.GetIndexer(), claims: f.Core().V1().PersistentVolumeClaims().Lister()}, nil
}

// PodsOnNode returns the pods bound to node.
func (g *InformerGraph) PodsOnNode(node string) []*corev1.Pod {
	objs, err := g.pods.ByIndex(podsByNode, node)
	if err != nil {
		return nil
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	return pods
}

// ClaimVolume returns the volume a claim is bound to.
func (g *InformerGraph) ClaimVolume(namespace, claim string) string {
	pvc, err := g.claims.PersistentVolumeClaims(namespace).Get(claim)
	if err != nil {
		return ""
	}
	return pvc.Spec.VolumeName
}

func sortedList(s sets.Set[string]) []string { return sets.List(s) }

func dedupe(names []string) []string {
	out := sets.List(sets.New(names...))
	sort.Strings(out)
	return out
}
