package options

import (
	"fmt"

	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// applyAdmission sets the admission chain of c.
func (o *Options) applyAdmission(c *genericapiserver.RecommendedConfig, client kubernetes.Interface, dynamicClient dynamic.Interface) error {
	admission := genericoptions.NewAdmissionOptions()
	if err := admission.ApplyTo(&c.Config, c.SharedInformerFactory, client, dynamicClient, utilfeature.DefaultFeatureGate, c.EffectiveVersion); err != nil {
		return fmt.Errorf("configuring admission: %w", err)
	}
	return nil
}
