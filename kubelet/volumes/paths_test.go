package volumes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVolumeDir(t *testing.T) {
	tests := []struct {
		plugin, name, want string
	}{
		{PluginEmptyDir, "cache", "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/cache"},
		{PluginConfigMap, "cfg", "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~configmap/cfg"},
		{PluginSecret, "creds", "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~secret/creds"},
		{PluginDownwardAPI, "info", "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~downward-api/info"},
		{PluginProjected, "kube-api-access-x", "/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~projected/kube-api-access-x"},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, VolumeDir("/var/lib/kubelet/pods", "uid-1", tt.plugin, tt.name)); d != "" {
			t.Errorf("VolumeDir(%s, %s) (-want +got):\n%s", tt.plugin, tt.name, d)
		}
	}
}
