package integration

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/strata-dev/strata/apis/scheme"
	"github.com/strata-dev/strata/kubelet/simulated"
	"github.com/strata-dev/strata/manager"
	_ "github.com/strata-dev/strata/manager/layers"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// appsCluster is a nucleus with the apps layer: its CRDs, `strata manager
// --layers apps` in process (webhooks served on loopback, the configurations
// pointing at a URL, as `make run` does) and ten simulated nodes. The
// scheduler runs in the nucleus. Tests share it (appsEnv) and use their own
// namespaces.
type appsCluster struct {
	env    *testenv.Env
	client ctrlclient.Client // direct, with the layers' scheme
	kube   kubernetes.Interface
	opts   manager.Options

	mu        sync.Mutex
	stopMgr   context.CancelFunc
	mgrDone   chan error
	stopNodes context.CancelFunc
	nodesDone chan struct{}
}

var apps struct {
	once    sync.Once
	cluster *appsCluster
	err     error
}

// appsEnv returns the shared apps cluster, starting it on first use.
func appsEnv(t testing.TB) *appsCluster {
	t.Helper()
	apps.once.Do(func() { apps.cluster, apps.err = startAppsCluster() })
	if apps.err != nil {
		t.Fatalf("starting the apps cluster: %v", apps.err)
	}
	return apps.cluster
}

// stopAppsCluster stops the shared apps cluster if a test started it.
func stopAppsCluster() {
	if apps.cluster != nil {
		apps.cluster.stop()
	}
}

func startAppsCluster() (_ *appsCluster, err error) {
	ctx := context.Background()
	e, err := testenv.New(ctx, "")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.Stop()
		}
	}()
	if err := installCRDs(ctx, e.Config, "../../config/crd/bases"); err != nil {
		return nil, err
	}
	jsonConfig := rest.CopyConfig(e.Config)
	jsonConfig.ContentType, jsonConfig.AcceptContentTypes = "application/json", "application/json"
	cl, err := ctrlclient.NewWithWatch(jsonConfig, ctrlclient.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		return nil, err
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	certDir, err := os.MkdirTemp("", "strata-apps-certs-")
	if err != nil {
		return nil, err
	}
	o := manager.Defaults()
	o.MetricsBindAddress, o.HealthProbeBindAddress = "0", "0"
	o.WebhookHost, o.WebhookPort = "127.0.0.1", port
	o.WebhookURL = fmt.Sprintf("https://127.0.0.1:%d", port)
	o.CertDir = certDir
	o.SkipControllerNameValidation = true // the tests restart it
	a := &appsCluster{env: e, client: cl, kube: kube, opts: o}
	if err := a.startManager(); err != nil {
		return nil, err
	}
	cfg := simulated.DefaultConfig()
	cfg.Count, cfg.NamePrefix, cfg.RenewInterval = 10, "apps-", time.Second
	sim, err := simulated.New(kube, cfg)
	if err != nil {
		return nil, err
	}
	nodeCtx, cancel := context.WithCancel(ctx)
	a.stopNodes, a.nodesDone = cancel, make(chan struct{})
	go func() { defer close(a.nodesDone); _ = sim.Run(nodeCtx) }()
	return a, nil
}

// startManager starts the apps layer's manager and waits until its webhooks
// answer.
func (a *appsCluster) startManager() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopMgr != nil {
		return errors.New("manager already running")
	}
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(ctx, a.env.Config, a.opts)
	if err != nil {
		cancel()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	a.stopMgr, a.mgrDone = cancel, done
	// The webhook server answers once it listens.
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", a.opts.WebhookPort),
			&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only probes that the server is up
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	})
}

// stopManager stops the manager, as a crash of its pod would.
func (a *appsCluster) stopManager() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopMgr == nil {
		return
	}
	a.stopMgr()
	<-a.mgrDone
	a.stopMgr = nil
}

func (a *appsCluster) stop() {
	a.stopManager()
	a.stopNodes()
	<-a.nodesDone
	a.env.Stop()
}

// installCRDs creates the CRDs of dir and waits until they are served.
func installCRDs(ctx context.Context, cfg *rest.Config, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s: %v", dir, err)
	}
	client, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating CRD %s: %w", crd.Name, err)
		}
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == apiextensionsv1.Established {
					return c.Status == apiextensionsv1.ConditionTrue, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for CRD %s to be established: %w", crd.Name, err)
		}
	}
	return nil
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newNamespace creates a namespace in the apps cluster for one test.
func (a *appsCluster) newNamespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps-" + rand.String(8)}}
	if _, err := a.kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns.Name, err)
	}
	return ns.Name
}
