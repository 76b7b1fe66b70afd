package pods

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// EnvSource resolves a container's environment: its env and envFrom, with
// valueFrom references and $(VAR) references expanded. An error leaves the
// container waiting with CreateContainerConfigError.
type EnvSource interface {
	Env(ctx context.Context, pod *corev1.Pod, container *corev1.Container, podIPs []string) ([]EnvVar, error)
}

// EnvVar is one resolved environment variable.
type EnvVar struct {
	Name, Value string
}

// ObjectGetter reads the ConfigMaps and Secrets that environments refer
// to (a lister, a cache or a client). A missing object is an error worded
// as upstream's kubelet words it (see NotFound).
type ObjectGetter interface {
	GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// NotFound words a NotFound error from the API as upstream's kubelet
// does, whose object managers name the resource in the singular
// (`configmap "app" not found`, `secret "db" not found`): the message users
// see in events and container statuses. Other errors are returned as they
// are.
func NotFound(err error, resource, name string) error {
	if apierrors.IsNotFound(err) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
	}
	return err
}

// Environment is the EnvSource of upstream's makeEnvironmentVariables:
// literal values, envFrom ConfigMaps and Secrets, and valueFrom fieldRef,
// resourceFieldRef, configMapKeyRef and secretKeyRef.
type Environment struct {
	// Objects reads ConfigMaps and Secrets; without it references to them
	// fail (or are skipped when optional).
	Objects ObjectGetter
	// ServiceEnv returns the service variables a pod gets
	// (<SVC>_SERVICE_HOST …): those of the services of its namespace when
	// its enableServiceLinks is unset or true, and always those of the
	// API server's `kubernetes` Service. They come first and can be
	// overridden. podenv.Services implements it.
	ServiceEnv func(ctx context.Context, pod *corev1.Pod) (map[string]string, error)
	// NodeName and HostIPs answer fieldRefs to spec.nodeName and
	// status.hostIP(s).
	NodeName string
	HostIPs  []string
	// NodeAllocatable answers resourceFieldRefs to limits a container does
	// not set.
	NodeAllocatable corev1.ResourceList
}

// Env implements EnvSource.
func (e *Environment) Env(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIPs []string) ([]EnvVar, error) {
	env := newOrderedEnv()
	if e.ServiceEnv != nil {
		vars, err := e.ServiceEnv(ctx, pod)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			env.set(k, vars[k])
		}
	}

	configMaps := map[string]*corev1.ConfigMap{}
	secrets := map[string]*corev1.Secret{}
	getConfigMap := func(name string) (*corev1.ConfigMap, error) {
		if cm, ok := configMaps[name]; ok {
			return cm, nil
		}
		if e.Objects == nil {
			return nil, fmt.Errorf("couldn't get configMap %s/%s, no kubeClient defined", pod.Namespace, name)
		}
		cm, err := e.Objects.GetConfigMap(ctx, pod.Namespace, name)
		if err != nil {
			return nil, err
		}
		configMaps[name] = cm
		return cm, nil
	}
	getSecret := func(name string) (*corev1.Secret, error) {
		if s, ok := secrets[name]; ok {
			return s, nil
		}
		if e.Objects == nil {
			return nil, fmt.Errorf("couldn't get secret %s/%s, no kubeClient defined", pod.Namespace, name)
		}
		s, err := e.Objects.GetSecret(ctx, pod.Namespace, name)
		if err != nil {
			return nil, err
		}
		secrets[name] = s
		return s, nil
	}

	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, err := getConfigMap(from.ConfigMapRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(from.ConfigMapRef.Optional) {
					continue
				}
				return nil, err
			}
			for _, k := range sortedKeys(cm.Data) {
				env.set(from.Prefix+k, cm.Data[k])
			}
		case from.SecretRef != nil:
			s, err := getSecret(from.SecretRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(from.SecretRef.Optional) {
					continue
				}
				return nil, err
			}
			for _, k := range sortedKeys(s.Data) {
				env.set(from.Prefix+k, string(s.Data[k]))
			}
		}
	}

	for _, v := range c.Env {
		value := v.Value
		if v.ValueFrom == nil {
			value = Expand(value, env.lookup)
			env.set(v.Name, value)
			continue
		}
		switch from := v.ValueFrom; {
		case from.FieldRef != nil:
			val, err := e.fieldValue(pod, from.FieldRef.FieldPath, podIPs)
			if err != nil {
				return nil, err
			}
			value = val
		case from.ResourceFieldRef != nil:
			val, err := e.resourceValue(pod, c, from.ResourceFieldRef)
			if err != nil {
				return nil, err
			}
			value = val
		case from.ConfigMapKeyRef != nil:
			ref := from.ConfigMapKeyRef
			cm, err := getConfigMap(ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(ref.Optional) {
					continue
				}
				return nil, err
			}
			val, ok := cm.Data[ref.Key]
			if !ok {
				if isOptional(ref.Optional) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
			}
			value = val
		case from.SecretKeyRef != nil:
			ref := from.SecretKeyRef
			s, err := getSecret(ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && isOptional(ref.Optional) {
					continue
				}
				return nil, err
			}
			val, ok := s.Data[ref.Key]
			if !ok {
				if isOptional(ref.Optional) {
					continue
				}
				return nil, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
			}
			value = string(val)
		default:
			return nil, fmt.Errorf("environment variable %s: unsupported valueFrom", v.Name)
		}
		env.set(v.Name, value)
	}
	return env.list(), nil
}

// fieldValue answers a downward API fieldRef.
func (e *Environment) fieldValue(pod *corev1.Pod, path string, podIPs []string) (string, error) {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		if pod.Spec.NodeName != "" {
			return pod.Spec.NodeName, nil
		}
		return e.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		if len(e.HostIPs) > 0 {
			return e.HostIPs[0], nil
		}
		return "", nil
	case "status.hostIPs":
		return strings.Join(e.HostIPs, ","), nil
	case "status.podIP":
		if pod.Spec.HostNetwork && len(podIPs) == 0 && len(e.HostIPs) > 0 {
			return e.HostIPs[0], nil
		}
		if len(podIPs) > 0 {
			return podIPs[0], nil
		}
		return "", nil
	case "status.podIPs":
		if pod.Spec.HostNetwork && len(podIPs) == 0 {
			return strings.Join(e.HostIPs, ","), nil
		}
		return strings.Join(podIPs, ","), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %s", path)
}

// resourceValue answers a downward API resourceFieldRef: the container's
// request or limit in units of the divisor, rounded up; a limit the
// container does not set is the node's allocatable.
func (e *Environment) resourceValue(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	if ref.ContainerName != "" {
		found := false
		for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for i := range list {
				if list[i].Name == ref.ContainerName {
					c, found = &list[i], true
				}
			}
		}
		if !found {
			return "", fmt.Errorf("container %s not found", ref.ContainerName)
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported container resource: %v", ref.Resource)
	}
	resourceName := corev1.ResourceName(name)
	var q resource.Quantity
	var set bool
	if kind == "limits" {
		q, set = c.Resources.Limits[resourceName]
		if !set {
			q, set = e.NodeAllocatable[resourceName]
		}
	} else {
		q, set = c.Resources.Requests[resourceName]
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if !set {
		return "0", nil
	}
	if resourceName == corev1.ResourceCPU {
		return fmt.Sprint(int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))), nil
	}
	return fmt.Sprint(int64(math.Ceil(float64(q.Value()) / float64(divisor.Value())))), nil
}

// subscript parses `prefix['key']`.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

func isOptional(b *bool) bool { return b != nil && *b }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// orderedEnv keeps variables in the order they were first defined; a
// later definition replaces the value.
type orderedEnv struct {
	names  []string
	values map[string]string
}

func newOrderedEnv() *orderedEnv { return &orderedEnv{values: map[string]string{}} }

func (o *orderedEnv) set(name, value string) {
	if _, ok := o.values[name]; !ok {
		o.names = append(o.names, name)
	}
	o.values[name] = value
}

func (o *orderedEnv) lookup(name string) (string, bool) {
	v, ok := o.values[name]
	return v, ok
}

func (o *orderedEnv) list() []EnvVar {
	list := make([]EnvVar, len(o.names))
	for i, n := range o.names {
		list[i] = EnvVar{Name: n, Value: o.values[n]}
	}
	return list
}

// Expand replaces $(VAR) in s with VAR's value when lookup knows it and
// leaves it as is otherwise; $$ is a literal $. This is how Kubernetes
// expands env values, command and args.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// expandCommand expands $(VAR) in a container's command and args with its
// environment.
func expandCommand(c *corev1.Container, env []EnvVar) (command, args []string) {
	values := make(map[string]string, len(env))
	for _, e := range env {
		values[e.Name] = e.Value
	}
	lookup := func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	}
	for _, s := range c.Command {
		command = append(command, Expand(s, lookup))
	}
	for _, s := range c.Args {
		args = append(args, Expand(s, lookup))
	}
	return command, args
}
