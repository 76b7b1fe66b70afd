package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"
)

// gettingStartedDir holds the manifests of docs/getting-started.md.
const gettingStartedDir = "../../docs/getting-started"

// walkGettingStarted does what docs/getting-started.md tells a reader to do,
// on the cluster k reaches: it applies docs/getting-started/ (the db tier
// and the web tier) into a namespace of its own, waits for both rollouts,
// and fetches the web tier's page from this host through the node port of
// the Service web on nodeAddr. The page must carry what only the db tier
// knows (its greeting, its pod's name, a visit count that grows). Then it
// scales web to 3 replicas and waits until all three answer through the
// node port.
//
// The cluster must run the apps layer (Deployments), the service proxy and
// cluster DNS (the web tier finds the db tier by the name `db`).
func walkGettingStarted(t *testing.T, k kubectl, nodeAddr string) {
	t.Helper()
	ns := "getting-started-" + rand.String(5)
	k.run(t, "create", "namespace", ns)
	t.Cleanup(func() {
		// Not a failure of the walk: the caller may have stopped the cluster.
		if _, errOut, err := k.try(t, "delete", "namespace", ns, "--wait=false"); err != nil {
			t.Logf("Deleting namespace %s: %v: %s", ns, err, errOut)
		}
	})
	in := func(args ...string) string { t.Helper(); return k.run(t, append([]string{"-n", ns}, args...)...) }

	mustContain(t, in("apply", "-f", gettingStartedDir),
		"configmap/db created", "deployment.apps/db created", "service/db created",
		"configmap/web created", "deployment.apps/web created", "service/web created")
	mustContain(t, in("rollout", "status", "deployment/db", "--timeout=120s"), `deployment "db" successfully rolled out`)
	mustContain(t, in("rollout", "status", "deployment/web", "--timeout=120s"), `deployment "web" successfully rolled out`)

	// The db tier's protocol, from a web pod, by the Service's DNS name.
	mustContain(t, in("exec", "deploy/web", "--", "sh", "-c", "echo 'GET greeting' | nc db 7000"), "Hello from the db tier")

	nodePort := in("get", "service", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")
	if n, err := strconv.Atoi(nodePort); err != nil || n < 30000 || n > 32767 {
		t.Fatalf("service web has node port %q, want one of 30000-32767", nodePort)
	}
	dbPod := in("get", "pods", "-l", "app=db", "-o", "jsonpath={.items[*].metadata.name}")
	webPods := func() []string {
		return strings.Fields(in("get", "pods", "-l", "app=web", "--field-selector", "status.phase=Running",
			"-o", "jsonpath={.items[*].metadata.name}"))
	}
	url := "http://" + net.JoinHostPort(nodeAddr, nodePort) + "/cgi-bin/page"
	t.Logf("$ wget -qO- %s", url)

	// The first answers may come before the proxy has the node port's rules.
	var first page
	waitUntil(t, "the page through the node port", 60*time.Second, func() (bool, string) {
		p, err := getPage(url)
		first = p
		return err == nil, fmt.Sprint(err)
	})
	if first["greeting"] != "Hello from the db tier" {
		t.Errorf("greeting = %q, want the db tier's %q", first["greeting"], "Hello from the db tier")
	}
	if first["db pod"] != dbPod {
		t.Errorf("db pod = %q, want %q, the pod of deployment db", first["db pod"], dbPod)
	}
	if pods := webPods(); !slices.Contains(pods, first["web pod"]) || len(pods) != 2 {
		t.Errorf("web pod = %q, want one of the 2 pods of deployment web: %v", first["web pod"], pods)
	}
	second, err := getPage(url)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := atoi(first["visits"]), atoi(second["visits"]); a < 1 || b != a+1 {
		t.Errorf("visits went from %q to %q, want a count the db tier keeps, one more each time", first["visits"], second["visits"])
	}

	mustContain(t, in("scale", "deployment/web", "--replicas=3"), "deployment.apps/web scaled")
	mustContain(t, in("rollout", "status", "deployment/web", "--timeout=120s"), `deployment "web" successfully rolled out`)
	pods := webPods()
	if len(pods) != 3 {
		t.Fatalf("deployment web runs %d pods after scaling to 3: %v", len(pods), pods)
	}
	seen := map[string]int{}
	waitUntil(t, "all three web pods to answer through the node port", 60*time.Second, func() (bool, string) {
		p, err := getPage(url)
		if err != nil {
			return false, err.Error()
		}
		if p["db pod"] != dbPod {
			t.Errorf("web pod %s: db pod = %q, want %q", p["web pod"], p["db pod"], dbPod)
		}
		seen[p["web pod"]]++
		for _, pod := range pods {
			if seen[pod] == 0 {
				return false, fmt.Sprintf("answers by pod: %v", seen)
			}
		}
		return len(seen) == 3, fmt.Sprintf("answers by pod: %v", seen)
	})
}

// page is the web tier's page, by line label: "web pod", "db pod",
// "greeting", "visits".
type page map[string]string

// getPage fetches the web tier's page and parses its "label: value" lines.
func getPage(url string) (page, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	p := page{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		label, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("GET %s: a line without a label: %q in\n%s", url, line, body)
		}
		p[label] = strings.TrimSpace(value)
	}
	for _, label := range []string{"web pod", "db pod", "greeting", "visits"} {
		if p[label] == "" {
			return nil, fmt.Errorf("GET %s: no %q in the page:\n%s", url, label, body)
		}
	}
	return p, nil
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
