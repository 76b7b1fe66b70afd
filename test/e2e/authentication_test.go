/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// asToken runs kubectl presenting only a bearer token.
func asToken(t *testing.T, token string, args ...string) (string, string, error) {
	t.Helper()
	server := "https://127.0.0.1:" + strconv.Itoa(cluster.port)
	ca := filepath.Join(cluster.dataDir, "pki", "ca.crt")
	return kubectl{}.try(t, append([]string{"--kubeconfig=/dev/null", "--server=" + server, "--certificate-authority=" + ca, "--token=" + token}, args...)...)
}

func TestAuthWhoAmI(t *testing.T) {
	out := run(t, "auth", "whoami")
	mustContain(t, out, "strata-admin", "system:masters")

	// A kubeconfig minted by `strata kubeconfig`.
	kc := filepath.Join(t.TempDir(), "jane.kubeconfig")
	cmd := exec.CommandContext(context.Background(), strataBin, "kubeconfig", "--data-dir", cluster.dataDir, "--user", "jane", "--group", "dev", "--out", kc)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strata kubeconfig: %v\n%s", err, b)
	}
	out = run(t, "--kubeconfig", kc, "auth", "whoami")
	mustContain(t, out, "jane", "[dev system:authenticated]")
}

func TestCreateToken(t *testing.T) {
	ns := createNamespace(t, "e2e-token")
	run(t, "create", "serviceaccount", "builder", "-n", ns)
	token := strings.TrimSpace(run(t, "create", "token", "builder", "-n", ns))

	out, errOut, err := asToken(t, token, "auth", "whoami")
	if err != nil {
		t.Fatalf("kubectl auth whoami with the token: %v\n%s", err, errOut)
	}
	mustContain(t, out, "system:serviceaccount:"+ns+":builder", "system:serviceaccounts:"+ns, "authentication.kubernetes.io/credential-id")

	errOut = kubectl{}.runFails(t, "create", "token", "builder", "-n", ns, "--duration=5m")
	mustContain(t, errOut, "spec.expirationSeconds", "may not specify a duration less than 10 minutes")

	// A token for another audience is not accepted by the API.
	other := strings.TrimSpace(run(t, "create", "token", "builder", "-n", ns, "--audience=vault"))
	if _, errOut, err := asToken(t, other, "auth", "whoami"); err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Errorf("whoami with a token for audience vault: %v %s; want Unauthorized", err, errOut)
	}
}
