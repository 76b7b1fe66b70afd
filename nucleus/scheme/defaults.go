package scheme

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/strata-dev/strata/nucleus/defaults"
)

// registerDefaults wires the pure defaulting functions of package defaults
// into the scheme; the codecs apply them to every decoded object.
func registerDefaults(s *runtime.Scheme) {
	add := func(obj runtime.Object, fn func(runtime.Object)) {
		s.AddTypeDefaultingFunc(obj, func(o interface{}) { fn(o.(runtime.Object)) })
	}
	add(&corev1.Pod{}, func(o runtime.Object) { defaults.Pod(o.(*corev1.Pod)) })
	add(&corev1.PodList{}, func(o runtime.Object) {
		for i := range o.(*corev1.PodList).Items {
			defaults.Pod(&o.(*corev1.PodList).Items[i])
		}
	})
	add(&corev1.PodTemplate{}, func(o runtime.Object) { defaults.PodTemplateSpec(&o.(*corev1.PodTemplate).Template) })
	add(&corev1.Service{}, func(o runtime.Object) { defaults.Service(o.(*corev1.Service)) })
	add(&corev1.Namespace{}, func(o runtime.Object) { defaults.Namespace(o.(*corev1.Namespace)) })
	add(&corev1.Secret{}, func(o runtime.Object) { defaults.Secret(o.(*corev1.Secret)) })
	add(&corev1.Endpoints{}, func(o runtime.Object) { defaults.Endpoints(o.(*corev1.Endpoints)) })
	add(&corev1.PersistentVolume{}, func(o runtime.Object) { defaults.PersistentVolume(o.(*corev1.PersistentVolume)) })
	add(&corev1.PersistentVolumeClaim{}, func(o runtime.Object) { defaults.PersistentVolumeClaim(o.(*corev1.PersistentVolumeClaim)) })
	add(&corev1.Node{}, func(o runtime.Object) { defaults.Node(o.(*corev1.Node)) })
	add(&corev1.ConfigMap{}, func(runtime.Object) {})
	add(&corev1.LimitRange{}, func(o runtime.Object) { defaults.LimitRange(o.(*corev1.LimitRange)) })
	add(&discoveryv1.EndpointSlice{}, func(o runtime.Object) { defaults.EndpointSlice(o.(*discoveryv1.EndpointSlice)) })
	add(&admissionregistrationv1.ValidatingWebhookConfiguration{}, func(o runtime.Object) {
		defaults.ValidatingWebhookConfiguration(o.(*admissionregistrationv1.ValidatingWebhookConfiguration))
	})
	add(&admissionregistrationv1.MutatingWebhookConfiguration{}, func(o runtime.Object) {
		defaults.MutatingWebhookConfiguration(o.(*admissionregistrationv1.MutatingWebhookConfiguration))
	})
	add(&admissionregistrationv1.ValidatingAdmissionPolicy{}, func(o runtime.Object) {
		defaults.ValidatingAdmissionPolicy(o.(*admissionregistrationv1.ValidatingAdmissionPolicy))
	})
	add(&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}, func(o runtime.Object) {
		defaults.ValidatingAdmissionPolicyBinding(o.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding))
	})
	add(&admissionregistrationv1.MutatingAdmissionPolicy{}, func(o runtime.Object) {
		defaults.MutatingAdmissionPolicy(o.(*admissionregistrationv1.MutatingAdmissionPolicy))
	})
	add(&admissionregistrationv1.MutatingAdmissionPolicyBinding{}, func(o runtime.Object) {
		defaults.MutatingAdmissionPolicyBinding(o.(*admissionregistrationv1.MutatingAdmissionPolicyBinding))
	})
}
