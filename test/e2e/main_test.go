/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dev/strata/kubelet/node"
)

// The cluster every test talks to, started by TestMain.
var cluster *nucleus

// Binaries and where they are looked for when STRATA_BIN and KUBECTL_BIN
// are not set: the repository's bin/, relative to this package.
var (
	strataBin  = binary("STRATA_BIN", "../../bin/strata")
	kubectlBin = binary("KUBECTL_BIN", "../../bin/kubectl")
)

const (
	readyTimeout    = 90 * time.Second
	shutdownTimeout = 30 * time.Second
	artifactsDir    = "_artifacts"
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	for _, b := range []string{strataBin, kubectlBin} {
		if _, err := os.Stat(b); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s is missing: run `make build kubectl` first (or `make test-e2e`, which builds both)\n", b)
			return 1
		}
	}
	var err error
	cluster, err = startNucleus()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if cluster != nil {
			cluster.printLogTail(os.Stderr)
			cluster.stop()
		}
		return 1
	}
	code := m.Run()
	if err := cluster.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: stopping the nucleus: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		cluster.printLogTail(os.Stderr)
	} else {
		os.RemoveAll(cluster.dataDir)
	}
	return code
}

// nucleus is a running `strata nucleus` process.
type nucleus struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	dataDir string
	port    int
	logPath string
	// home is the HOME of every kubectl run: a fresh discovery cache.
	home string
}

func (n *nucleus) kubeconfig() string { return filepath.Join(n.dataDir, "admin.kubeconfig") }

// startNucleus runs bin/strata nucleus on a free port with a new data dir
// and waits until /readyz answers ok.
func startNucleus() (*nucleus, error) {
	dataDir, err := os.MkdirTemp("", "strata-e2e-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return launchNucleus(dataDir, port, "nucleus.log")
}

// launchNucleus runs bin/strata nucleus on dataDir and port, logging to
// logName in the artifacts directory (appending, so restarts keep the
// earlier runs' lines), and waits until it is ready.
func launchNucleus(dataDir string, port int, logName string, extraArgs ...string) (*nucleus, error) {
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		return nil, err
	}
	logPath, _ := filepath.Abs(filepath.Join(artifactsDir, logName))
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	n := &nucleus{dataDir: dataDir, port: port, logPath: logPath, home: filepath.Join(dataDir, "home"), exited: make(chan struct{})}
	if err := os.MkdirAll(n.home, 0o700); err != nil {
		return nil, err
	}
	// Pods of the real node reach the API at the node's address through
	// the kubernetes Service, as in a cluster.
	n.cmd = exec.Command(strataBin, append([]string{"nucleus",
		"--data-dir", dataDir,
		"--bind-address", "0.0.0.0",
		"--advertise-address", nodeIP(),
		"--secure-port", strconv.Itoa(port)}, extraArgs...)...)
	n.cmd.Stdout = logFile
	n.cmd.Stderr = logFile
	fmt.Printf("e2e: starting %s on port %d, data in %s, log in %s\n", strataBin, port, dataDir, logPath)
	start := time.Now()
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", strataBin, err)
	}
	go func() {
		_ = n.cmd.Wait()
		logFile.Close()
		close(n.exited)
	}()
	if err := n.waitReady(); err != nil {
		return n, err
	}
	fmt.Printf("e2e: the nucleus is ready after %s\n", time.Since(start).Round(100*time.Millisecond))
	return n, nil
}

// kill ends the nucleus with SIGKILL, as a crash would.
func (n *nucleus) kill() {
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// waitReady polls /readyz with the cluster CA until it answers ok.
func (n *nucleus) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	url := fmt.Sprintf("https://127.0.0.1:%d/readyz", n.port)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return fmt.Errorf("the nucleus exited before it was ready (%v)", n.cmd.ProcessState)
		case <-time.After(250 * time.Millisecond):
		}
		client, err := n.httpClient()
		if err != nil {
			last = err.Error() // the PKI is not written yet
			continue
		}
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok" {
			return nil
		}
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
	}
	return fmt.Errorf("the nucleus was not ready within %s; last /readyz answer: %s", readyTimeout, last)
}

func (n *nucleus) httpClient() (*http.Client, error) {
	ca, err := os.ReadFile(filepath.Join(n.dataDir, "pki", "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("no certificate in ca.crt")
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}, nil
}

// stop terminates the nucleus as Ctrl-C would and waits for it.
func (n *nucleus) stop() error {
	select {
	case <-n.exited:
		return nil
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		return nil
	case <-time.After(shutdownTimeout):
		_ = n.cmd.Process.Kill()
		<-n.exited
		return fmt.Errorf("the nucleus did not stop within %s of SIGTERM", shutdownTimeout)
	}
}

func (n *nucleus) printLogTail(w io.Writer) {
	data, err := os.ReadFile(n.logPath)
	if err != nil {
		return
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	fmt.Fprintf(w, "e2e: last lines of %s:\n%s\n", n.logPath, bytes.Join(lines, []byte("\n")))
}

func binary(env, def string) string {
	p := os.Getenv(env)
	if p == "" {
		p = def
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// nodeIP is this machine's address as a kubelet would find it (127.0.0.1
// on a machine with only loopback).
func nodeIP() string {
	ips, _ := node.DetectNodeIPs(context.Background(), "e2e", "e2e")
	return ips[0]
}
