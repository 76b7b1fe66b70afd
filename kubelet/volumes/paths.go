package volumes

import (
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// The volume plugins, named as upstream's: a volume set up in the pod's
// directory lives in <PodsDir>/<uid>/volumes/<plugin with "/" escaped as
// "~">/<volume>, e.g. kubernetes.io~empty-dir/cache.
const (
	PluginEmptyDir    = "kubernetes.io/empty-dir"
	PluginConfigMap   = "kubernetes.io/configmap"
	PluginSecret      = "kubernetes.io/secret"
	PluginDownwardAPI = "kubernetes.io/downward-api"
	PluginProjected   = "kubernetes.io/projected"
	PluginHostPath    = "kubernetes.io/host-path"
	PluginLocal       = "kubernetes.io/local-volume"
)

// EscapePluginName turns a plugin's name into a directory name, as upstream
// does: "kubernetes.io/empty-dir" is "kubernetes.io~empty-dir".
func EscapePluginName(plugin string) string {
	return strings.ReplaceAll(plugin, "/", "~")
}

// PodVolumesDir holds the volumes of the pod with uid.
func PodVolumesDir(podsDir string, uid types.UID) string {
	return filepath.Join(podsDir, string(uid), "volumes")
}

// VolumeDir is where a volume of the pod with uid is set up.
func VolumeDir(podsDir string, uid types.UID, plugin, name string) string {
	return filepath.Join(PodVolumesDir(podsDir, uid), EscapePluginName(plugin), name)
}
