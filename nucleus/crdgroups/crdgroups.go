// Package crdgroups lists the API groups of custom resources in the core
// server's /apis discovery document.
//
// The apiextensions server answers /apis/<group> and aggregated discovery for
// custom resources, but the legacy /apis group list belongs to the outermost
// server of the delegation chain (upstream's aggregator fills it). This
// controller keeps that list in step with the established CRDs.
package crdgroups

import (
	"context"
	"sort"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsinformers "k8s.io/apiextensions-apiserver/pkg/client/informers/externalversions/apiextensions/v1"
	apiextensionslisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Controller mirrors CRD groups into a discovery.GroupManager.
type Controller struct {
	lister  apiextensionslisters.CustomResourceDefinitionLister
	synced  cache.InformerSynced
	groups  discovery.GroupManager
	queue   workqueue.TypedRateLimitingInterface[string]
	current sets.Set[string]
}

// NewController returns a controller publishing the groups of the CRDs in
// informer to groups.
func NewController(informer apiextensionsinformers.CustomResourceDefinitionInformer, groups discovery.GroupManager) *Controller {
	c := &Controller{
		lister:  informer.Lister(),
		synced:  informer.Informer().HasSynced,
		groups:  groups,
		queue:   workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](), workqueue.TypedRateLimitingQueueConfig[string]{Name: "crd_groups"}),
		current: sets.New[string](),
	}
	enqueue := func(interface{}) { c.queue.Add("sync") }
	_, _ = informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	return c
}

// Run syncs until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return
	}
	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		if err := c.sync(); err != nil {
			klog.FromContext(ctx).Error(err, "Syncing CRD discovery groups")
			c.queue.AddRateLimited(key)
		} else {
			c.queue.Forget(key)
		}
		c.queue.Done(key)
	}
}

func (c *Controller) sync() error {
	crds, err := c.lister.List(labels.Everything())
	if err != nil {
		return err
	}
	groups := Groups(crds)
	for name, g := range groups {
		c.groups.AddGroup(g)
		c.current.Insert(name)
	}
	for name := range c.current {
		if _, ok := groups[name]; !ok {
			c.groups.RemoveGroup(name)
			c.current.Delete(name)
		}
	}
	return nil
}

// Groups computes the discovery entry of every group served by an
// established CRD: its served versions, most preferred first.
func Groups(crds []*apiextensionsv1.CustomResourceDefinition) map[string]metav1.APIGroup {
	versions := map[string]sets.Set[string]{}
	for _, crd := range crds {
		if !apiextensionshelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			if versions[crd.Spec.Group] == nil {
				versions[crd.Spec.Group] = sets.New[string]()
			}
			versions[crd.Spec.Group].Insert(v.Name)
		}
	}
	out := map[string]metav1.APIGroup{}
	for group, vs := range versions {
		list := sets.List(vs)
		sort.Slice(list, func(i, j int) bool { return version.CompareKubeAwareVersionStrings(list[i], list[j]) > 0 })
		g := metav1.APIGroup{Name: group}
		for _, v := range list {
			g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: group + "/" + v, Version: v})
		}
		g.PreferredVersion = g.Versions[0]
		out[group] = g
	}
	return out
}
