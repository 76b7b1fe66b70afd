// Package podenv feeds the environment of the kubelet's containers
// (pods.Environment): an ObjectGetter reading the ConfigMaps and Secrets
// that env and envFrom refer to, and the Service variables
// (<SVC>_SERVICE_HOST, <SVC>_PORT_<port>_TCP …) from an informer on all
// Services, as upstream's kubelet computes them.
package podenv

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strata-dev/strata/kubelet/pods"
)

// MasterServiceName is the Service of the API server in the default
// namespace, whose variables every pod gets.
const MasterServiceName = "kubernetes"

// ServiceEnv picks the services whose variables a pod of namespace gets,
// as upstream's getServiceEnvVarMap: the services of the namespace when
// enableServiceLinks, and always the `kubernetes` Service of the default
// namespace (a Service of that name in the pod's own namespace wins).
// Services without a cluster IP (headless, ExternalName) have none.
func ServiceEnv(services []*corev1.Service, namespace string, enableServiceLinks bool) map[string]string {
	picked := map[string]*corev1.Service{}
	for _, svc := range services {
		if !hasClusterIP(svc) {
			continue
		}
		switch {
		case svc.Namespace == metav1.NamespaceDefault && svc.Name == MasterServiceName:
			if _, ok := picked[svc.Name]; !ok {
				picked[svc.Name] = svc
			}
		case svc.Namespace == namespace && enableServiceLinks:
			picked[svc.Name] = svc
		}
	}
	list := make([]*corev1.Service, 0, len(picked))
	for _, svc := range picked {
		list = append(list, svc)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	vars := map[string]string{}
	for _, v := range FromServices(list) {
		vars[v.Name] = v.Value
	}
	return vars
}

// FromServices returns the variables of services in order, as upstream's
// envvars.FromServices: for each Service with a cluster IP,
// <SVC>_SERVICE_HOST, <SVC>_SERVICE_PORT (its first port),
// <SVC>_SERVICE_PORT_<PORTNAME> for each named port, then Docker's link
// variables <SVC>_PORT (the first port's URL) and, per port,
// <SVC>_PORT_<port>_<PROTO> with its _PROTO, _PORT and _ADDR.
func FromServices(services []*corev1.Service) []pods.EnvVar {
	var vars []pods.EnvVar
	for _, svc := range services {
		if !hasClusterIP(svc) || len(svc.Spec.Ports) == 0 {
			continue
		}
		prefix := envName(svc.Name)
		vars = append(vars,
			pods.EnvVar{Name: prefix + "_SERVICE_HOST", Value: svc.Spec.ClusterIP},
			pods.EnvVar{Name: prefix + "_SERVICE_PORT", Value: strconv.Itoa(int(svc.Spec.Ports[0].Port))})
		for _, p := range svc.Spec.Ports {
			if p.Name != "" {
				vars = append(vars, pods.EnvVar{Name: prefix + "_SERVICE_PORT_" + envName(p.Name), Value: strconv.Itoa(int(p.Port))})
			}
		}
		vars = append(vars, linkVariables(prefix, svc)...)
	}
	return vars
}

// linkVariables are Docker's link variables of a Service.
func linkVariables(prefix string, svc *corev1.Service) []pods.EnvVar {
	var vars []pods.EnvVar
	for i, p := range svc.Spec.Ports {
		protocol := string(corev1.ProtocolTCP)
		if p.Protocol != "" {
			protocol = string(p.Protocol)
		}
		port := strconv.Itoa(int(p.Port))
		url := fmt.Sprintf("%s://%s", strings.ToLower(protocol), net.JoinHostPort(svc.Spec.ClusterIP, port))
		if i == 0 {
			vars = append(vars, pods.EnvVar{Name: prefix + "_PORT", Value: url})
		}
		portPrefix := fmt.Sprintf("%s_PORT_%d_%s", prefix, p.Port, strings.ToUpper(protocol))
		vars = append(vars,
			pods.EnvVar{Name: portPrefix, Value: url},
			pods.EnvVar{Name: portPrefix + "_PROTO", Value: strings.ToLower(protocol)},
			pods.EnvVar{Name: portPrefix + "_PORT", Value: port},
			pods.EnvVar{Name: portPrefix + "_ADDR", Value: svc.Spec.ClusterIP})
	}
	return vars
}

// envName makes a Service or port name a variable name: upper case, with
// dashes as underscores.
func envName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

// hasClusterIP tells whether a Service has a virtual IP: not headless
// ("None") and not ExternalName (none at all).
func hasClusterIP(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone
}
