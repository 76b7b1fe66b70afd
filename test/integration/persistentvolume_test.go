package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// The binder's tests give their volumes and claims a class of their own
// (the namespace's name), so they never bind to other tests' volumes.

type pvOption func(*corev1.PersistentVolume)

func makePV(name, class, size string, opts ...pvOption) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/" + name}},
			StorageClassName:       class,
		},
	}
	for _, o := range opts {
		o(pv)
	}
	return pv
}

func reclaim(p corev1.PersistentVolumeReclaimPolicy) pvOption {
	return func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeReclaimPolicy = p }
}

func reservedFor(ns, claim string) pvOption {
	return func(pv *corev1.PersistentVolume) {
		pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: ns, Name: claim}
	}
}

func hostPath(path string) pvOption {
	return func(pv *corev1.PersistentVolume) {
		pv.Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}
	}
}

func pvLabels(kv ...string) pvOption {
	return func(pv *corev1.PersistentVolume) {
		pv.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			pv.Labels[kv[i]] = kv[i+1]
		}
	}
}

type pvcOption func(*corev1.PersistentVolumeClaim)

func makePVC(name, class, size string, opts ...pvcOption) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
			StorageClassName: &class,
		},
	}
	for _, o := range opts {
		o(pvc)
	}
	return pvc
}

func wantsVolume(name string) pvcOption {
	return func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeName = name }
}

func selecting(kv ...string) pvcOption {
	return func(pvc *corev1.PersistentVolumeClaim) {
		pvc.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			pvc.Spec.Selector.MatchLabels[kv[i]] = kv[i+1]
		}
	}
}

func createPV(t *testing.T, pv *corev1.PersistentVolume) *corev1.PersistentVolume {
	t.Helper()
	out, err := c.kube.CoreV1().PersistentVolumes().Create(context.Background(), pv, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating PersistentVolume %s: %v", pv.Name, err)
	}
	t.Cleanup(func() {
		_ = c.kube.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{})
	})
	return out
}

func createPVC(t *testing.T, ns string, pvc *corev1.PersistentVolumeClaim) *corev1.PersistentVolumeClaim {
	t.Helper()
	out, err := c.kube.CoreV1().PersistentVolumeClaims(ns).Create(context.Background(), pvc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating PersistentVolumeClaim %s: %v", pvc.Name, err)
	}
	return out
}

func waitPV(t *testing.T, name string, phase corev1.PersistentVolumePhase) *corev1.PersistentVolume {
	t.Helper()
	var pv *corev1.PersistentVolume
	poll(t, 30*time.Second, "volume "+name+" to be "+string(phase), func(ctx context.Context) (bool, error) {
		var err error
		pv, err = c.kube.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
		return err == nil && pv.Status.Phase == phase, err
	})
	return pv
}

func waitPVC(t *testing.T, ns, name string, phase corev1.PersistentVolumeClaimPhase) *corev1.PersistentVolumeClaim {
	t.Helper()
	var pvc *corev1.PersistentVolumeClaim
	poll(t, 30*time.Second, "claim "+name+" to be "+string(phase), func(ctx context.Context) (bool, error) {
		var err error
		pvc, err = c.kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && pvc.Status.Phase == phase, err
	})
	return pvc
}

// waitEvent waits for an event with reason on the object and returns its
// type and message. Volumes' events are in the default namespace.
func waitEvent(t *testing.T, ns, kind, name, reason string) (string, string) {
	t.Helper()
	var typ, message string
	selector := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name, "reason": reason}.String()
	poll(t, 30*time.Second, "a "+reason+" event on "+kind+" "+name, func(ctx context.Context) (bool, error) {
		events, err := c.kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: selector})
		if err != nil || len(events.Items) == 0 {
			return false, err
		}
		e := events.Items[0]
		if e.Source.Component != "persistentvolume-controller" {
			t.Errorf("event %s reported by %q, want persistentvolume-controller", reason, e.Source.Component)
		}
		typ, message = e.Type, e.Message
		return true, nil
	})
	return typ, message
}

// staysPending checks that the claim is still Pending after the binder had time
// to act.
func staysPending(t *testing.T, ns, name string) {
	t.Helper()
	time.Sleep(2 * time.Second)
	pvc, err := c.kube.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, bound := pvc.Annotations["pv.kubernetes.io/bind-completed"]; pvc.Status.Phase != corev1.ClaimPending || bound {
		t.Errorf("claim %s: phase %s, annotations %v; want it Pending and unbound", name, pvc.Status.Phase, pvc.Annotations)
	}
}

// A claim binds to the smallest volume of its class that fits; both
// objects record the binding as upstream's controller writes it, and the
// table kubectl prints shows it.
func TestPersistentVolumeBinding(t *testing.T) {
	ns := newNamespace(t)
	class := ns
	createPV(t, makePV(ns+"-big", class, "5Gi"))
	createPV(t, makePV(ns+"-small", class, "1Gi"))
	createPV(t, makePV(ns+"-tiny", class, "500Mi"))
	createPV(t, makePV(ns+"-other-class", class+"-other", "1Gi"))
	claim := createPVC(t, ns, makePVC("data", class, "800Mi"))

	bound := waitPVC(t, ns, "data", corev1.ClaimBound)
	if bound.Spec.VolumeName != ns+"-small" {
		t.Errorf("claim bound to %q, want the smallest volume that fits, %s-small", bound.Spec.VolumeName, ns)
	}
	wantAnnotations := map[string]string{"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"}
	if diff := cmp.Diff(wantAnnotations, bound.Annotations); diff != "" {
		t.Errorf("claim annotations (-want +got)\n%s", diff)
	}
	wantStatus := corev1.PersistentVolumeClaimStatus{
		Phase:       corev1.ClaimBound,
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
	}
	if diff := cmp.Diff(wantStatus, bound.Status); diff != "" {
		t.Errorf("claim status (-want +got)\n%s", diff)
	}
	pv := waitPV(t, ns+"-small", corev1.VolumeBound)
	if ref := pv.Spec.ClaimRef; ref == nil || ref.Kind != "PersistentVolumeClaim" || ref.APIVersion != "v1" ||
		ref.Namespace != ns || ref.Name != "data" || ref.UID != claim.UID || ref.ResourceVersion == "" {
		t.Errorf("volume claimRef = %+v, want v1 PersistentVolumeClaim %s/data with UID %s and a resourceVersion", ref, ns, claim.UID)
	}
	if got := pv.Annotations["pv.kubernetes.io/bound-by-controller"]; got != "yes" {
		t.Errorf("volume annotation pv.kubernetes.io/bound-by-controller = %q, want yes", got)
	}
	for _, name := range []string{ns + "-big", ns + "-tiny", ns + "-other-class"} {
		if other := waitPV(t, name, corev1.VolumeAvailable); other.Spec.ClaimRef != nil {
			t.Errorf("volume %s got claimRef %v", name, other.Spec.ClaimRef)
		}
	}

	// What kubectl get pv,pvc prints.
	pvRow := tableRow(t, "/api/v1/persistentvolumes/"+ns+"-small")
	if pvRow["Status"] != "Bound" || pvRow["Claim"] != ns+"/data" || pvRow["Capacity"] != "1Gi" || pvRow["Access Modes"] != "RWO" {
		t.Errorf("kubectl get pv row = %v, want Status Bound, Claim %s/data, Capacity 1Gi, Access Modes RWO", pvRow, ns)
	}
	pvcRow := tableRow(t, "/api/v1/namespaces/"+ns+"/persistentvolumeclaims/data")
	if pvcRow["Status"] != "Bound" || pvcRow["Volume"] != ns+"-small" || pvcRow["Capacity"] != "1Gi" || pvcRow["Access Modes"] != "RWO" || pvcRow["StorageClass"] != class {
		t.Errorf("kubectl get pvc row = %v, want Status Bound, Volume %s-small, Capacity 1Gi, Access Modes RWO, StorageClass %s", pvcRow, ns, class)
	}

	// A second claim gets the next volume; one too large for all waits,
	// with upstream's event for a class nothing provisions.
	createPVC(t, ns, makePVC("more", class, "1Gi"))
	if got := waitPVC(t, ns, "more", corev1.ClaimBound).Spec.VolumeName; got != ns+"-big" {
		t.Errorf("second claim bound to %q, want %s-big", got, ns)
	}
	createPVC(t, ns, makePVC("huge", class, "10Gi"))
	typ, msg := waitEvent(t, ns, "PersistentVolumeClaim", "huge", "ProvisioningFailed")
	if want := `storageclass.storage.k8s.io "` + class + `" not found`; typ != corev1.EventTypeWarning || msg != want {
		t.Errorf("event %s %q, want Warning %q", typ, msg, want)
	}
	staysPending(t, ns, "huge")

	// Without a class: a claim of class "" matches volumes without one (a
	// label keeps other tests' volumes out), and reports FailedBinding
	// when none fits.
	createPV(t, makePV(ns+"-classless", "", "1Gi", pvLabels("test", ns)))
	createPVC(t, ns, makePVC("classless", "", "1Gi", selecting("test", ns)))
	if got := waitPVC(t, ns, "classless", corev1.ClaimBound).Spec.VolumeName; got != ns+"-classless" {
		t.Errorf("classless claim bound to %q, want %s-classless", got, ns)
	}
	createPVC(t, ns, makePVC("classless-none", "", "1Gi", selecting("test", ns+"-nothing")))
	typ, msg = waitEvent(t, ns, "PersistentVolumeClaim", "classless-none", "FailedBinding")
	if want := "no persistent volumes available for this claim and no storage class is set"; typ != corev1.EventTypeNormal || msg != want {
		t.Errorf("event %s %q, want Normal %q", typ, msg, want)
	}
}

// Pre-binding in either direction is honoured: a volume reserved for a
// claim goes to it (and to no other), a claim naming a volume waits for it.
func TestPersistentVolumePreBound(t *testing.T) {
	ns := newNamespace(t)
	class := ns

	// A volume reserved through claimRef, though a smaller free one exists.
	createPV(t, makePV(ns+"-free", class, "1Gi"))
	createPV(t, makePV(ns+"-reserved", class, "5Gi", reservedFor(ns, "reserved")))
	waitPV(t, ns+"-reserved", corev1.VolumeAvailable)
	claim := createPVC(t, ns, makePVC("reserved", class, "1Gi"))
	if got := waitPVC(t, ns, "reserved", corev1.ClaimBound).Spec.VolumeName; got != ns+"-reserved" {
		t.Errorf("claim bound to %q, want the volume reserved for it", got)
	}
	pv := waitPV(t, ns+"-reserved", corev1.VolumeBound)
	if pv.Spec.ClaimRef.UID != claim.UID {
		t.Errorf("reserved volume's claimRef UID %q, want the claim's %q", pv.Spec.ClaimRef.UID, claim.UID)
	}
	if _, ok := pv.Annotations["pv.kubernetes.io/bound-by-controller"]; ok {
		t.Errorf("a volume the user reserved is marked bound-by-controller: %v", pv.Annotations)
	}

	// A volume reserved for another claim is not taken (it would be by
	// name order).
	createPV(t, makePV(ns+"-for-someone", class, "1Gi", reservedFor(ns, "someone-else")))
	createPVC(t, ns, makePVC("takes-free", class, "1Gi"))
	if got := waitPVC(t, ns, "takes-free", corev1.ClaimBound).Spec.VolumeName; got != ns+"-free" {
		t.Errorf("claim bound to %q, want %s-free (the other is reserved)", got, ns)
	}
	if pv := waitPV(t, ns+"-for-someone", corev1.VolumeAvailable); pv.Spec.ClaimRef.Name != "someone-else" || pv.Spec.ClaimRef.UID != "" {
		t.Errorf("reserved volume's claimRef changed: %+v", pv.Spec.ClaimRef)
	}

	// A claim naming a volume that does not exist yet waits for it.
	createPVC(t, ns, makePVC("wants", class, "1Gi", wantsVolume(ns+"-wanted")))
	staysPending(t, ns, "wants")
	createPV(t, makePV(ns+"-wanted", class, "2Gi"))
	bound := waitPVC(t, ns, "wants", corev1.ClaimBound)
	if _, ok := bound.Annotations["pv.kubernetes.io/bound-by-controller"]; ok || bound.Annotations["pv.kubernetes.io/bind-completed"] != "yes" {
		t.Errorf("claim that named its volume: annotations %v, want bind-completed only", bound.Annotations)
	}
	if pv := waitPV(t, ns+"-wanted", corev1.VolumeBound); pv.Annotations["pv.kubernetes.io/bound-by-controller"] != "yes" {
		t.Errorf("volume bound to a claim that named it: annotations %v, want bound-by-controller", pv.Annotations)
	}

	// A claim naming a volume too small for it.
	createPV(t, makePV(ns+"-too-small", class, "1Gi"))
	createPVC(t, ns, makePVC("too-big", class, "2Gi", wantsVolume(ns+"-too-small")))
	typ, msg := waitEvent(t, ns, "PersistentVolumeClaim", "too-big", "VolumeMismatch")
	if want := `Cannot bind to requested volume "` + ns + `-too-small": requested PV is too small`; typ != corev1.EventTypeWarning || msg != want {
		t.Errorf("event %s %q, want Warning %q", typ, msg, want)
	}
	staysPending(t, ns, "too-big")
}

// A deleted claim releases its volume, which its reclaim policy then
// handles; a volume deleted under its claim loses it.
func TestPersistentVolumeReclaim(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	local := func(pv *corev1.PersistentVolume) {
		pv.Spec.PersistentVolumeSource = corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/mnt/disks/a"}}
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-a"}}},
		}}}}
	}
	tests := []struct {
		name      string
		opts      []pvOption
		wantPhase corev1.PersistentVolumePhase // "" for deleted
		wantEvent string
		wantMsg   string
	}{
		{name: "retain", opts: []pvOption{reclaim(corev1.PersistentVolumeReclaimRetain)}, wantPhase: corev1.VolumeReleased},
		{name: "delete-hostpath", opts: []pvOption{reclaim(corev1.PersistentVolumeReclaimDelete), hostPath("/srv/data")},
			wantPhase: corev1.VolumeFailed, wantEvent: "VolumeFailedDelete", wantMsg: "host_path deleter only supports /tmp/.+ but received provided /srv/data"},
		{name: "delete-tmp", opts: []pvOption{reclaim(corev1.PersistentVolumeReclaimDelete), hostPath("/tmp/strata-it-" + ns)}},
		{name: "delete-local", opts: []pvOption{reclaim(corev1.PersistentVolumeReclaimDelete), local},
			wantPhase: corev1.VolumeFailed, wantEvent: "VolumeFailedDelete", wantMsg: `error getting deleter volume plugin for volume "` + ns + `-delete-local": no deletable volume plugin matched`},
		{name: "recycle", opts: []pvOption{reclaim(corev1.PersistentVolumeReclaimRecycle)},
			wantPhase: corev1.VolumeFailed, wantEvent: "VolumeFailedRecycle", wantMsg: "No recycler plugin found for the volume!"},
	}
	claims := map[string]*corev1.PersistentVolumeClaim{}
	for _, tt := range tests {
		// One class per case pairs each claim with its volume.
		class := ns + "-" + tt.name
		createPV(t, makePV(class, class, "1Gi", tt.opts...))
		claims[tt.name] = createPVC(t, ns, makePVC(tt.name, class, "1Gi"))
	}
	for _, tt := range tests {
		waitPVC(t, ns, tt.name, corev1.ClaimBound)
		if err := c.kube.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, tt.name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := ns + "-" + tt.name
			if tt.wantPhase == "" {
				poll(t, 30*time.Second, "volume "+name+" to be deleted", func(ctx context.Context) (bool, error) {
					_, err := c.kube.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
					if apierrors.IsNotFound(err) {
						return true, nil
					}
					return false, err
				})
				return
			}
			pv := waitPV(t, name, tt.wantPhase)
			if ref := pv.Spec.ClaimRef; ref == nil || ref.UID != claims[tt.name].UID {
				t.Errorf("released volume's claimRef = %+v, want it kept (UID %s)", ref, claims[tt.name].UID)
			}
			if pv.Status.Message != tt.wantMsg {
				t.Errorf("volume message %q, want %q", pv.Status.Message, tt.wantMsg)
			}
			if tt.wantEvent != "" {
				typ, msg := waitEvent(t, metav1.NamespaceDefault, "PersistentVolume", name, tt.wantEvent)
				if typ != corev1.EventTypeWarning || msg != tt.wantMsg {
					t.Errorf("event %s %q, want Warning %q", typ, msg, tt.wantMsg)
				}
			}
			if row := tableRow(t, "/api/v1/persistentvolumes/"+name); row["Status"] != string(tt.wantPhase) || row["Claim"] != ns+"/"+tt.name {
				t.Errorf("kubectl get pv row = %v, want Status %s, Claim %s/%s", row, tt.wantPhase, ns, tt.name)
			}
		})
	}

	// A released volume is not bound again to a new claim of the same name.
	class := ns + "-retain"
	createPVC(t, ns, makePVC("retain", class, "1Gi"))
	staysPending(t, ns, "retain")

	// A volume deleted under its claim: the claim is Lost.
	lostClass := ns + "-lost"
	createPV(t, makePV(lostClass, lostClass, "1Gi"))
	createPVC(t, ns, makePVC("lost", lostClass, "1Gi"))
	waitPVC(t, ns, "lost", corev1.ClaimBound)
	if err := c.kube.CoreV1().PersistentVolumes().Delete(ctx, lostClass, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	lost := waitPVC(t, ns, "lost", corev1.ClaimLost)
	if lost.Status.Capacity != nil || lost.Status.AccessModes != nil {
		t.Errorf("lost claim keeps capacity %v and access modes %v", lost.Status.Capacity, lost.Status.AccessModes)
	}
	typ, msg := waitEvent(t, ns, "PersistentVolumeClaim", "lost", "ClaimLost")
	if want := "Bound claim has lost its PersistentVolume. Data on the volume is lost!"; typ != corev1.EventTypeWarning || msg != want {
		t.Errorf("event %s %q, want Warning %q", typ, msg, want)
	}
}

// tableRow gets path as the Table kubectl asks for and returns its row by
// column name.
func tableRow(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := c.kube.CoreV1().RESTClient().Get().AbsPath(path).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("getting %s as a table: %v", path, err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("table of %s has %d rows, want 1", path, len(table.Rows))
	}
	row := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if s, ok := table.Rows[0].Cells[i].(string); ok {
			row[col.Name] = s
		}
	}
	return row
}
