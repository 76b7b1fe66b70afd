package static

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// Annotations of static pods and their mirror pods, as upstream's.
const (
	// ConfigSourceAnnotation says where the kubelet got the pod ("file").
	ConfigSourceAnnotation = "kubernetes.io/config.source"
	// ConfigHashAnnotation is the static pod's hash, which is its UID.
	ConfigHashAnnotation = "kubernetes.io/config.hash"
	// ConfigSeenAnnotation is when the kubelet first saw the static pod.
	ConfigSeenAnnotation = "kubernetes.io/config.seen"
	// ConfigMirrorAnnotation marks a mirror pod with its static pod's hash.
	ConfigMirrorAnnotation = corev1.MirrorPodAnnotationKey

	// FileSource is the source of static pods read from files.
	FileSource = "file"

	// maxManifestLength bounds a manifest file.
	maxManifestLength = 10 << 20
)

// Manifest is a static pod read from a manifest file, or why it could not
// be.
type Manifest struct {
	Path string
	Pod  *corev1.Pod
	Err  error
}

// ReadManifests reads the pod manifests of dir, in name order: regular
// files not starting with a dot, each one Pod in YAML or JSON. A dir that
// does not exist has none. A manifest that cannot be read carries its
// error; of two manifests defining the same pod, the second does.
func ReadManifests(dir, nodeName string) ([]Manifest, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the static pod manifests of %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var manifests []Manifest
	seen := map[string]string{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := os.Stat(path) // follows symlinks
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		m := Manifest{Path: path}
		if info.Size() > maxManifestLength {
			m.Err = fmt.Errorf("%s: manifest is longer than %d bytes", path, maxManifestLength)
		} else if data, err := os.ReadFile(path); err != nil {
			m.Err = err
		} else {
			m.Pod, m.Err = StaticPod(data, path, nodeName)
		}
		if m.Pod != nil {
			key := m.Pod.Namespace + "/" + m.Pod.Name
			if first, dup := seen[key]; dup {
				m.Pod, m.Err = nil, fmt.Errorf("%s: pod %s is already defined by %s", path, key, first)
			} else {
				seen[key] = path
			}
		}
		manifests = append(manifests, m)
	}
	return manifests, nil
}

// StaticPod reads a manifest into the static pod it defines on nodeName,
// as upstream's file source: named <name>-<nodeName>, in the default
// namespace unless it names one, bound to the node, tolerating every
// NoExecute taint, with a UID that hashes its content, the node and the
// file (also its kubernetes.io/config.hash annotation) and the source
// annotation "file".
//
// Unlike upstream, a uid in the manifest is not used: the hash must change
// when the manifest does, for the mirror pod, which is how Strata runs the
// static pod, to follow.
func StaticPod(data []byte, path, nodeName string) (*corev1.Pod, error) {
	var pod corev1.Pod
	if err := yaml.Unmarshal(data, &pod); err != nil {
		return nil, fmt.Errorf("%s: couldn't parse as pod(%w), please check config file", path, err)
	}
	if pod.APIVersion != "v1" || pod.Kind != "Pod" {
		return nil, fmt.Errorf("%s: invalid pod: apiVersion %q, kind %q: want v1 Pod", path, pod.APIVersion, pod.Kind)
	}
	if pod.Name == "" {
		return nil, fmt.Errorf("%s: invalid pod: metadata.name: Required value", path)
	}
	hash, err := podHash(&pod, path, nodeName)
	if err != nil {
		return nil, err
	}
	pod.ObjectMeta = metav1.ObjectMeta{
		Name:        pod.Name + "-" + strings.ToLower(nodeName),
		Namespace:   pod.Namespace,
		UID:         types.UID(hash),
		Labels:      pod.Labels,
		Annotations: pod.Annotations,
	}
	if pod.Namespace == "" {
		pod.Namespace = metav1.NamespaceDefault
	}
	pod.Spec.NodeName = nodeName
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[ConfigHashAnnotation] = hash
	pod.Annotations[ConfigSourceAnnotation] = FileSource
	addToleration(&pod.Spec, corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	return &pod, nil
}

// podHash hashes the pod as read, then the node and the file, as upstream
// (FNV-128a, hex).
func podHash(pod *corev1.Pod, path, nodeName string) (string, error) {
	data, err := json.Marshal(pod)
	if err != nil {
		return "", err
	}
	h := fnv.New128a()
	h.Write(data)
	fmt.Fprintf(h, "host:%s", nodeName)
	fmt.Fprintf(h, "file:%s", path)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// addToleration adds t, replacing a toleration of the same key, operator,
// value and effect.
func addToleration(spec *corev1.PodSpec, t corev1.Toleration) {
	for i := range spec.Tolerations {
		if spec.Tolerations[i].MatchToleration(&t) {
			spec.Tolerations[i] = t
			return
		}
	}
	spec.Tolerations = append(spec.Tolerations, t)
}
