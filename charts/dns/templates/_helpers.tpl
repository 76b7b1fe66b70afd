{{/*
The names of the chart's objects are upstream's (kubeadm's CoreDNS add-on):
the Service kube-dns, the ServiceAccount, ConfigMap and workload coredns,
the ClusterRole and ClusterRoleBinding system:coredns. Its fixed cluster IP
makes one cluster DNS per cluster.
*/}}

{{/* chart is the helm.sh/chart label: name-version. */}}
{{- define "dns.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* selectorLabels select the CoreDNS pods (upstream's k8s-app: kube-dns). */}}
{{- define "dns.selectorLabels" -}}
k8s-app: kube-dns
{{- end }}

{{/* labels go on every object of the chart. */}}
{{- define "dns.labels" -}}
app.kubernetes.io/name: coredns
app.kubernetes.io/part-of: strata
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "dns.chart" . }}
strata.io/addon: dns
{{- end }}

{{/* image is repository:tag, the tag defaulting to the appVersion. */}}
{{- define "dns.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
rbacEnabled is "true" when the RBAC objects are rendered: rbac.create and
either rbac.force or a cluster serving rbac.authorization.k8s.io/v1
ClusterRoles (see charts/apps: helm template reports groups but no kinds).
*/}}
{{- define "dns.rbacEnabled" -}}
{{- if and .Values.rbac.create (or .Values.rbac.force (.Capabilities.APIVersions.Has "rbac.authorization.k8s.io/v1/ClusterRole")) -}}
true
{{- end }}
{{- end }}

{{/*
workload is Deployment or Pod: the value, or for "auto" a Deployment when
the cluster serves apps/v1 Deployments (Strata's apps layer), else a Pod.
*/}}
{{- define "dns.workload" -}}
{{- if eq .Values.workload "auto" -}}
{{- if .Capabilities.APIVersions.Has "apps/v1/Deployment" -}}
Deployment
{{- else -}}
Pod
{{- end -}}
{{- else -}}
{{- .Values.workload -}}
{{- end -}}
{{- end }}

{{/* corefile is the Corefile: corefile, or the one generated from the values. */}}
{{- define "dns.corefile" -}}
{{- if .Values.corefile -}}
{{- .Values.corefile -}}
{{- else -}}
.:{{ .Values.ports.dns }} {
    errors
    {{- if eq .Values.logLevel "queries" }}
    log
    {{- end }}
    health :{{ .Values.ports.health }} {
        lameduck 5s
    }
    ready :{{ .Values.ports.ready }}
    kubernetes {{ .Values.clusterDomain }} in-addr.arpa ip6.arpa {
        pods {{ .Values.pods }}
        fallthrough in-addr.arpa ip6.arpa
        ttl {{ .Values.ttl }}
        {{- with .Values.extraKubernetesConfig }}
        {{- . | trim | nindent 8 }}
        {{- end }}
    }
    prometheus :{{ .Values.ports.metrics }}
    {{- with .Values.upstreams }}
    forward . {{ join " " . }} {
        max_concurrent 1000
    }
    {{- end }}
    {{- if gt (int .Values.cacheSeconds) 0 }}
    cache {{ .Values.cacheSeconds }} {
        disable success {{ .Values.clusterDomain }}
        disable denial {{ .Values.clusterDomain }}
    }
    {{- end }}
    loop
    reload
    loadbalance
    {{- with .Values.extraConfig }}
    {{- . | trim | nindent 4 }}
    {{- end }}
}
{{- end }}
{{- end }}

{{/* podSpec is the spec of the CoreDNS pods. */}}
{{- define "dns.podSpec" -}}
serviceAccountName: coredns
# The node's resolver: CoreDNS forwards other names to it, and must not ask
# itself.
dnsPolicy: Default
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  seccompProfile:
    type: RuntimeDefault
containers:
  - name: coredns
    image: {{ include "dns.image" . | quote }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args:
      - -conf
      - /etc/coredns/Corefile
    ports:
      - name: dns
        containerPort: {{ .Values.ports.dns }}
        protocol: UDP
      - name: dns-tcp
        containerPort: {{ .Values.ports.dns }}
        protocol: TCP
      - name: metrics
        containerPort: {{ .Values.ports.metrics }}
        protocol: TCP
    livenessProbe:
      httpGet:
        path: /health
        port: {{ .Values.ports.health }}
      initialDelaySeconds: 60
      timeoutSeconds: 5
      successThreshold: 1
      failureThreshold: 5
    readinessProbe:
      httpGet:
        path: /ready
        port: {{ .Values.ports.ready }}
    {{- with .Values.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        add:
          - NET_BIND_SERVICE
        drop:
          - ALL
    volumeMounts:
      - name: config-volume
        mountPath: /etc/coredns
        readOnly: true
volumes:
  - name: config-volume
    configMap:
      name: coredns
      items:
        - key: Corefile
          path: Corefile
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
