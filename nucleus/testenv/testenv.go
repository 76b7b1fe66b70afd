// Package testenv runs a complete Strata nucleus in process, for tests of the
// nucleus itself and of third-party layers built on it.
//
// An Env is a real API server with its own embedded etcd, TLS and admin
// credentials, on free loopback ports and a temporary data directory. Nothing
// is downloaded and no external binary is needed. Start waits until /readyz
// answers 200, so the server is fully usable when it returns:
//
//	func TestMyController(t *testing.T) {
//		env := testenv.Start(t)
//		client := kubernetes.NewForConfigOrDie(env.Config)
//		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"}}
//		if _, err := client.CoreV1().ConfigMaps("default").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
//			t.Fatal(err)
//		}
//	}
//
// Starting a nucleus takes a few seconds, so a test package usually shares
// one Env, started in TestMain with New:
//
//	var env *testenv.Env
//
//	func TestMain(m *testing.M) {
//		var err error
//		env, err = testenv.New(context.Background(), "")
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		code := m.Run()
//		env.Stop()
//		os.Exit(code)
//	}
//
// Restart stops the server and starts it again on the same data directory and
// port, which is what persistence tests need; Env.Config stays valid.
//
// The nucleus logs through klog, which is process global. testenv keeps those
// logs out of the test output (they are attached to startup errors instead);
// WithLogs, or the environment variable STRATA_TESTENV_LOGS=1, shows them.
// While an Env runs, a klog.Fatal inside the server (for example a failing
// post-start hook) fails the Env's startup with the fatal message instead of
// exiting the test binary.
package testenv

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/strata-dev/strata/nucleus"
	"github.com/strata-dev/strata/nucleus/etcd"
	"github.com/strata-dev/strata/nucleus/options"
	"github.com/strata-dev/strata/nucleus/pki"
)

// DefaultStartTimeout bounds how long New and Start wait for /readyz.
const DefaultStartTimeout = 3 * time.Minute

// Env is a running nucleus.
type Env struct {
	// Config authenticates as the cluster admin (group system:masters).
	// It stays valid across Restart.
	Config *rest.Config
	// DataDir holds etcd's data, the PKI and admin.kubeconfig.
	DataDir string
	// URL is the server's https URL.
	URL string
	// EtcdURL is the client URL of the embedded etcd member; see Etcd.
	// It changes on Restart.
	EtcdURL string

	settings settings
	port     int

	mu      sync.Mutex
	running *instance
}

// instance is one run of the nucleus and its etcd member.
type instance struct {
	cancel context.CancelFunc
	// done receives nucleus.Run's result, then is closed.
	done   chan error
	member *etcd.Embedded
	fatal  chan string
}

type settings struct {
	logs         io.Writer
	startTimeout time.Duration
	configure    []func(*options.Options)
}

// Option customizes an Env.
type Option func(*settings)

// WithLogs copies the server's logs (klog) to w, e.g. os.Stderr.
func WithLogs(w io.Writer) Option {
	return func(s *settings) { s.logs = w }
}

// WithStartTimeout changes how long startup may take (DefaultStartTimeout).
func WithStartTimeout(d time.Duration) Option {
	return func(s *settings) { s.startTimeout = d }
}

// WithOptions lets f adjust the nucleus options before each start. DataDir,
// SecurePort, BindAddress, AdvertiseAddress and EtcdServers are testenv's and
// are set after f runs.
func WithOptions(f func(*options.Options)) Option {
	return func(s *settings) { s.configure = append(s.configure, f) }
}

// Start runs a nucleus in a temporary directory for the duration of the test
// and stops it when the test ends. It fails the test if the server does not
// become ready.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	env, err := New(t.Context(), t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	// Registered after TempDir's cleanup, so it runs before it.
	t.Cleanup(env.Stop)
	return env
}

// New runs a nucleus storing its data in dataDir (a new temporary directory
// if empty; it is not removed by Stop) and returns once /readyz answers 200.
// The server runs until Stop; ctx only bounds the startup.
func New(ctx context.Context, dataDir string, opts ...Option) (*Env, error) {
	e := &Env{settings: settings{startTimeout: DefaultStartTimeout}}
	if os.Getenv("STRATA_TESTENV_LOGS") != "" {
		e.settings.logs = os.Stderr
	}
	for _, o := range opts {
		o(&e.settings)
	}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "strata-testenv-")
		if err != nil {
			return nil, err
		}
		dataDir = dir
	}
	e.DataDir = dataDir
	setupLogging(e.settings.logs)

	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if e.port, err = freePort(); err != nil {
			return nil, err
		}
		err = e.start(ctx)
		if err == nil || !isAddrInUse(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Stop shuts the server down gracefully and waits until it and its etcd
// member have stopped, so that the data directory can be reused. Calling it
// again does nothing.
func (e *Env) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopLocked()
}

// Restart stops the server and starts it again on the same data directory
// and port. Config keeps working; EtcdURL changes.
func (e *Env) Restart() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopLocked()
	ctx, cancel := context.WithTimeout(context.Background(), e.settings.startTimeout)
	defer cancel()
	var err error
	// The port was just released; another process grabbing it in between
	// is unlikely but possible.
	for attempt := 0; attempt < 3; attempt++ {
		if err = e.startLocked(ctx); err == nil || !isAddrInUse(err) {
			break
		}
		time.Sleep(time.Second)
	}
	return err
}

// Etcd returns a client of the embedded etcd member, e.g. to compact its
// history. The caller closes it.
func (e *Env) Etcd() (*clientv3.Client, error) {
	e.mu.Lock()
	url := e.EtcdURL
	e.mu.Unlock()
	return clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 10 * time.Second})
}

func (e *Env) start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, e.settings.startTimeout)
	defer cancel()
	return e.startLocked(ctx)
}

// startLocked starts etcd and the nucleus and waits for readiness. On error
// everything it started is stopped again.
func (e *Env) startLocked(ctx context.Context) (err error) {
	member, err := etcd.Start(ctx, e.DataDir)
	if err != nil {
		return err
	}
	o := options.NewOptions()
	// As `strata up` runs it: watches end when a shutdown starts, so a
	// restart takes seconds rather than the 60s request timeout during
	// which no node could renew its lease.
	o.ShutdownWatchTerminationGracePeriod = 5 * time.Second
	for _, f := range e.settings.configure {
		f(o)
	}
	o.DataDir = e.DataDir
	o.BindAddress = "127.0.0.1"
	o.AdvertiseAddress = "127.0.0.1"
	o.SecurePort = e.port
	o.EtcdServers = []string{member.ClientURL}

	runCtx, cancel := context.WithCancel(context.Background())
	inst := &instance{cancel: cancel, done: make(chan error, 1), member: member, fatal: make(chan string, 1)}
	ready := make(chan struct{})
	registerFatalSink(inst.fatal)
	go func() {
		err := nucleus.Run(runCtx, o, ready)
		inst.done <- err
		close(inst.done)
	}()
	e.running = inst
	e.EtcdURL = member.ClientURL
	defer func() {
		if err != nil {
			e.stopLocked()
		}
	}()

	select {
	case <-ready:
	case err := <-inst.done:
		return fmt.Errorf("nucleus exited during startup: %w%s", err, logTail())
	case msg := <-inst.fatal:
		return fmt.Errorf("nucleus failed during startup: %s%s", msg, logTail())
	case <-ctx.Done():
		return fmt.Errorf("nucleus did not start: %w%s", ctx.Err(), logTail())
	}

	if e.Config == nil {
		cfg, err := clientcmd.BuildConfigFromFlags("", o.AdminKubeconfig())
		if err != nil {
			return fmt.Errorf("loading %s: %w", o.AdminKubeconfig(), err)
		}
		cfg.QPS = 1000
		cfg.Burst = 2000
		e.Config = cfg
		e.URL = cfg.Host
	}
	return e.waitReady(ctx, inst)
}

// waitReady polls /readyz until it answers 200, the server fails or ctx ends.
func (e *Env) waitReady(ctx context.Context, inst *instance) error {
	client, err := rest.HTTPClientFor(e.Config)
	if err != nil {
		return err
	}
	client.Timeout = 10 * time.Second
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	last := "no answer yet"
	for {
		status, body, err := get(ctx, client, e.URL+"/readyz?verbose")
		switch {
		case err != nil:
			last = err.Error()
		case status == http.StatusOK:
			return nil
		default:
			last = fmt.Sprintf("HTTP %d:\n%s", status, failedChecks(body))
		}
		select {
		case <-ticker.C:
		case err := <-inst.done:
			return fmt.Errorf("nucleus exited before it was ready: %v%s", err, logTail())
		case msg := <-inst.fatal:
			return fmt.Errorf("nucleus failed before it was ready: %s%s", msg, logTail())
		case <-ctx.Done():
			return fmt.Errorf("nucleus not ready: %w; last /readyz: %s%s", ctx.Err(), last, logTail())
		}
	}
}

func (e *Env) stopLocked() {
	inst := e.running
	if inst == nil {
		return
	}
	e.running = nil
	inst.cancel()
	// Run returns once the server has shut down; done is closed after that.
	select {
	case <-inst.done:
	case <-time.After(2 * time.Minute):
		fmt.Fprintf(os.Stderr, "testenv: the nucleus did not stop within 2 minutes%s\n", logTail())
	}
	unregisterFatalSink(inst.fatal)
	inst.member.Close()
}

func get(ctx context.Context, client *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// failedChecks keeps the failing lines of a verbose /readyz answer.
func failedChecks(body string) string {
	var failed []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "[-]") {
			failed = append(failed, l)
		}
	}
	if len(failed) == 0 {
		return body
	}
	return strings.Join(failed, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// UserConfig returns a client configuration that authenticates as user in
// groups with a client certificate signed by the cluster CA, and no other
// credential. Unlike Config it carries no privileges of its own: what the
// user may do is up to the authorizers.
func (e *Env) UserConfig(user string, groups ...string) (*rest.Config, error) {
	dir := pki.Dir(filepath.Join(e.DataDir, "pki"))
	ca, err := dir.EnsureCA()
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("testenv-user-%x", sha256.Sum256([]byte(user+"\x00"+strings.Join(groups, "\x00"))))
	if err := dir.WriteClientCert(ca, name, user, groups); err != nil {
		return nil, err
	}
	return e.AnonymousConfig(func(c *rest.Config) {
		c.CertFile = dir.CertFile(name)
		c.KeyFile = dir.KeyFile(name)
	}), nil
}

// AnonymousConfig returns a client configuration that trusts the server but
// presents no credential, adjusted by each of with (e.g. to add a bearer
// token).
func (e *Env) AnonymousConfig(with ...func(*rest.Config)) *rest.Config {
	c := rest.AnonymousClientConfig(e.Config)
	c.QPS, c.Burst = e.Config.QPS, e.Config.Burst
	for _, f := range with {
		f(c)
	}
	return c
}
