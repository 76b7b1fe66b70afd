package podstatus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// ErrIllegalTransition is returned for a status that would bring a
// terminated container back.
var ErrIllegalTransition = errors.New("illegal container state transition")

// Writer writes pod statuses through a client.
type Writer struct {
	Client kubernetes.Interface

	mu sync.Mutex
	// deleted are the pods the writer deleted, and when: until the
	// informer sees them go, a sync must not delete them again (the node
	// authorizer, which no longer knows the pod, would refuse it).
	deleted map[types.UID]time.Time
}

// forgetDeletedAfter is how long a deleted pod is remembered.
const forgetDeletedAfter = 5 * time.Minute

// alreadyDeleted tells whether the writer deleted the pod with uid.
func (w *Writer) alreadyDeleted(uid types.UID) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.deleted[uid]
	return ok
}

// rememberDeleted records a deletion and forgets old ones.
func (w *Writer) rememberDeleted(uid types.UID, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deleted == nil {
		w.deleted = map[types.UID]time.Time{}
	}
	for u, at := range w.deleted {
		if now.Sub(at) > forgetDeletedAfter {
			delete(w.deleted, u)
		}
	}
	w.deleted[uid] = now
}

// Write patches the pod's status to status when the kubelet's part of it
// changed and returns the pod as the API server has it afterwards (pod
// itself when nothing was written). When the pod is being deleted, stopped
// says its containers are gone and the status is terminal, the pod is
// deleted for good.
func (w *Writer) Write(ctx context.Context, pod *corev1.Pod, status corev1.PodStatus, stopped bool) (*corev1.Pod, error) {
	log := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod))
	merged := merge(pod.Status, status)
	if err := checkTransitions(pod, pod.Status, merged); err != nil {
		return pod, fmt.Errorf("%w: %v", ErrIllegalTransition, err)
	}

	if !equalByKubelet(pod.Status, merged) {
		patch, err := statusPatch(pod.UID, pod.Status, merged)
		if err != nil {
			return pod, err
		}
		log.V(2).Info("Patching pod status", "phase", merged.Phase, "patch", string(patch))
		updated, err := w.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		if err != nil {
			return pod, fmt.Errorf("patching the status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		pod = updated
	}

	if pod.DeletionTimestamp != nil && stopped && isTerminal(pod.Status.Phase) && !w.alreadyDeleted(pod.UID) {
		log.V(1).Info("Deleting pod whose containers stopped")
		err := w.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			Preconditions:      metav1.NewUIDPreconditions(string(pod.UID)),
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return pod, fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		w.rememberDeleted(pod.UID, time.Now())
	}
	return pod, nil
}

// statusPatch is a strategic merge patch from old to updated, with the
// pod's UID as a precondition.
func statusPatch(uid types.UID, old, updated corev1.PodStatus) ([]byte, error) {
	oldData, err := json.Marshal(corev1.Pod{Status: old})
	if err != nil {
		return nil, err
	}
	newData, err := json.Marshal(corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: uid}, Status: updated})
	if err != nil {
		return nil, err
	}
	return strategicpatch.CreateTwoWayMergePatch(oldData, newData, corev1.Pod{})
}
