package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/strata-dev/strata/kubelet/simulated"
)

// appsScenario is one Deployment measurement: replicas on nodes.
type appsScenario struct{ replicas, nodes int }

// appsResult is what the apps phase measured.
type appsResult struct {
	appsScenario
	// createLatency is the mean latency of a pod create with floorClients
	// concurrent clients, measured on the same nucleus just before.
	createLatency time.Duration
	floorClients  int
	// ready is from the Deployment's create to all replicas available;
	// rolled from the template change to the rollout's completion.
	ready, rolled time.Duration
}

// floor is the theoretical minimum time to create the replicas' pods:
// replicas × one create's latency / the concurrency that latency was
// measured at.
func (r appsResult) floor() time.Duration {
	return time.Duration(int64(r.replicas) * int64(r.createLatency) / int64(r.floorClients))
}

// benchApps measures the apps layer: `strata manager --layers apps` (run as
// its own process from the same binary) against a fresh nucleus, with
// simulated nodes in this process.
func benchApps(ctx context.Context, c *config, dataDir string) (appsResult, error) {
	res := appsResult{appsScenario: c.apps, floorClients: 20}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, err := startNucleus(ctx, c.bin, dataDir)
	if err != nil {
		return res, err
	}
	defer n.stop()
	if _, err := n.waitReady(ctx, time.Minute); err != nil {
		return res, err
	}
	clients, err := newClients(n.kubeconfig(), res.floorClients+2)
	if err != nil {
		return res, err
	}
	if err := warm(ctx, clients); err != nil {
		return res, err
	}
	watcher, kubeletClient := clients[res.floorClients], clients[res.floorClients+1]

	// The floor: pod creates at floorClients concurrency, before anything
	// else runs. The pods carry a scheduling gate, so nothing acts on them.
	if res.createLatency, err = podCreateLatency(ctx, clients[:res.floorClients], min(res.replicas, 1000)); err != nil {
		return res, err
	}
	progressf("pod create: %s mean latency with %d clients; floor for %d pods %s", fmtDuration(res.createLatency), res.floorClients, res.replicas, fmtDuration(res.floor()))

	if err := installCRDs(ctx, n.kubeconfig(), c.crdDir); err != nil {
		return res, err
	}
	sim, err := simulated.New(kubeletClient, func() simulated.Config {
		cfg := simulated.DefaultConfig()
		cfg.Count = res.nodes
		return cfg
	}())
	if err != nil {
		return res, err
	}
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Run(ctx) }()
	defer func() { cancel(); <-simDone }()

	mgr, err := startManager(ctx, c.bin, n, dataDir+"-manager")
	if err != nil {
		return res, err
	}
	defer mgr.stop()

	ns := "bench-apps"
	if err := createNamespace(ctx, watcher, ns); err != nil {
		return res, err
	}
	rest := watcher.CoreV1().RESTClient()
	d := benchDeployment(int32(res.replicas))
	body, err := yaml.Marshal(d)
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := rest.Post().AbsPath("/apis/apps/v1/namespaces", ns, "deployments").SetHeader("Content-Type", "application/yaml").
		Body(body).Do(ctx).Error(); err != nil {
		return res, fmt.Errorf("creating the Deployment: %w", err)
	}
	if err := waitRolledOut(ctx, watcher, ns, d.Name, 1, res.replicas); err != nil {
		return res, err
	}
	res.ready = time.Since(start)
	progressf("Deployment of %d replicas on %d nodes: all available after %s (%s the floor)", res.replicas, res.nodes, fmtDuration(res.ready), fmtRatio(res.ready.Seconds(), res.floor().Seconds()))

	patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.10.1"}]}}}}`)
	start = time.Now()
	if err := rest.Patch(types.StrategicMergePatchType).AbsPath("/apis/apps/v1/namespaces", ns, "deployments", d.Name).
		Body(patch).Do(ctx).Error(); err != nil {
		return res, fmt.Errorf("updating the Deployment's image: %w", err)
	}
	if err := waitRolledOut(ctx, watcher, ns, d.Name, 2, res.replicas); err != nil {
		return res, err
	}
	res.rolled = time.Since(start)
	progressf("rolling update of %d replicas: complete after %s (%s the floor)", res.replicas, fmtDuration(res.rolled), fmtRatio(res.rolled.Seconds(), res.floor().Seconds()))
	return res, nil
}

func benchDeployment(replicas int32) *appsv1.Deployment {
	pod := benchPod("")
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: pod.Labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: pod.Labels}, Spec: pod.Spec},
		},
	}
}

// podCreateLatency creates count pods with the clients concurrently and
// returns the mean latency of a create.
func podCreateLatency(ctx context.Context, clients []kubernetes.Interface, count int) (time.Duration, error) {
	ns := "bench-floor"
	if err := createNamespace(ctx, clients[0], ns); err != nil {
		return 0, err
	}
	var next, total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for _, cl := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				pod := benchPod(fmt.Sprintf("floor-%05d", i))
				pod.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "strata.io/bench"}}
				start := time.Now()
				if _, err := cl.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
				total.Add(int64(time.Since(start)))
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return 0, fmt.Errorf("creating pods: %w", err)
	default:
	}
	if err := clients[0].CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		return 0, err
	}
	return time.Duration(total.Load() / int64(count)), nil
}

// waitRolledOut polls the Deployment until kubectl rollout status would call
// revision's rollout complete.
func waitRolledOut(ctx context.Context, c kubernetes.Interface, ns, name string, revision, replicas int) error {
	var last string
	lastShown := time.Now()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 15*time.Minute, true, func(ctx context.Context) (bool, error) {
		var d appsv1.Deployment
		if err := c.CoreV1().RESTClient().Get().AbsPath("/apis/apps/v1/namespaces", ns, "deployments", name).Do(ctx).Into(&d); err != nil {
			return false, nil
		}
		s := d.Status
		last = fmt.Sprintf("revision %s, %d replicas, %d updated, %d ready, %d available", d.Annotations["deployment.kubernetes.io/revision"], s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
		if time.Since(lastShown) > 2*time.Second {
			progressf("  %s", last)
			lastShown = time.Now()
		}
		return d.Annotations["deployment.kubernetes.io/revision"] == strconv.Itoa(revision) && s.ObservedGeneration >= d.Generation &&
			int(s.UpdatedReplicas) == replicas && int(s.Replicas) == replicas && int(s.AvailableReplicas) == replicas, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the rollout of revision %d (last seen: %s): %w", revision, last, err)
	}
	return nil
}

// installCRDs creates the CRDs in dir and waits until they are established.
func installCRDs(ctx context.Context, kubeconfig, dir string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		return fmt.Errorf("no CRDs in %s (run the benchmark from the repository's root, or set -crds)", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(data, crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating CRD %s: %w", crd.Name, err)
		}
		err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", crd.Name, err)
		}
	}
	return nil
}

// managerProcess is a running `strata manager`.
type managerProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startManager runs `strata manager --layers apps` outside the cluster, its
// webhooks on loopback, and waits until it is ready.
func startManager(ctx context.Context, bin string, n *nucleus, dir string) (*managerProcess, error) {
	webhookPort, err := freePort()
	if err != nil {
		return nil, err
	}
	probePort, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(dir + ".log")
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, bin, "manager", "--layers", "apps", "--kubeconfig", n.kubeconfig(),
		"--webhook-host", "127.0.0.1", "--webhook-port", strconv.Itoa(webhookPort),
		"--webhook-url", fmt.Sprintf("https://127.0.0.1:%d", webhookPort), "--cert-dir", dir,
		"--metrics-bind-address", "0", "--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", probePort))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	m := &managerProcess{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(m.exited) }()
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // local probe
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case <-m.exited:
			return false, fmt.Errorf("strata manager exited; see %s.log", dir)
		default:
		}
		resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort))
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

func (m *managerProcess) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	<-m.exited
}

// appsSection reports the apps phase.
func (r *results) appsSection(b *strings.Builder) {
	if r.apps == nil {
		return
	}
	a := r.apps
	fmt.Fprintf(b, "## Apps layer: a Deployment from create to Ready, and a rolling update\n\n")
	fmt.Fprintf(b, "A fresh `strata nucleus` (with its in-process scheduler), `strata manager --layers apps` as its own process (webhooks on loopback), and %d simulated nodes in the benchmark's process. A Deployment of %d replicas (100m cpu, 128Mi each; default strategy: 25%% surge, 25%% unavailable) is created; *all available* is until its status reports every replica available. Then its image changes; *rolled* is until the rollout is complete as `kubectl rollout status` decides. The **floor** is the time the nucleus needs just to create that many pods: replicas × the mean latency of one pod create (%s, measured on the same nucleus just before with %d concurrent clients) / %d.\n\n",
		a.nodes, a.replicas, fmtDuration(a.createLatency), a.floorClients, a.floorClients)
	fmt.Fprintf(b, "Creating the pods is a quarter of the work: each replica also costs its binding (scheduler), its status (kubelet) and a `SuccessfulCreate` event, besides the ReplicaSet and Deployment status updates, all on the same two cores as the manager and the simulated kubelets — about 4× the floor is the practical bound. A rolling update creates as many pods and deletes as many more.\n\n")
	fmt.Fprintf(b, "| Replicas | Nodes | Floor | Create → all available | Ratio to floor | Rolling update | Ratio to floor |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n\n", fmtCount(a.replicas), fmtCount(a.nodes), fmtDuration(a.floor()),
		fmtDuration(a.ready), fmtRatio(a.ready.Seconds(), a.floor().Seconds()), fmtDuration(a.rolled), fmtRatio(a.rolled.Seconds(), a.floor().Seconds()))
}
