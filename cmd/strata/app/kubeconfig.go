package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/strata-dev/strata/nucleus/pki"
)

type kubeconfigOptions struct {
	dataDir string
	user    string
	groups  []string
	server  string
	out     string
}

func newKubeconfigCommand() *cobra.Command {
	o := &kubeconfigOptions{dataDir: "/var/lib/strata"}
	cmd := &cobra.Command{
		Use:   "kubeconfig --user NAME [--group GROUP]...",
		Short: "Write a kubeconfig with a client certificate signed by the nucleus' CA",
		Long: `Write a kubeconfig for a user: a new client certificate (CN = user,
O = groups) signed by the CA in <data-dir>/pki, trusting that CA. The nucleus
authenticates it as that user and those groups; what the user may do is up to
the authorizer.`,
		Example: `  strata kubeconfig --data-dir /var/lib/strata --user jane --group dev --out jane.kubeconfig`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := o.run()
			if err != nil {
				return err
			}
			if o.out == "" || o.out == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := os.WriteFile(o.out, data, 0o600); err != nil {
				return fmt.Errorf("writing %s: %w", o.out, err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dataDir, "data-dir", o.dataDir, "Data directory of the nucleus, holding the CA in pki/.")
	fs.StringVar(&o.user, "user", o.user, "User name (certificate CN).")
	fs.StringArrayVar(&o.groups, "group", o.groups, "Group (certificate O); repeat for several.")
	fs.StringVar(&o.server, "server", o.server, "API server URL. Default: the one in <data-dir>/admin.kubeconfig.")
	fs.StringVarP(&o.out, "out", "o", o.out, "File to write (mode 0600). Default: standard output.")
	return cmd
}

// run builds the kubeconfig.
func (o *kubeconfigOptions) run() ([]byte, error) {
	if o.user == "" {
		return nil, errors.New("--user is required")
	}
	dir := pki.Dir(filepath.Join(o.dataDir, "pki"))
	ca, err := dir.LoadCA()
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no CA in %s: start `strata nucleus --data-dir %s` first", dir, o.dataDir)
	}
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(dir.CACertFile())
	if err != nil {
		return nil, err
	}
	server := o.server
	if server == "" {
		admin, err := clientcmd.LoadFromFile(filepath.Join(o.dataDir, "admin.kubeconfig"))
		if err != nil {
			return nil, fmt.Errorf("no --server given and cannot read it from the admin kubeconfig: %w", err)
		}
		for _, c := range admin.Clusters {
			server = c.Server
		}
		if server == "" {
			return nil, fmt.Errorf("no --server given and none in %s", filepath.Join(o.dataDir, "admin.kubeconfig"))
		}
	}
	certPEM, keyPEM, err := ca.IssueClientCert(o.user, o.groups)
	if err != nil {
		return nil, err
	}
	const name = "strata"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[o.user] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	contextName := o.user + "@" + name
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: name, AuthInfo: o.user}
	cfg.CurrentContext = contextName
	return clientcmd.Write(*cfg)
}
