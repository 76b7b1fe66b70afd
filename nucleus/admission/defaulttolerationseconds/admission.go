// Package defaulttolerationseconds is the DefaultTolerationSeconds admission
// plugin: pods that do not tolerate the not-ready and unreachable NoExecute
// taints get tolerations for them of 300 seconds, so they are evicted five
// minutes after their node fails, as upstream.
package defaulttolerationseconds

import (
	"context"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/utils/ptr"
)

// PluginName is the plugin's name in the chain.
const PluginName = "DefaultTolerationSeconds"

// DefaultSeconds is how long pods tolerate a failed node.
const DefaultSeconds int64 = 300

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		return New(), nil
	})
}

// Plugin is the DefaultTolerationSeconds admission plugin.
type Plugin struct {
	*admission.Handler
}

var _ admission.MutationInterface = &Plugin{}

// New returns the plugin.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create)}
}

// Admit adds the missing tolerations to pods being created.
func (p *Plugin) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != (schema.GroupResource{Resource: "pods"}) || a.GetSubresource() != "" {
		return nil
	}
	pod, ok := a.GetObject().(*corev1.Pod)
	if !ok {
		return nil
	}
	pod.Spec.Tolerations = AddDefaults(pod.Spec.Tolerations)
	return nil
}

// AddDefaults returns tolerations with the not-ready and unreachable
// NoExecute tolerations added unless already tolerated.
func AddDefaults(tolerations []corev1.Toleration) []corev1.Toleration {
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if tolerates(tolerations, key) {
			continue
		}
		tolerations = append(tolerations, corev1.Toleration{
			Key:               key,
			Operator:          corev1.TolerationOpExists,
			Effect:            corev1.TaintEffectNoExecute,
			TolerationSeconds: ptr.To(DefaultSeconds),
		})
	}
	return tolerations
}

// tolerates reports whether a toleration covers key's NoExecute taint: an
// empty key or effect matches everything.
func tolerates(tolerations []corev1.Toleration, key string) bool {
	for _, t := range tolerations {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}
