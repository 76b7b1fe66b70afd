package quota

import (
	"time"

	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	quota "k8s.io/apiserver/pkg/quota/v1"
)

// Initializer hands the quota configuration to admission plugins that want
// it (the ResourceQuota plugin).
type Initializer struct {
	Configuration quota.Configuration
}

var _ admission.PluginInitializer = Initializer{}

// Initialize sets the configuration on plugins that want it.
func (i Initializer) Initialize(plugin admission.Interface) {
	if wants, ok := plugin.(initializer.WantsQuotaConfiguration); ok {
		wants.SetQuotaConfiguration(i.Configuration)
	}
}

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }
