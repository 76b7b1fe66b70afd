package scheme

import (
	"net/url"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
)

// registerQueryParameterConversions lets the parameter codec decode the
// query of the pod and node subresources (pods/log, pods/exec, …,
// nodes/proxy) into their options, parameter by parameter as upstream's
// generated conversions do: the first value of a scalar, every value of a
// list, ports split at commas.
func registerQueryParameterConversions(s *runtime.Scheme) error {
	add := func(out runtime.Object, fn func(in url.Values, out interface{}) error) error {
		return s.AddConversionFunc((*url.Values)(nil), out, func(a, b interface{}, _ conversion.Scope) error {
			return fn(*(a.(*url.Values)), b)
		})
	}
	for _, c := range []struct {
		out runtime.Object
		fn  func(url.Values, interface{}) error
	}{
		{&corev1.PodLogOptions{}, func(in url.Values, out interface{}) error { return podLogOptions(in, out.(*corev1.PodLogOptions)) }},
		{&corev1.PodExecOptions{}, func(in url.Values, out interface{}) error { return podExecOptions(in, out.(*corev1.PodExecOptions)) }},
		{&corev1.PodAttachOptions{}, func(in url.Values, out interface{}) error {
			return podAttachOptions(in, out.(*corev1.PodAttachOptions))
		}},
		{&corev1.PodPortForwardOptions{}, func(in url.Values, out interface{}) error {
			return podPortForwardOptions(in, out.(*corev1.PodPortForwardOptions))
		}},
		{&corev1.PodProxyOptions{}, func(in url.Values, out interface{}) error {
			return str(in, "path", &out.(*corev1.PodProxyOptions).Path)
		}},
		{&corev1.NodeProxyOptions{}, func(in url.Values, out interface{}) error {
			return str(in, "path", &out.(*corev1.NodeProxyOptions).Path)
		}},
		{&corev1.ServiceProxyOptions{}, func(in url.Values, out interface{}) error {
			return str(in, "path", &out.(*corev1.ServiceProxyOptions).Path)
		}},
	} {
		if err := add(c.out, c.fn); err != nil {
			return err
		}
	}
	return nil
}

func podLogOptions(in url.Values, out *corev1.PodLogOptions) error {
	return first(
		str(in, "container", &out.Container),
		boolean(in, "follow", &out.Follow),
		boolean(in, "previous", &out.Previous),
		int64Ptr(in, "sinceSeconds", &out.SinceSeconds),
		timePtr(in, "sinceTime", &out.SinceTime),
		boolean(in, "timestamps", &out.Timestamps),
		int64Ptr(in, "tailLines", &out.TailLines),
		int64Ptr(in, "limitBytes", &out.LimitBytes),
		boolean(in, "insecureSkipTLSVerifyBackend", &out.InsecureSkipTLSVerifyBackend),
		strPtr(in, "stream", &out.Stream),
	)
}

func podExecOptions(in url.Values, out *corev1.PodExecOptions) error {
	if values, ok := in["command"]; ok {
		out.Command = append([]string(nil), values...)
	}
	return first(
		boolean(in, "stdin", &out.Stdin),
		boolean(in, "stdout", &out.Stdout),
		boolean(in, "stderr", &out.Stderr),
		boolean(in, "tty", &out.TTY),
		str(in, "container", &out.Container),
	)
}

func podAttachOptions(in url.Values, out *corev1.PodAttachOptions) error {
	return first(
		boolean(in, "stdin", &out.Stdin),
		boolean(in, "stdout", &out.Stdout),
		boolean(in, "stderr", &out.Stderr),
		boolean(in, "tty", &out.TTY),
		str(in, "container", &out.Container),
	)
}

func podPortForwardOptions(in url.Values, out *corev1.PodPortForwardOptions) error {
	if values, ok := in["ports"]; ok {
		return metav1.Convert_Slice_string_To_Slice_int32(&values, &out.Ports, nil)
	}
	return nil
}

// The helpers below leave a field alone when its parameter is absent.

func str(in url.Values, key string, out *string) error {
	if values, ok := in[key]; ok {
		return runtime.Convert_Slice_string_To_string(&values, out, nil)
	}
	return nil
}

func strPtr(in url.Values, key string, out **string) error {
	if values, ok := in[key]; ok && len(values) > 0 {
		v := values[0]
		*out = &v
	}
	return nil
}

func boolean(in url.Values, key string, out *bool) error {
	if values, ok := in[key]; ok {
		return runtime.Convert_Slice_string_To_bool(&values, out, nil)
	}
	return nil
}

func int64Ptr(in url.Values, key string, out **int64) error {
	if values, ok := in[key]; ok {
		return runtime.Convert_Slice_string_To_Pointer_int64(&values, out, nil)
	}
	return nil
}

func timePtr(in url.Values, key string, out **metav1.Time) error {
	if values, ok := in[key]; ok {
		return metav1.Convert_Slice_string_To_Pointer_v1_Time(&values, out, nil)
	}
	return nil
}

func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
