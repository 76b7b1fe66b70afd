{{/*
The names of the layer's objects are fixed: the manager finds its webhook
configurations by the name strata-apps and points them at the Service
strata-apps-webhook (--webhook-service), so one cluster has one apps layer.
*/}}

{{/* chart is the helm.sh/chart label: name-version. */}}
{{- define "apps.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* selectorLabels select the manager pod. */}}
{{- define "apps.selectorLabels" -}}
app.kubernetes.io/name: strata-apps
app.kubernetes.io/component: manager
{{- end }}

{{/* labels go on every object of the chart. */}}
{{- define "apps.labels" -}}
app.kubernetes.io/name: strata-apps
app.kubernetes.io/part-of: strata
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "apps.chart" . }}
strata.io/layer: apps
{{- end }}

{{/* image is repository:tag, the tag defaulting to the appVersion. */}}
{{- define "apps.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
rbacEnabled is "true" when the RBAC objects are rendered: rbac.create and
either rbac.force or a cluster serving rbac.authorization.k8s.io/v1
ClusterRoles. The check names the kind because helm template, which knows no
cluster, reports every group/version client-go knows
(rbac.authorization.k8s.io/v1 included) but no kinds; a cluster's discovery
reports both. Render for a cluster with RBAC with
--api-versions rbac.authorization.k8s.io/v1/ClusterRole or --set rbac.force=true.
*/}}
{{- define "apps.rbacEnabled" -}}
{{- if and .Values.rbac.create (or .Values.rbac.force (.Capabilities.APIVersions.Has "rbac.authorization.k8s.io/v1/ClusterRole")) -}}
true
{{- end }}
{{- end }}

{{/* webhookClientConfig points a webhook at the manager's Service; the
manager adds the caBundle. Call with (dict "root" $ "path" "/...") */}}
{{- define "apps.webhookClientConfig" -}}
clientConfig:
  service:
    name: strata-apps-webhook
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 443
{{- end }}
