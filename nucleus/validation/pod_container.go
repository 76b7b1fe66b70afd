package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	pullPolicies       = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}
	terminationPolices = []corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}
	protocols          = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
	containerRestarts  = []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways, corev1.ContainerRestartPolicyNever, corev1.ContainerRestartPolicyOnFailure}
)

// validateContainers checks the init or app containers of spec. names
// collects the container names seen so far (they are unique across init,
// app and ephemeral containers); volumes holds the names of the pod's
// volumes.
func validateContainers(containers []corev1.Container, init bool, spec *corev1.PodSpec, volumes, names sets.Set[string], fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range containers {
		c := &containers[i]
		p := fldPath.Index(i)
		errs = append(errs, validateContainerCommon(c, spec, volumes, names, p)...)
		errs = append(errs, validateContainerRestartPolicy(c, init, p.Child("restartPolicy"))...)
		errs = append(errs, validateContainerProbes(c, init && !restartable(c), p)...)
	}
	return errs
}

// validateContainerCommon checks what every kind of container (init, app,
// ephemeral) has: a unique name, an image, policies, ports, environment,
// volume mounts and resources. It adds the container's name to names.
func validateContainerCommon(c *corev1.Container, spec *corev1.PodSpec, volumes, names sets.Set[string], p *field.Path) field.ErrorList {
	errs := validateUniqueLabel(p.Child("name"), c.Name, names)
	names.Insert(c.Name)
	switch {
	case c.Image == "":
		errs = append(errs, field.Required(p.Child("image"), ""))
	case c.Image != strings.TrimSpace(c.Image):
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, enum(c.ImagePullPolicy, pullPolicies, p.Child("imagePullPolicy"))...)
	errs = append(errs, enum(c.TerminationMessagePolicy, terminationPolices, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validatePorts(c.Ports, spec.HostNetwork, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	errs = append(errs, ValidateResourceRequirements(&c.Resources, p.Child("resources"))...)
	return errs
}

// restartable reports whether c is a sidecar: an init container that
// keeps running alongside the app containers.
func restartable(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func validateContainerRestartPolicy(c *corev1.Container, init bool, fldPath *field.Path) field.ErrorList {
	switch {
	case c.RestartPolicy == nil:
		return nil
	case init && *c.RestartPolicy != corev1.ContainerRestartPolicyAlways:
		return field.ErrorList{field.NotSupported(fldPath, *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways})}
	case !contains(containerRestarts, *c.RestartPolicy):
		return field.ErrorList{field.NotSupported(fldPath, *c.RestartPolicy, containerRestarts)}
	}
	return nil
}

// validateContainerProbes checks the probes and lifecycle hooks of a
// container; plain (run-to-completion) init containers may have none.
func validateContainerProbes(c *corev1.Container, plainInit bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if plainInit {
		const msg = "may not be set for init containers without restartPolicy=Always"
		if c.LivenessProbe != nil {
			errs = append(errs, field.Forbidden(fldPath.Child("livenessProbe"), msg))
		}
		if c.ReadinessProbe != nil {
			errs = append(errs, field.Forbidden(fldPath.Child("readinessProbe"), msg))
		}
		if c.StartupProbe != nil {
			errs = append(errs, field.Forbidden(fldPath.Child("startupProbe"), msg))
		}
		if c.Lifecycle != nil {
			errs = append(errs, field.Forbidden(fldPath.Child("lifecycle"), msg))
		}
		return errs
	}
	errs = append(errs, validateProbe(c.LivenessProbe, true, fldPath.Child("livenessProbe"))...)
	errs = append(errs, validateProbe(c.StartupProbe, true, fldPath.Child("startupProbe"))...)
	errs = append(errs, validateProbe(c.ReadinessProbe, false, fldPath.Child("readinessProbe"))...)
	if c.ReadinessProbe != nil && c.ReadinessProbe.TerminationGracePeriodSeconds != nil {
		errs = append(errs, field.Invalid(fldPath.Child("readinessProbe", "terminationGracePeriodSeconds"), *c.ReadinessProbe.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
	}
	if l := c.Lifecycle; l != nil {
		errs = append(errs, validateLifecycleHandler(l.PostStart, fldPath.Child("lifecycle", "postStart"))...)
		errs = append(errs, validateLifecycleHandler(l.PreStop, fldPath.Child("lifecycle", "preStop"))...)
	}
	return errs
}

// validateProbe checks a probe: exactly one handler and sane numbers.
// Liveness and startup probes must succeed once to count as passed.
func validateProbe(probe *corev1.Probe, singleSuccess bool, fldPath *field.Path) field.ErrorList {
	if probe == nil {
		return nil
	}
	h := &probe.ProbeHandler
	errs := validateHandlers(fldPath, []handler{
		{"exec", h.Exec != nil, func(p *field.Path) field.ErrorList { return validateExec(h.Exec, p) }},
		{"httpGet", h.HTTPGet != nil, func(p *field.Path) field.ErrorList { return validateHTTPGet(h.HTTPGet, p) }},
		{"tcpSocket", h.TCPSocket != nil, func(p *field.Path) field.ErrorList { return validatePortNumOrName(h.TCPSocket.Port, p.Child("port")) }},
		{"grpc", h.GRPC != nil, func(p *field.Path) field.ErrorList {
			return messages(p.Child("port"), h.GRPC.Port, validation.IsValidPortNum(int(h.GRPC.Port)))
		}},
	})
	for _, f := range []struct {
		name  string
		value int32
	}{
		{"initialDelaySeconds", probe.InitialDelaySeconds},
		{"timeoutSeconds", probe.TimeoutSeconds},
		{"periodSeconds", probe.PeriodSeconds},
		{"successThreshold", probe.SuccessThreshold},
		{"failureThreshold", probe.FailureThreshold},
	} {
		errs = append(errs, genericvalidation.ValidateNonnegativeField(int64(f.value), fldPath.Child(f.name))...)
	}
	if singleSuccess && probe.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(fldPath.Child("successThreshold"), probe.SuccessThreshold, "must be 1"))
	}
	if g := probe.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(fldPath.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

func validateLifecycleHandler(l *corev1.LifecycleHandler, fldPath *field.Path) field.ErrorList {
	if l == nil {
		return nil
	}
	return validateHandlers(fldPath, []handler{
		{"exec", l.Exec != nil, func(p *field.Path) field.ErrorList { return validateExec(l.Exec, p) }},
		{"httpGet", l.HTTPGet != nil, func(p *field.Path) field.ErrorList { return validateHTTPGet(l.HTTPGet, p) }},
		{"tcpSocket", l.TCPSocket != nil, func(p *field.Path) field.ErrorList { return validatePortNumOrName(l.TCPSocket.Port, p.Child("port")) }},
		{"sleep", l.Sleep != nil, func(p *field.Path) field.ErrorList {
			return genericvalidation.ValidateNonnegativeField(l.Sleep.Seconds, p.Child("seconds"))
		}},
	})
}

// handler is one of the mutually exclusive actions of a probe or hook.
type handler struct {
	name     string
	set      bool
	validate func(*field.Path) field.ErrorList
}

// validateHandlers requires exactly one of handlers to be set and checks it.
func validateHandlers(fldPath *field.Path, handlers []handler) field.ErrorList {
	var errs field.ErrorList
	n := 0
	for _, h := range handlers {
		if !h.set {
			continue
		}
		if n++; n > 1 {
			errs = append(errs, field.Forbidden(fldPath.Child(h.name), "may not specify more than 1 handler type"))
			continue
		}
		errs = append(errs, h.validate(fldPath.Child(h.name))...)
	}
	if n == 0 {
		errs = append(errs, field.Required(fldPath, "must specify a handler type"))
	}
	return errs
}

func validateExec(e *corev1.ExecAction, fldPath *field.Path) field.ErrorList {
	if len(e.Command) == 0 {
		return field.ErrorList{field.Required(fldPath.Child("command"), "")}
	}
	return nil
}

var uriSchemes = []corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}

func validateHTTPGet(h *corev1.HTTPGetAction, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	}
	errs = append(errs, validatePortNumOrName(h.Port, fldPath.Child("port"))...)
	if !contains(uriSchemes, h.Scheme) {
		errs = append(errs, field.NotSupported(fldPath.Child("scheme"), h.Scheme, uriSchemes))
	}
	for i, header := range h.HTTPHeaders {
		errs = append(errs, messages(fldPath.Child("httpHeaders").Index(i).Child("name"), header.Name, validation.IsHTTPHeaderName(header.Name))...)
	}
	return errs
}

// validatePortNumOrName checks a port given as a number or a port name.
func validatePortNumOrName(port intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	if port.Type == intstr.String {
		return messages(fldPath, port.StrVal, validation.IsValidPortName(port.StrVal))
	}
	return messages(fldPath, port.IntVal, validation.IsValidPortNum(int(port.IntVal)))
}

func validatePorts(ports []corev1.ContainerPort, hostNetwork bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		p := fldPath.Index(i)
		if port.Name != "" {
			errs = append(errs, messages(p.Child("name"), port.Name, validation.IsValidPortName(port.Name))...)
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(p.Child("containerPort"), ""))
		} else {
			errs = append(errs, messages(p.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, messages(p.Child("hostPort"), port.HostPort, validation.IsValidPortNum(int(port.HostPort)))...)
			if hostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(p.Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
			}
		}
		errs = append(errs, enum(port.Protocol, protocols, p.Child("protocol"))...)
	}
	return errs
}

func validateEnv(vars []corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range vars {
		p := fldPath.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			errs = append(errs, messages(p.Child("name"), ev.Name, validation.IsRelaxedEnvVarName(ev.Name))...)
		}
		errs = append(errs, validateEnvVarSource(ev, p.Child("valueFrom"))...)
	}
	return errs
}

func validateEnvVarSource(ev corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	s := ev.ValueFrom
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	n := 0
	if s.FieldRef != nil {
		n++
		if s.FieldRef.FieldPath == "" {
			errs = append(errs, field.Required(fldPath.Child("fieldRef", "fieldPath"), ""))
		}
	}
	if s.ResourceFieldRef != nil {
		n++
		if s.ResourceFieldRef.Resource == "" {
			errs = append(errs, field.Required(fldPath.Child("resourceFieldRef", "resource"), ""))
		}
	}
	if s.ConfigMapKeyRef != nil {
		n++
		errs = append(errs, requiredKeyRef(s.ConfigMapKeyRef.Name, s.ConfigMapKeyRef.Key, fldPath.Child("configMapKeyRef"))...)
	}
	if s.SecretKeyRef != nil {
		n++
		errs = append(errs, requiredKeyRef(s.SecretKeyRef.Name, s.SecretKeyRef.Key, fldPath.Child("secretKeyRef"))...)
	}
	if s.FileKeyRef != nil {
		n++
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(fldPath, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case n > 1:
		errs = append(errs, field.Invalid(fldPath, "", "may not have more than one field specified at a time"))
	case ev.Value != "":
		errs = append(errs, field.Invalid(fldPath, "", "may not be specified when `value` is not empty"))
	}
	return errs
}

func requiredKeyRef(name, key string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fldPath.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(fldPath.Child("key"), ""))
	} else {
		errs = append(errs, messages(fldPath.Child("key"), key, validation.IsConfigMapKey(key))...)
	}
	return errs
}

func validateEnvFrom(sources []corev1.EnvFromSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range sources {
		p := fldPath.Index(i)
		if s.Prefix != "" {
			errs = append(errs, messages(p.Child("prefix"), s.Prefix, validation.IsRelaxedEnvVarName(s.Prefix))...)
		}
		n := 0
		if s.ConfigMapRef != nil {
			n++
			if s.ConfigMapRef.Name == "" {
				errs = append(errs, field.Required(p.Child("configMapRef", "name"), ""))
			}
		}
		if s.SecretRef != nil {
			n++
			if s.SecretRef.Name == "" {
				errs = append(errs, field.Required(p.Child("secretRef", "name"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateVolumeMounts(mounts []corev1.VolumeMount, volumes sets.Set[string], fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		p := fldPath.Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case !volumes.Has(m.Name):
			errs = append(errs, field.NotFound(p.Child("name"), m.Name))
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, field.Required(p.Child("mountPath"), ""))
		case paths.Has(m.MountPath):
			errs = append(errs, field.Invalid(p.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
		if m.SubPath != "" {
			errs = append(errs, validateLocalDescendingPath(m.SubPath, p.Child("subPath"))...)
		}
		if m.SubPath != "" && m.SubPathExpr != "" {
			errs = append(errs, field.Invalid(p.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
		}
	}
	return errs
}

// validateLocalDescendingPath requires a relative path that stays below
// its base directory.
func validateLocalDescendingPath(path string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(path, "/") {
		errs = append(errs, field.Invalid(fldPath, path, "must be a relative path"))
	}
	for _, part := range strings.Split(strings.ReplaceAll(path, `\`, "/"), "/") {
		if part == ".." {
			errs = append(errs, field.Invalid(fldPath, path, "must not contain '..'"))
			break
		}
	}
	return errs
}

// enum checks a required field with a fixed set of values.
func enum[T ~string](value T, supported []T, fldPath *field.Path) field.ErrorList {
	switch {
	case value == "":
		return field.ErrorList{field.Required(fldPath, "")}
	case !contains(supported, value):
		return field.ErrorList{field.NotSupported(fldPath, value, supported)}
	}
	return nil
}
