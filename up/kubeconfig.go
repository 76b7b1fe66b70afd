package up

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ContextName names the cluster, the user and the context that
// --merge-kubeconfig writes into the user's kubeconfig.
const ContextName = "strata"

// DefaultKubeconfigFile is the kubeconfig --merge-kubeconfig writes, as
// kubectl would pick it: the first file of $KUBECONFIG (a list of paths,
// separated as PATH is), else ~/.kube/config.
func DefaultKubeconfigFile(kubeconfigEnv, home string) string {
	for _, f := range filepath.SplitList(kubeconfigEnv) {
		if f != "" {
			return f
		}
	}
	return filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)
}

// mergeKubeconfig returns a copy of dst holding the cluster, the user and
// the context of src's current context under name, replacing only the
// entries of that name: every other cluster, user, context, preference and
// extension of dst stays. The current context becomes name when
// switchContext is set or dst has none. src's credentials should be
// inline (clientcmdapi.FlattenConfig), since dst lives elsewhere.
func mergeKubeconfig(dst, src *clientcmdapi.Config, name string, switchContext bool) (*clientcmdapi.Config, error) {
	srcCtx, ok := src.Contexts[src.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("the cluster's kubeconfig has no current context (%q)", src.CurrentContext)
	}
	cluster, ok := src.Clusters[srcCtx.Cluster]
	if !ok {
		return nil, fmt.Errorf("the cluster's kubeconfig has no cluster %q", srcCtx.Cluster)
	}
	user, ok := src.AuthInfos[srcCtx.AuthInfo]
	if !ok {
		return nil, fmt.Errorf("the cluster's kubeconfig has no user %q", srcCtx.AuthInfo)
	}
	out := dst.DeepCopy()
	if out.Clusters == nil {
		out.Clusters = map[string]*clientcmdapi.Cluster{}
	}
	if out.AuthInfos == nil {
		out.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
	}
	if out.Contexts == nil {
		out.Contexts = map[string]*clientcmdapi.Context{}
	}
	out.Clusters[name] = cluster.DeepCopy()
	out.AuthInfos[name] = user.DeepCopy()
	ctx := srcCtx.DeepCopy()
	ctx.Cluster, ctx.AuthInfo = name, name
	out.Contexts[name] = ctx
	// LocationOfOrigin says which file an entry was read from; these come
	// from src but now belong to dst's file.
	for _, e := range []*string{&out.Clusters[name].LocationOfOrigin, &out.AuthInfos[name].LocationOfOrigin, &out.Contexts[name].LocationOfOrigin} {
		*e = ""
	}
	if switchContext || out.CurrentContext == "" {
		out.CurrentContext = name
	}
	return out, nil
}

// MergeKubeconfigFile merges the cluster of the admin kubeconfig into the
// kubeconfig file under name (see mergeKubeconfig), creating the file if
// need be, with the credentials inline. It returns the file's current
// context.
func MergeKubeconfigFile(file, admin, name string, switchContext bool) (string, error) {
	src, err := clientcmd.LoadFromFile(admin)
	if err != nil {
		return "", fmt.Errorf("reading the cluster's kubeconfig: %w", err)
	}
	if err := clientcmdapi.FlattenConfig(src); err != nil {
		return "", fmt.Errorf("inlining the credentials of %s: %w", admin, err)
	}
	dst := clientcmdapi.NewConfig()
	if _, err := os.Stat(file); err == nil {
		if dst, err = clientcmd.LoadFromFile(file); err != nil {
			return "", fmt.Errorf("reading %s, which --merge-kubeconfig would merge into: %w", file, err)
		}
	}
	merged, err := mergeKubeconfig(dst, src, name, switchContext)
	if err != nil {
		return "", err
	}
	if err := clientcmd.WriteToFile(*merged, file); err != nil {
		return "", fmt.Errorf("writing %s: %w", file, err)
	}
	return merged.CurrentContext, nil
}
