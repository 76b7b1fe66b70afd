package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/strata-dev/strata/nucleus/options"
	"github.com/strata-dev/strata/nucleus/testenv"
)

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  resources:
  - group: ""
    resources: ["configmaps"]
- level: None
`

func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	logFile := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policyFile, []byte(auditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	e := testenv.Start(t, testenv.WithOptions(func(o *options.Options) {
		o.Admission.Audit.PolicyFile = policyFile
		o.Admission.Audit.LogOptions.Path = logFile
	}))
	kube := kubernetes.NewForConfigOrDie(e.Config)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "audited"}, Data: map[string]string{"secret-ish": "do-not-log"}}
	if _, err := kube.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	var found *auditv1.Event
	var raw []byte
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		raw, _ = os.ReadFile(logFile)
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev auditv1.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				return false, err
			}
			if ev.Verb == "create" && ev.ObjectRef != nil && ev.ObjectRef.Name == "audited" && ev.Stage == auditv1.StageResponseComplete {
				found = &ev
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no audit event for the configmap creation in\n%s", raw)
	}
	if found.Level != auditv1.LevelMetadata || found.User.Username != "strata-admin" ||
		found.ObjectRef.Resource != "configmaps" || found.ObjectRef.Namespace != "default" || found.ResponseStatus == nil || found.ResponseStatus.Code != 201 {
		t.Errorf("audit event = %+v", found)
	}
	if bytes.Contains(raw, []byte("do-not-log")) {
		t.Error("a Metadata-level audit log contains the request body")
	}
}

func TestEncryptionAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	config := `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: ["secrets"]
  providers:
  - aescbc:
      keys:
      - name: key1
        secret: ` + key + `
  - identity: {}
`
	configFile := filepath.Join(dir, "encryption.yaml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	e := testenv.Start(t, testenv.WithOptions(func(o *options.Options) {
		o.Admission.EncryptionProviderConfig = configFile
	}))
	kube := kubernetes.NewForConfigOrDie(e.Config)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, StringData: map[string]string{"password": "hunter2-plaintext"}}
	if _, err := kube.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "visible-plaintext"}}
	if _, err := kube.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	etcd, err := e.Etcd()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := etcd.Get(ctx, "/registry/secrets/default/s")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("reading the raw secret: %v, %d keys", err, len(resp.Kvs))
	}
	value := resp.Kvs[0].Value
	if !bytes.HasPrefix(value, []byte("k8s:enc:aescbc:v1:key1:")) {
		t.Errorf("stored secret starts with %q, want k8s:enc:aescbc:v1:key1:", value[:min(len(value), 32)])
	}
	if bytes.Contains(value, []byte("hunter2-plaintext")) {
		t.Error("the stored secret contains the plaintext")
	}
	// Other resources are stored as before.
	resp, err = etcd.Get(ctx, "/registry/configmaps/default/c")
	if err != nil || len(resp.Kvs) != 1 || !bytes.Contains(resp.Kvs[0].Value, []byte("visible-plaintext")) {
		t.Errorf("configmap not stored in the clear: %v", err)
	}

	got, err := kube.CoreV1().Secrets("default").Get(ctx, "s", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data["password"]) != "hunter2-plaintext" {
		t.Errorf("secret read through the API = %q", got.Data["password"])
	}
}
