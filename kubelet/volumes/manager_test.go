package volumes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

func TestManagerEmptyDirAndHostPath(t *testing.T) {
	e := newTestEnv(t)
	hostDir := filepath.Join(t.TempDir(), "made", "by", "kubelet")
	pod := makePod("web").
		Volume("cache", emptyDirVolume(), "/cache").
		Volume("host", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir, Type: ptr.To(corev1.HostPathDirectoryOrCreate)}}, "").
		Mount(corev1.VolumeMount{Name: "host", MountPath: "/host", ReadOnly: true, MountPropagation: ptr.To(corev1.MountPropagationHostToContainer)}).
		Volume("unused", emptyDirVolume(), "").
		Obj()

	mounts, err := e.m.Mounts(e.ctx, pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(e.podsDir, "uid-web", "volumes", "kubernetes.io~empty-dir", "cache")
	if d := cmp.Diff([]*runtimeapi.Mount{
		{ContainerPath: "/cache", HostPath: cache, SelinuxRelabel: true},
		{ContainerPath: "/host", HostPath: hostDir, Readonly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
	}, mounts, protocmp.Transform()); d != "" {
		t.Errorf("mounts (-want +got):\n%s", d)
	}
	if info, err := os.Stat(cache); err != nil || info.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir: %v, %v; want a directory with mode 0777", info, err)
	}
	if info, err := os.Stat(hostDir); err != nil || !info.IsDir() {
		t.Errorf("hostPath DirectoryOrCreate: %v, %v", info, err)
	}
	if hasEntry(filepath.Dir(cache), "unused") {
		t.Error("a volume no container mounts was set up")
	}

	// What the containers wrote stays when the volumes are set up again (a
	// restarted kubelet).
	if err := os.WriteFile(filepath.Join(cache, "data"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := New(e.m.cfg)
	if _, err := again.Mounts(e.ctx, pod, &pod.Spec.Containers[0]); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(cache, "data")); err != nil || string(data) != "kept" {
		t.Errorf("emptyDir content after set-up again: %q, %v", data, err)
	}
}

func TestManagerHostPathTypeError(t *testing.T) {
	e := newTestEnv(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pod := makePod("web").Volume("host", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: file, Type: ptr.To(corev1.HostPathDirectory)}}, "/host").Obj()
	err := e.m.SetUpVolumes(e.ctx, pod)
	if d := cmp.Diff(`MountVolume.SetUp failed for volume "host" : hostPath type check failed: `+file+` is not a directory`, errString(err)); d != "" {
		t.Errorf("error (-want +got):\n%s", d)
	}
}

func TestManagerConfigMapUpdates(t *testing.T) {
	e := newTestEnv(t, configMap("settings", "a", "1"))
	pod := makePod("web").
		Volume("cfg", configMapVolume("settings"), "/etc/cfg").
		Mount(corev1.VolumeMount{Name: "cfg", MountPath: "/etc/a", SubPath: "a"}).
		Obj()
	mounts, err := e.m.Mounts(e.ctx, pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	dir := VolumeDir(e.podsDir, pod.UID, PluginConfigMap, "cfg")
	if d := cmp.Diff(&runtimeapi.Mount{ContainerPath: "/etc/cfg", HostPath: dir, Readonly: true, SelinuxRelabel: true}, mounts[0], protocmp.Transform()); d != "" {
		t.Errorf("volume mount (-want +got):\n%s", d)
	}
	// The subPath mounts the file of the moment, not the symlink: updates
	// do not reach it, as upstream.
	ts, _ := os.Readlink(filepath.Join(dir, dataDirName))
	if d := cmp.Diff(&runtimeapi.Mount{ContainerPath: "/etc/a", HostPath: filepath.Join(dir, ts, "a"), Readonly: true, SelinuxRelabel: true}, mounts[1], protocmp.Transform()); d != "" {
		t.Errorf("subPath mount (-want +got):\n%s", d)
	}
	if got := e.read(pod, PluginConfigMap, "cfg", "a"); got != "1" {
		t.Errorf("a = %q, want 1", got)
	}
	if info, err := os.Stat(filepath.Join(dir, "a")); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("a: %v, %v; want mode 0644", info, err)
	}

	// An update shows at the next refresh.
	if _, err := e.client.CoreV1().ConfigMaps("default").Update(e.ctx, configMap("settings", "a", "2", "b", "3"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.m.refresh(e.ctx)
	if got := e.read(pod, PluginConfigMap, "cfg", "a"); got != "2" {
		t.Errorf("a after the update = %q, want 2", got)
	}
	if got := e.read(pod, PluginConfigMap, "cfg", "b"); got != "3" {
		t.Errorf("b after the update = %q, want 3", got)
	}

	// A ConfigMap gone keeps the content and is a FailedMount event.
	if err := e.client.CoreV1().ConfigMaps("default").Delete(e.ctx, "settings", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.m.refresh(e.ctx)
	if got := e.read(pod, PluginConfigMap, "cfg", "a"); got != "2" {
		t.Errorf("a after the deletion = %q, want 2", got)
	}
	if d := cmp.Diff([]string{`Warning FailedMount MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found`}, e.events()); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestManagerMissingObjects(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").
		Volume("cfg", configMapVolume("missing"), "/etc/cfg").
		Volume("creds", secretVolume("missing"), "/etc/creds").
		Volume("maybe", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr.To(true)}}, "/etc/maybe").
		Volume("cache", emptyDirVolume(), "/cache").
		Obj()
	want := "MountVolume.SetUp failed for volume \"cfg\" : configmap \"missing\" not found\n" +
		"MountVolume.SetUp failed for volume \"creds\" : secret \"missing\" not found"
	err := e.m.SetUpVolumes(e.ctx, pod)
	if d := cmp.Diff(want, errString(err)); d != "" {
		t.Errorf("SetUpVolumes error (-want +got):\n%s", d)
	}
	var setUpErr *SetUpError
	if !asSetUpError(err, &setUpErr) || !apierrors.IsNotFound(setUpErr.Err) {
		t.Errorf("error %v is not a SetUpError wrapping a NotFound", err)
	}
	if _, err := e.m.Mounts(e.ctx, pod, &pod.Spec.Containers[0]); err == nil {
		t.Error("Mounts succeeded with volumes missing")
	}
	// The optional volume and the emptyDir are set up meanwhile.
	if entries, err := os.ReadDir(VolumeDir(e.podsDir, pod.UID, PluginConfigMap, "maybe")); err != nil || len(entries) != 2 {
		t.Errorf("optional volume: %v, %v; want only ..data and its directory", entries, err)
	}

	if _, err := e.client.CoreV1().ConfigMaps("default").Create(e.ctx, configMap("missing", "k", "v"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CoreV1().Secrets("default").Create(e.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "missing", Namespace: "default"},
		Data:       map[string][]byte{"k": []byte("s")},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.setUp(pod)
	if got := e.read(pod, PluginSecret, "creds", "k"); got != "s" {
		t.Errorf("secret = %q", got)
	}
}

func asSetUpError(err error, target **SetUpError) bool {
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		if s, ok := e.(*SetUpError); ok {
			*target = s
			return true
		}
	}
	return false
}

func TestManagerSecretItemsAndModes(t *testing.T) {
	e := newTestEnv(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "default"},
		Data:       map[string][]byte{"user": []byte("admin"), "pass": []byte("hunter2")},
	})
	pod := makePod("web").Volume("creds", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName:  "creds",
		DefaultMode: ptr.To[int32](0o400),
		Items:       []corev1.KeyToPath{{Key: "user", Path: "conf/user"}, {Key: "pass", Path: "pass", Mode: ptr.To[int32](0o440)}},
	}}, "/creds").Obj()
	e.setUp(pod)
	if d := cmp.Diff([]string{
		"..TS/",
		"..TS/conf/",
		"..TS/conf/user -r-------- admin",
		"..TS/pass -r--r----- hunter2",
		"..data -> ..TS",
		"conf -> ..data/conf",
		"pass -> ..data/pass",
	}, tree(t, VolumeDir(e.podsDir, pod.UID, PluginSecret, "creds"))); d != "" {
		t.Errorf("secret volume (-want +got):\n%s", d)
	}
}

func TestManagerDownwardAPIFollowsLabels(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Labels("app", "web").Volume("info", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
		{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
		{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
	}}}, "/info").Obj()
	e.setUp(pod)
	if got := e.read(pod, PluginDownwardAPI, "info", "labels"); got != `app="web"` {
		t.Errorf("labels = %q", got)
	}
	relabeled := pod.DeepCopy()
	relabeled.Labels["tier"] = "front"
	e.setUp(relabeled)
	if got := e.read(pod, PluginDownwardAPI, "info", "labels"); got != "app=\"web\"\ntier=\"front\"" {
		t.Errorf("labels after the change = %q", got)
	}
}

func TestManagerServiceAccountToken(t *testing.T) {
	e := newTestEnv(t, configMap("kube-root-ca.crt", "ca.crt", "CA"))
	pod := makePod("web").Volume("kube-api-access-x", kubeAPIAccess(), "/var/run/secrets/kubernetes.io/serviceaccount").Obj()
	e.setUp(pod)
	read := func(file string) string { return e.read(pod, PluginProjected, "kube-api-access-x", file) }
	if got := read("token") + " " + read("ca.crt") + " " + read("namespace"); got != "token-1 CA default" {
		t.Errorf("files = %q, want token-1 CA default", got)
	}
	if d := cmp.Diff([]*authenticationv1.TokenRequest{{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: ptr.To[int64](3607),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: "web", UID: "uid-web"},
	}}}, e.tokenRequests); d != "" {
		t.Errorf("token requests (-want +got):\n%s", d)
	}

	// Not yet at 80% of its lifetime, the token stays.
	e.clock.Step(40 * time.Minute)
	e.m.refresh(e.ctx)
	if got := read("token"); got != "token-1" {
		t.Errorf("token after 40m = %q, want token-1", got)
	}
	// Past it, it is replaced.
	e.clock.Step(10 * time.Minute)
	e.m.refresh(e.ctx)
	if got := read("token"); got != "token-2" {
		t.Errorf("token after 50m = %q, want token-2", got)
	}
	// A failed refresh keeps the token while it is valid.
	e.tokenErr = apierrors.NewServiceUnavailable("etcd is down")
	e.clock.Step(50 * time.Minute)
	e.m.refresh(e.ctx)
	if got := read("token"); got != "token-2" {
		t.Errorf("token after a failed refresh = %q, want token-2", got)
	}
	if d := cmp.Diff([]string(nil), e.events()); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	// Once it expired, the failure shows.
	e.clock.Step(20 * time.Minute)
	e.m.refresh(e.ctx)
	if events := e.events(); len(events) != 1 || !strings.Contains(events[0], `Warning FailedMount MountVolume.SetUp failed for volume "kube-api-access-x" : token default/default expired and refresh failed`) {
		t.Errorf("events = %q, want the expired token", events)
	}
}

func TestManagerServiceAccountTokenFailure(t *testing.T) {
	e := newTestEnv(t)
	e.tokenErr = apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, "default")
	pod := makePod("web").Volume("token", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}},
	}}}, "/token").Obj()
	err := e.m.SetUpVolumes(e.ctx, pod)
	if d := cmp.Diff(`MountVolume.SetUp failed for volume "token" : failed to fetch token: serviceaccounts "default" not found`, errString(err)); d != "" {
		t.Errorf("error (-want +got):\n%s", d)
	}
	e.tokenErr = nil
	e.setUp(pod)
	if d := cmp.Diff([]string{"vault"}, e.tokenRequests[0].Spec.Audiences); d != "" {
		t.Errorf("audiences (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ptr.To[int64](3600), e.tokenRequests[0].Spec.ExpirationSeconds); d != "" {
		t.Errorf("expirationSeconds (-want +got):\n%s", d)
	}
}

func TestManagerClaims(t *testing.T) {
	hostDir := t.TempDir()
	localDir := t.TempDir()
	claim := func(name, volume string, phase corev1.PersistentVolumeClaimPhase) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
			Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: volume},
			Status:     corev1.PersistentVolumeClaimStatus{Phase: phase},
		}
	}
	pv := func(name, claim string, src corev1.PersistentVolumeSource) *corev1.PersistentVolume {
		return &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeSpec{
				PersistentVolumeSource: src,
				ClaimRef:               &corev1.ObjectReference{Namespace: "default", Name: claim, UID: types.UID("uid-" + claim)},
			},
		}
	}
	e := newTestEnv(t,
		claim("pending", "", corev1.ClaimPending),
		claim("host", "pv-host", corev1.ClaimBound),
		claim("local", "pv-local", corev1.ClaimBound),
		claim("nfs", "pv-nfs", corev1.ClaimBound),
		pv("pv-host", "host", corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir}}),
		pv("pv-local", "local", corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: localDir}}),
		pv("pv-nfs", "nfs", corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "/"}}),
	)
	claimVolume := func(name string, readOnly bool) corev1.VolumeSource {
		return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name, ReadOnly: readOnly}}
	}

	pod := makePod("web").Volume("data", claimVolume("pending", false), "/data").Volume("cache", emptyDirVolume(), "/cache").Obj()
	err := e.m.SetUpVolumes(e.ctx, pod)
	if d := cmp.Diff("Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/pending: PVC is not bound", errString(err)); d != "" {
		t.Errorf("unbound claim (-want +got):\n%s", d)
	}
	pod = makePod("db").Volume("data", claimVolume("missing", false), "/data").Volume("nfs", claimVolume("nfs", false), "/nfs").Obj()
	err = e.m.SetUpVolumes(e.ctx, pod)
	if d := cmp.Diff(`Unable to attach or mount volumes: unmounted volumes=[data nfs], unattached volumes=[], failed to process volumes=[data nfs]: `+
		`error processing PVC default/missing: failed to fetch PVC from API server: persistentvolumeclaims "missing" not found; `+
		`failed to get Plugin from volumeSpec for volume "pv-nfs" err=no volume plugin matched`, errString(err)); d != "" {
		t.Errorf("missing claim and unsupported volume (-want +got):\n%s", d)
	}

	pod = makePod("app").Volume("h", claimVolume("host", true), "/h").Volume("l", claimVolume("local", false), "/l").Obj()
	mounts, err := e.m.Mounts(e.ctx, pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]*runtimeapi.Mount{
		{ContainerPath: "/h", HostPath: hostDir, Readonly: true},
		{ContainerPath: "/l", HostPath: localDir, SelinuxRelabel: true},
	}, mounts, protocmp.Transform()); d != "" {
		t.Errorf("mounts (-want +got):\n%s", d)
	}

	// A generic ephemeral volume's claim must belong to the pod.
	e2 := newTestEnv(t, claim("eph-scratch", "pv-host", corev1.ClaimBound))
	pod = makePod("eph").Volume("scratch", corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}, "/scratch").Obj()
	err = e2.m.SetUpVolumes(e2.ctx, pod)
	if d := cmp.Diff("Unable to attach or mount volumes: unmounted volumes=[scratch], unattached volumes=[], failed to process volumes=[scratch]: PVC default/eph-scratch was not created for pod default/eph (pod is not owner)", errString(err)); d != "" {
		t.Errorf("ephemeral claim of another pod (-want +got):\n%s", d)
	}
}

func TestManagerSubPathExpr(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web-0").Volume("logs", emptyDirVolume(), "").
		Mount(corev1.VolumeMount{Name: "logs", MountPath: "/logs", SubPathExpr: "$(POD_NAME)/app"}).Obj()
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
	mounts, err := e.m.Mounts(e.ctx, pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(VolumeDir(e.podsDir, pod.UID, PluginEmptyDir, "logs"), "web-0", "app")
	if len(mounts) != 1 || mounts[0].HostPath != want {
		t.Errorf("mounts = %v, want %s", mounts, want)
	}
	if info, err := os.Stat(want); err != nil || !info.IsDir() {
		t.Errorf("subPath directory: %v, %v", info, err)
	}

	pod.Spec.Containers[0].VolumeMounts[0].SubPathExpr = "$(NOPE)"
	if _, err := e.m.Mounts(e.ctx, pod, &pod.Spec.Containers[0]); errString(err) != "missing value for NOPE" {
		t.Errorf("Mounts error = %v, want missing value for NOPE", err)
	}
}

func TestManagerCleanup(t *testing.T) {
	e := newTestEnv(t, configMap("kube-root-ca.crt", "ca.crt", "CA"))
	pod := makePod("web").Volume("cache", emptyDirVolume(), "/cache").Volume("kube-api-access-x", kubeAPIAccess(), "/sa").Obj()
	e.setUp(pod)
	if err := e.m.Cleanup(e.ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(PodVolumesDir(e.podsDir, pod.UID)); !os.IsNotExist(err) {
		t.Errorf("volumes left after cleanup: %v", err)
	}
	if len(e.m.pods) != 0 || len(e.m.tokens.cache) != 0 {
		t.Errorf("pod remembered after cleanup: %d pods, %d tokens", len(e.m.pods), len(e.m.tokens.cache))
	}
	// Nothing is refreshed for it any more, and cleaning up again is fine.
	e.m.refresh(e.ctx)
	if err := e.m.CleanupVolumes(e.ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(PodVolumesDir(e.podsDir, pod.UID)); !os.IsNotExist(err) {
		t.Errorf("volumes recreated after cleanup: %v", err)
	}
}

func TestManagerRun(t *testing.T) {
	e := newTestEnv(t, configMap("settings", "a", "1"))
	pod := makePod("web").Volume("cfg", configMapVolume("settings"), "/etc/cfg").Obj()
	e.setUp(pod)
	if _, err := e.client.CoreV1().ConfigMaps("default").Update(e.ctx, configMap("settings", "a", "2"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.m.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.read(pod, PluginConfigMap, "cfg", "a") != "2" {
		if time.Now().After(deadline) {
			t.Fatal("the update never showed")
		}
		if e.clock.HasWaiters() {
			e.clock.Step(DefaultResyncInterval)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
