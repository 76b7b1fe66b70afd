package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2/ktesting"

	"github.com/strata-dev/strata/kubelet/volumes"
)

// TestKubeletVolumesAsNode sets up a pod's volumes with the kubelet's
// volume manager and the credentials of the pod's node: the node
// authorizer and NodeRestriction must let it read the ConfigMaps, Secrets,
// claims and volumes its pods use and request their ServiceAccount tokens.
func TestKubeletVolumesAsNode(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	admin := c.kube
	ns := newNamespace(t)
	const node = "volumes-node"
	hostDir := t.TempDir()

	must := func(_ any, err error) {
		t.Helper()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	configMap := func(name string, kv ...string) *corev1.ConfigMap {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			cm.Data[kv[i]] = kv[i+1]
		}
		return cm
	}
	must(admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}))
	must(admin.CoreV1().ConfigMaps(ns).Create(ctx, configMap("kube-root-ca.crt", "ca.crt", "CA"), metav1.CreateOptions{}))
	must(admin.CoreV1().ConfigMaps(ns).Create(ctx, configMap("settings", "a", "1"), metav1.CreateOptions{}))
	must(admin.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"}, StringData: map[string]string{"pass": "hunter2"}}, metav1.CreateOptions{}))
	// The claim and the volume name each other; the binder completes the
	// binding (the volume's claimRef gets the claim's UID).
	pvName := "pv-" + ns
	_, err := admin.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			VolumeName:       pvName,
			StorageClassName: ptr(""),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must(admin.CoreV1().PersistentVolumes().Create(ctx, &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}},
			ClaimRef:               &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: ns, Name: "data"},
		},
	}, metav1.CreateOptions{}))
	waitPVC(t, ns, "data", corev1.ClaimBound)

	mount := func(name string) corev1.VolumeMount { return corev1.VolumeMount{Name: name, MountPath: "/" + name} }
	pod, err := admin.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{
			NodeName:           node,
			ServiceAccountName: "robot",
			Containers: []corev1.Container{{Name: "app", Image: "busybox", VolumeMounts: []corev1.VolumeMount{
				mount("cfg"), mount("creds"), mount("data"),
			}}},
			Volumes: []corev1.Volume{
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
				{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds"}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, v := range pod.Spec.Volumes {
		if v.Projected != nil {
			token = v.Name
		}
	}
	if token == "" {
		t.Fatalf("admission gave the pod no ServiceAccount token volume: %v", pod.Spec.Volumes)
	}

	nodeConfig, err := env.UserConfig("system:node:"+node, "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	podsDir := t.TempDir()
	m := volumes.New(volumes.Config{Client: kubernetes.NewForConfigOrDie(nodeConfig), PodsDir: podsDir, DisableTmpfs: true, ResyncInterval: 100 * time.Millisecond})
	// The node authorizer learns about the pod from an informer.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := m.SetUpVolumes(ctx, pod)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("setting the volumes up as the node: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	read := func(plugin, volume, file string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(volumes.VolumeDir(podsDir, pod.UID, plugin, volume), file))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if got := read(volumes.PluginConfigMap, "cfg", "a") + " " + read(volumes.PluginSecret, "creds", "pass"); got != "1 hunter2" {
		t.Errorf("configMap and secret = %q", got)
	}
	if got := read(volumes.PluginProjected, token, "token"); len(got) < 20 {
		t.Errorf("token = %q", got)
	}
	if got := read(volumes.PluginProjected, token, "namespace"); got != ns {
		t.Errorf("namespace = %q", got)
	}
	mounts, err := m.Mounts(ctx, pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := mounts[2].HostPath; got != hostDir {
		t.Errorf("claim mounted from %s, want %s", got, hostDir)
	}

	// Updates reach the node.
	must(admin.CoreV1().ConfigMaps(ns).Update(ctx, configMap("settings", "a", "2"), metav1.UpdateOptions{}))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go m.Run(runCtx)
	deadline = time.Now().Add(10 * time.Second)
	for read(volumes.PluginConfigMap, "cfg", "a") != "2" {
		if time.Now().After(deadline) {
			t.Fatal("the update never reached the node")
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := m.Cleanup(ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
}
