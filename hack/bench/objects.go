package main

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
)

// kind is a resource the benchmark drives through the typed clientset.
type kind struct {
	// name is the kind as the report shows it.
	name string
	// create stores a new object named name in ns with labels.
	create func(ctx context.Context, c kubernetes.Interface, ns, name string, labels map[string]string) error
	// get reads one object.
	get func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error)
	// list returns how many objects ns holds.
	list func(ctx context.Context, c kubernetes.Interface, ns string) (int, error)
	// watch watches the objects of ns matching a label selector.
	watch func(ctx context.Context, c kubernetes.Interface, ns, selector string) (watch.Interface, error)
}

// configMapData is the payload of every ConfigMap: 1 KiB of text.
var configMapData = map[string]string{"payload": strings.Repeat("strata-benchmark-", 64)[:1024]}

var configMaps = kind{
	name: "ConfigMap",
	create: func(ctx context.Context, c kubernetes.Interface, ns, name string, labels map[string]string) error {
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Data:       configMapData,
		}
		_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
		return err
	},
	get: func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error) {
		return c.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	},
	list: func(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
		l, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	},
	watch: func(ctx context.Context, c kubernetes.Interface, ns, selector string) (watch.Interface, error) {
		return c.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{LabelSelector: selector})
	},
}

// pods are minimal valid Pods: one container with a name and an image.
var pods = kind{
	name: "Pod",
	create: func(ctx context.Context, c kubernetes.Interface, ns, name string, labels map[string]string) error {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}},
			},
		}
		_, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		return err
	},
	get: func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error) {
		return c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	},
	list: func(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	},
	watch: func(ctx context.Context, c kubernetes.Interface, ns, selector string) (watch.Interface, error) {
		return c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: selector})
	},
}

// served reports whether the nucleus serves k: listing a resource it does not
// serve is a 404, listing an empty namespace of one it serves is not.
func (k kind) served(ctx context.Context, c kubernetes.Interface) (bool, error) {
	_, err := k.list(ctx, c, metav1.NamespaceDefault)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("listing %ss: %w", k.name, err)
	}
}

// createNamespace creates ns and its default ServiceAccount, which Pods
// refer to when the ServiceAccount admission plugin checks them.
func createNamespace(ctx context.Context, c kubernetes.Interface, ns string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating ServiceAccount %s/default: %w", ns, err)
	}
	return nil
}

// encodedSize is the size of obj in the protobuf encoding the nucleus stores
// in etcd, to compare with the etcd floor's value size.
func encodedSize(obj runtime.Object) (int, error) {
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		return 0, fmt.Errorf("no protobuf serializer")
	}
	var b strings.Builder
	gvks, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return 0, err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	if err := info.Serializer.Encode(obj, &b); err != nil {
		return 0, err
	}
	return b.Len(), nil
}
