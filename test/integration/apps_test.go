package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	utilptr "k8s.io/utils/ptr"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// deploymentBuilder builds Deployments for tests.
type deploymentBuilder struct{ d *stratav1.Deployment }

func makeDeployment(ns, name string) deploymentBuilder {
	labels := map[string]string{"app": name}
	return deploymentBuilder{&stratav1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: utilptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.14.2"}}},
			},
		},
	}}
}

func (b deploymentBuilder) Replicas(n int32) deploymentBuilder { b.d.Spec.Replicas = &n; return b }
func (b deploymentBuilder) MinReadySeconds(s int32) deploymentBuilder {
	b.d.Spec.MinReadySeconds = s
	return b
}
func (b deploymentBuilder) RollingUpdate(surge, unavailable string) deploymentBuilder {
	s, u := intstr.Parse(surge), intstr.Parse(unavailable)
	b.d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}}
	return b
}
func (b deploymentBuilder) Recreate() deploymentBuilder {
	b.d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	return b
}
func (b deploymentBuilder) ProgressDeadline(s int32) deploymentBuilder {
	b.d.Spec.ProgressDeadlineSeconds = &s
	return b
}
func (b deploymentBuilder) NodeSelector(sel map[string]string) deploymentBuilder {
	b.d.Spec.Template.Spec.NodeSelector = sel
	return b
}
func (b deploymentBuilder) Obj() *stratav1.Deployment { return b.d }

// create creates obj through the direct client, failing the test on error.
func (a *appsCluster) create(t testing.TB, obj ctrlclient.Object) {
	t.Helper()
	if err := a.client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// update reads the object, changes it and writes it back, retrying conflicts.
func updateDeployment(t testing.TB, a *appsCluster, ns, name string, change func(*stratav1.Deployment)) {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		d := &stratav1.Deployment{}
		if err := a.client.Get(ctx, ctrlclient.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			t.Fatal(err)
		}
		change(d)
		err := a.client.Update(ctx, d)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("updating deployment %s: %v", name, err)
		}
	}
	t.Fatalf("updating deployment %s: too many conflicts", name)
}

func (a *appsCluster) deployment(t testing.TB, ns, name string) *stratav1.Deployment {
	t.Helper()
	d := &stratav1.Deployment{}
	if err := a.client.Get(context.Background(), ctrlclient.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (a *appsCluster) replicaSets(t testing.TB, ns string) []stratav1.ReplicaSet {
	t.Helper()
	l := &stratav1.ReplicaSetList{}
	if err := a.client.List(context.Background(), l, ctrlclient.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func (a *appsCluster) pods(t testing.TB, ns string) []corev1.Pod {
	t.Helper()
	l, err := a.kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// waitComplete waits until the deployment's rollout is complete, as
// `kubectl rollout status` decides it.
func (a *appsCluster) waitComplete(t testing.TB, ns, name string, timeout time.Duration) *stratav1.Deployment {
	t.Helper()
	var d *stratav1.Deployment
	poll(t, timeout, "deployment "+name+" to complete its rollout", func(ctx context.Context) (bool, error) {
		d = &stratav1.Deployment{}
		if err := a.client.Get(ctx, ctrlclient.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return false, err
		}
		return rolloutComplete(d), nil
	})
	return d
}

// rolloutComplete is kubectl's rollout status check.
func rolloutComplete(d *stratav1.Deployment) bool {
	want := utilptr.Deref(d.Spec.Replicas, 1)
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want
}

func condition(d *stratav1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// TestAppsDeploymentToRunningPods is the seed's chain: a Deployment becomes
// a ReplicaSet, the ReplicaSet pods, the scheduler binds them and the
// (simulated) kubelets run them.
func TestAppsDeploymentToRunningPods(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.create(t, makeDeployment(ns, "web").Obj())
	d := a.waitComplete(t, ns, "web", time.Minute)

	// Defaults of the webhook.
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate.MaxSurge.String() != "25%" ||
		utilptr.Deref(d.Spec.RevisionHistoryLimit, 0) != 10 || utilptr.Deref(d.Spec.ProgressDeadlineSeconds, 0) != 600 {
		t.Errorf("defaults not applied: strategy %+v revisionHistoryLimit %v progressDeadlineSeconds %v",
			d.Spec.Strategy, d.Spec.RevisionHistoryLimit, d.Spec.ProgressDeadlineSeconds)
	}
	if d.Status.Selector != "app=web" {
		t.Errorf("status.selector = %q, want app=web", d.Status.Selector)
	}
	if c := condition(d, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != "MinimumReplicasAvailable" {
		t.Errorf("Available condition = %+v", c)
	}
	if c := condition(d, appsv1.DeploymentProgressing); c == nil || c.Reason != "NewReplicaSetAvailable" {
		t.Errorf("Progressing condition = %+v", c)
	}
	if d.Annotations["deployment.kubernetes.io/revision"] != "1" {
		t.Errorf("revision annotation = %q, want 1", d.Annotations["deployment.kubernetes.io/revision"])
	}

	rss := a.replicaSets(t, ns)
	if len(rss) != 1 {
		t.Fatalf("%d ReplicaSets, want 1", len(rss))
	}
	rs := rss[0]
	hash := rs.Labels["pod-template-hash"]
	if hash == "" || rs.Name != "web-"+hash || !metav1.IsControlledBy(&rs, d) {
		t.Errorf("ReplicaSet %s labels %v owners %v: want web-<pod-template-hash> controlled by the deployment", rs.Name, rs.Labels, rs.OwnerReferences)
	}
	if rs.Status.ReadyReplicas != 3 || rs.Status.AvailableReplicas != 3 || rs.Status.FullyLabeledReplicas != 3 || rs.Status.ObservedGeneration != rs.Generation {
		t.Errorf("ReplicaSet status = %+v", rs.Status.ReplicaSetStatus)
	}
	pods := a.pods(t, ns)
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	for _, p := range pods {
		if !metav1.IsControlledBy(&p, &rs) || p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning || p.Labels["pod-template-hash"] != hash {
			t.Errorf("pod %s: owner %v node %q phase %s labels %v", p.Name, p.OwnerReferences, p.Spec.NodeName, p.Status.Phase, p.Labels)
		}
	}

	// Events as kubectl describe shows them.
	waitForEvent(t, a, ns, "web", "ScalingReplicaSet", "Scaled up replica set "+rs.Name+" from 0 to 3")
	waitForEvent(t, a, ns, rs.Name, "SuccessfulCreate", "Created pod: ")
}

func waitForEvent(t testing.TB, a *appsCluster, ns, object, reason, messagePrefix string) {
	t.Helper()
	var seen []string
	err := pollErr(30*time.Second, func(ctx context.Context) (bool, error) {
		l, err := a.kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, e := range l.Items {
			seen = append(seen, fmt.Sprintf("%s %s: %s", e.InvolvedObject.Name, e.Reason, e.Message))
			if e.InvolvedObject.Name == object && e.Reason == reason && strings.HasPrefix(e.Message, messagePrefix) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no event %s %q on %s; events:\n%s", reason, messagePrefix, object, strings.Join(seen, "\n"))
	}
}

// TestAppsRollingUpdateStaysWithinBounds watches every ReplicaSet change of
// a rolling update and checks the strategy's bounds at each step: never more
// than replicas+maxSurge pods wanted, never fewer than
// replicas-maxUnavailable available.
func TestAppsRollingUpdateStaysWithinBounds(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	const replicas, surge, unavailable = 10, 3, 2 // 25% of 10: surge rounds up, unavailable down
	a.create(t, makeDeployment(ns, "roll").Replicas(replicas).RollingUpdate("25%", "25%").MinReadySeconds(1).Obj())
	a.waitComplete(t, ns, "roll", time.Minute)

	rsWatch, err := a.watchReplicaSets(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer rsWatch.Stop()

	updateDeployment(t, a, ns, "roll", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27" })

	type counts struct{ spec, available int32 }
	state := map[string]counts{}
	steps := 0
	deadline := time.After(2 * time.Minute)
	// The Deployment's status may complete after the last ReplicaSet
	// change: look at it on a tick too.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case ev, ok := <-rsWatch.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			rs, ok := ev.Object.(*stratav1.ReplicaSet)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(state, rs.Name)
			} else {
				state[rs.Name] = counts{utilptr.Deref(rs.Spec.Replicas, 1), rs.Status.AvailableReplicas}
			}
			var spec, available int32
			for _, c := range state {
				spec += c.spec
				available += c.available
			}
			steps++
			if spec > replicas+surge {
				t.Errorf("step %d: %d replicas wanted, more than %d+%d (%v)", steps, spec, replicas, surge, state)
			}
			if len(state) > 0 && available < replicas-unavailable {
				t.Errorf("step %d: %d available, fewer than %d-%d (%v)", steps, available, replicas, unavailable, state)
			}
		case <-deadline:
			t.Fatalf("rollout did not complete; ReplicaSets %v", state)
		}
		if d := a.deployment(t, ns, "roll"); rolloutComplete(d) && d.Status.UpdatedReplicas == replicas {
			break
		}
	}
	if steps < 4 {
		t.Errorf("saw %d ReplicaSet changes; a rolling update of 10 pods in steps of 3 takes more", steps)
	}
	d := a.deployment(t, ns, "roll")
	if d.Annotations["deployment.kubernetes.io/revision"] != "2" {
		t.Errorf("revision = %q, want 2", d.Annotations["deployment.kubernetes.io/revision"])
	}
	for _, rs := range a.replicaSets(t, ns) {
		want := int32(0)
		if rs.Annotations["deployment.kubernetes.io/revision"] == "2" {
			want = replicas
		}
		if utilptr.Deref(rs.Spec.Replicas, 1) != want {
			t.Errorf("ReplicaSet %s (revision %s) has %d replicas, want %d", rs.Name, rs.Annotations["deployment.kubernetes.io/revision"], utilptr.Deref(rs.Spec.Replicas, 1), want)
		}
	}
	waitForEvent(t, a, ns, "roll", "ScalingReplicaSet", "Scaled down replica set roll-")
}

func (a *appsCluster) watchReplicaSets(ns string) (watch.Interface, error) {
	wc, ok := a.client.(ctrlclient.WithWatch)
	if !ok {
		return nil, fmt.Errorf("client cannot watch")
	}
	return wc.Watch(context.Background(), &stratav1.ReplicaSetList{}, ctrlclient.InNamespace(ns))
}

// TestAppsRollbackReusesTheOldReplicaSet does what `kubectl rollout undo`
// does: it copies revision 1's template back into the deployment. The
// controller scales the old ReplicaSet up again under a new revision.
func TestAppsRollbackReusesTheOldReplicaSet(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.create(t, makeDeployment(ns, "undo").Obj())
	a.waitComplete(t, ns, "undo", time.Minute)
	first := a.replicaSets(t, ns)[0]
	updateDeployment(t, a, ns, "undo", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27" })
	a.waitComplete(t, ns, "undo", time.Minute)

	updateDeployment(t, a, ns, "undo", func(d *stratav1.Deployment) {
		d.Spec.Template = *first.Spec.Template.DeepCopy()
		delete(d.Spec.Template.Labels, "pod-template-hash")
	})
	d := a.waitComplete(t, ns, "undo", time.Minute)
	if got := d.Annotations["deployment.kubernetes.io/revision"]; got != "3" {
		t.Errorf("deployment revision = %q, want 3", got)
	}
	rss := a.replicaSets(t, ns)
	if len(rss) != 2 {
		t.Fatalf("%d ReplicaSets, want the 2 revisions", len(rss))
	}
	for _, rs := range rss {
		if rs.Name == first.Name {
			if rs.Annotations["deployment.kubernetes.io/revision"] != "3" || rs.Annotations["deployment.kubernetes.io/revision-history"] != "1" {
				t.Errorf("rolled back ReplicaSet annotations = %v, want revision 3 and revision-history 1", rs.Annotations)
			}
			if utilptr.Deref(rs.Spec.Replicas, 0) != 3 {
				t.Errorf("rolled back ReplicaSet has %d replicas, want 3", utilptr.Deref(rs.Spec.Replicas, 0))
			}
		} else if utilptr.Deref(rs.Spec.Replicas, 0) != 0 {
			t.Errorf("ReplicaSet %s of revision 2 has %d replicas, want 0", rs.Name, utilptr.Deref(rs.Spec.Replicas, 0))
		}
	}
}

// TestAppsPauseAndResume: a paused deployment does not roll out template
// changes; resuming does.
func TestAppsPauseAndResume(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.create(t, makeDeployment(ns, "paused").Obj())
	a.waitComplete(t, ns, "paused", time.Minute)
	updateDeployment(t, a, ns, "paused", func(d *stratav1.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	})
	poll(t, 30*time.Second, "Progressing condition DeploymentPaused", func(ctx context.Context) (bool, error) {
		c := condition(a.deployment(t, ns, "paused"), appsv1.DeploymentProgressing)
		return c != nil && c.Reason == "DeploymentPaused" && c.Status == corev1.ConditionUnknown, nil
	})
	// Scaling still works while paused.
	updateDeployment(t, a, ns, "paused", func(d *stratav1.Deployment) { d.Spec.Replicas = utilptr.To[int32](4) })
	poll(t, 30*time.Second, "the paused deployment to scale to 4", func(ctx context.Context) (bool, error) {
		d := a.deployment(t, ns, "paused")
		return d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == 4, nil
	})
	if rss := a.replicaSets(t, ns); len(rss) != 1 {
		t.Fatalf("paused deployment has %d ReplicaSets, want 1 (no rollout while paused)", len(rss))
	}
	updateDeployment(t, a, ns, "paused", func(d *stratav1.Deployment) { d.Spec.Paused = false })
	d := a.waitComplete(t, ns, "paused", time.Minute)
	if len(a.replicaSets(t, ns)) != 2 || d.Annotations["deployment.kubernetes.io/revision"] != "2" {
		t.Errorf("after resume: %d ReplicaSets, revision %q; want 2 and 2", len(a.replicaSets(t, ns)), d.Annotations["deployment.kubernetes.io/revision"])
	}
}

// TestAppsScaleDuringRollout scales a deployment whose rollout is stuck
// (the new pods cannot be scheduled): the replicas are spread
// proportionally over the old and the new ReplicaSet.
func TestAppsScaleDuringRollout(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.create(t, makeDeployment(ns, "prop").Replicas(10).RollingUpdate("3", "2").Obj())
	a.waitComplete(t, ns, "prop", time.Minute)
	// The new template cannot be scheduled: the rollout stops at
	// 8 old available + 5 new pending (10-2 available, 10+3 total).
	updateDeployment(t, a, ns, "prop", func(d *stratav1.Deployment) {
		d.Spec.Template.Spec.NodeSelector = map[string]string{"no-such": "node"}
	})
	poll(t, time.Minute, "the rollout to stall at 8 old + 5 new", func(ctx context.Context) (bool, error) {
		old, cur := a.oldAndNew(t, ns, "prop")
		return old == 8 && cur == 5, nil
	})
	updateDeployment(t, a, ns, "prop", func(d *stratav1.Deployment) { d.Spec.Replicas = utilptr.To[int32](20) })
	// 10 more, with the 3 of surge: 23 in all, in proportion 8:5 of 13 → old
	// 8+6=14 (8/13*10=6.15), new 5+4=9 (leftover to the larger, upstream
	// rounding) — assert the total and that both grew.
	poll(t, time.Minute, "proportional scaling", func(ctx context.Context) (bool, error) {
		old, cur := a.oldAndNew(t, ns, "prop")
		return old+cur == 23 && old > 8 && cur > 5, nil
	})
	old, cur := a.oldAndNew(t, ns, "prop")
	if old != 14 || cur != 9 {
		t.Errorf("after scaling to 20: old %d, new %d; want 14 and 9 (proportional)", old, cur)
	}
}

// oldAndNew returns the replicas of the deployment's old ReplicaSets and of
// the one of the current revision.
func (a *appsCluster) oldAndNew(t testing.TB, ns, name string) (old, cur int32) {
	d := a.deployment(t, ns, name)
	for _, rs := range a.replicaSets(t, ns) {
		if rs.Annotations["deployment.kubernetes.io/revision"] == d.Annotations["deployment.kubernetes.io/revision"] {
			cur += utilptr.Deref(rs.Spec.Replicas, 0)
		} else {
			old += utilptr.Deref(rs.Spec.Replicas, 0)
		}
	}
	return old, cur
}

// TestAppsProgressDeadlineExceeded: a rollout that cannot progress reports
// ProgressDeadlineExceeded once progressDeadlineSeconds pass.
func TestAppsProgressDeadlineExceeded(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.create(t, makeDeployment(ns, "stuck").Replicas(2).ProgressDeadline(3).NodeSelector(map[string]string{"no-such": "node"}).Obj())
	var d *stratav1.Deployment
	poll(t, time.Minute, "ProgressDeadlineExceeded", func(ctx context.Context) (bool, error) {
		d = a.deployment(t, ns, "stuck")
		c := condition(d, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == "ProgressDeadlineExceeded", nil
	})
	c := condition(d, appsv1.DeploymentProgressing)
	rs := a.replicaSets(t, ns)[0]
	if c.Status != corev1.ConditionFalse || c.Message != fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs.Name) {
		t.Errorf("Progressing = %s %q, want False %q", c.Status, c.Message, fmt.Sprintf("ReplicaSet %q has timed out progressing.", rs.Name))
	}
	if av := condition(d, appsv1.DeploymentAvailable); av == nil || av.Status != corev1.ConditionFalse || av.Reason != "MinimumReplicasUnavailable" {
		t.Errorf("Available = %+v, want False MinimumReplicasUnavailable", av)
	}
}

// TestAppsRecreate: the old pods are gone before new ones are created.
func TestAppsRecreate(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.create(t, makeDeployment(ns, "recreate").Recreate().Obj())
	a.waitComplete(t, ns, "recreate", time.Minute)
	first := a.replicaSets(t, ns)[0].Name

	var mu sync.Mutex
	var violations []string
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pw, err := a.kube.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]string{} // pod → pod-template-hash
	go func() {
		for ev := range pw.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			mu.Lock()
			if ev.Type == watch.Deleted {
				delete(live, p.Name)
			} else {
				live[p.Name] = p.Labels["pod-template-hash"]
			}
			hashes := map[string]bool{}
			for _, h := range live {
				hashes[h] = true
			}
			if len(hashes) > 1 {
				violations = append(violations, fmt.Sprintf("%v", live))
			}
			mu.Unlock()
		}
	}()
	updateDeployment(t, a, ns, "recreate", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27" })
	poll(t, time.Minute, "the recreate rollout", func(ctx context.Context) (bool, error) {
		d := a.deployment(t, ns, "recreate")
		return rolloutComplete(d) && d.Annotations["deployment.kubernetes.io/revision"] == "2", nil
	})
	pw.Stop()
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Errorf("old and new pods existed at the same time: %v", violations[0])
	}
	for _, p := range a.pods(t, ns) {
		if strings.HasPrefix(p.Name, first) {
			t.Errorf("pod %s of the old ReplicaSet survived", p.Name)
		}
	}
}

// TestAppsDeletePropagation deletes deployments with each propagation
// policy and checks what the garbage collector leaves.
func TestAppsDeletePropagation(t *testing.T) {
	a := appsEnv(t)
	for _, policy := range []metav1.DeletionPropagation{metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan} {
		t.Run(string(policy), func(t *testing.T) {
			ns := a.newNamespace(t)
			a.create(t, makeDeployment(ns, "del").Replicas(2).Obj())
			a.waitComplete(t, ns, "del", time.Minute)
			if err := a.client.Delete(context.Background(), makeDeployment(ns, "del").Obj(), ctrlclient.PropagationPolicy(policy)); err != nil {
				t.Fatal(err)
			}
			poll(t, time.Minute, "the deployment to be gone", func(ctx context.Context) (bool, error) {
				err := a.client.Get(ctx, ctrlclient.ObjectKey{Namespace: ns, Name: "del"}, &stratav1.Deployment{})
				return apierrors.IsNotFound(err), nil
			})
			if policy == metav1.DeletePropagationOrphan {
				time.Sleep(2 * time.Second) // give the collector a chance to be wrong
				rss, pods := a.replicaSets(t, ns), a.pods(t, ns)
				if len(rss) != 1 || len(pods) != 2 {
					t.Fatalf("orphan: %d ReplicaSets and %d pods left, want 1 and 2", len(rss), len(pods))
				}
				if len(rss[0].OwnerReferences) != 0 {
					t.Errorf("orphaned ReplicaSet still has owners %v", rss[0].OwnerReferences)
				}
				return
			}
			poll(t, time.Minute, "ReplicaSets and pods to be collected", func(ctx context.Context) (bool, error) {
				return len(a.replicaSets(t, ns)) == 0 && len(a.pods(t, ns)) == 0, nil
			})
		})
	}
}

// TestAppsReplicaSetReplicaFailure: a ReplicaSet whose pods a quota refuses
// reports ReplicaFailure, and the Deployment copies it.
func TestAppsReplicaSetReplicaFailure(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pods"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("2")}}}
	if _, err := a.kube.CoreV1().ResourceQuotas(ns).Create(context.Background(), quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "the quota's status", func(ctx context.Context) (bool, error) {
		q, err := a.kube.CoreV1().ResourceQuotas(ns).Get(ctx, "pods", metav1.GetOptions{})
		return err == nil && len(q.Status.Hard) > 0, err
	})
	a.create(t, makeDeployment(ns, "quota").Replicas(3).Obj())
	var d *stratav1.Deployment
	poll(t, time.Minute, "ReplicaFailure on the deployment", func(ctx context.Context) (bool, error) {
		d = a.deployment(t, ns, "quota")
		c := condition(d, appsv1.DeploymentReplicaFailure)
		return c != nil && c.Status == corev1.ConditionTrue, nil
	})
	c := condition(d, appsv1.DeploymentReplicaFailure)
	if c.Reason != "FailedCreate" || !strings.Contains(c.Message, "exceeded quota") {
		t.Errorf("ReplicaFailure = %s %q, want FailedCreate with the quota error", c.Reason, c.Message)
	}
	rs := a.replicaSets(t, ns)[0]
	waitForEvent(t, a, ns, rs.Name, "FailedCreate", "Error creating: ")
	if n := len(a.pods(t, ns)); n != 2 {
		t.Errorf("%d pods, want the 2 the quota allows", n)
	}
}

// TestAppsReplicaSetAdoptsAndReleases: a bare ReplicaSet adopts a matching
// orphan pod (and so creates one pod fewer) and releases a pod whose labels
// stop matching (and replaces it).
func TestAppsReplicaSetAdoptsAndReleases(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	labels := map[string]string{"app": "adopt"}
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orphan", Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}}
	if _, err := a.kube.CoreV1().Pods(ns).Create(context.Background(), orphan, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rs := &stratav1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "adopt"}, Spec: appsv1.ReplicaSetSpec{
		Replicas: utilptr.To[int32](2),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}},
	}}
	a.create(t, rs)
	poll(t, time.Minute, "2 ready replicas", func(ctx context.Context) (bool, error) {
		got := &stratav1.ReplicaSet{}
		err := a.client.Get(ctx, ctrlclient.ObjectKeyFromObject(rs), got)
		return err == nil && got.Status.ReadyReplicas == 2, err
	})
	pods := a.pods(t, ns)
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2 (the orphan adopted, one created)", len(pods))
	}
	p, err := a.kube.CoreV1().Pods(ns).Get(context.Background(), "orphan", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "ReplicaSet" || ref.Name != "adopt" {
		t.Fatalf("orphan's controller = %v, want ReplicaSet adopt", ref)
	}
	// Relabel it: the ReplicaSet releases it and makes a replacement.
	p.Labels = map[string]string{"app": "other"}
	if _, err := a.kube.CoreV1().Pods(ns).Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, time.Minute, "the pod to be released and replaced", func(ctx context.Context) (bool, error) {
		p, err := a.kube.CoreV1().Pods(ns).Get(ctx, "orphan", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return metav1.GetControllerOf(p) == nil && len(a.pods(t, ns)) == 3, nil
	})
}
