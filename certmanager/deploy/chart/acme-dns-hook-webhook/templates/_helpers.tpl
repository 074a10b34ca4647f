{{/* Name of the chart, or nameOverride. */}}
{{- define "webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the release's objects: the release name, with the chart's name
appended unless the release name already contains it; at most 63 characters. */}}
{{- define "webhook.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "webhook.labels" -}}
{{ include "webhook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Names of the PKI objects (cert-manager Issuers, Certificates, Secrets). */}}
{{- define "webhook.selfSignedIssuer" -}}{{ include "webhook.fullname" . }}-selfsign{{- end -}}
{{- define "webhook.rootCA" -}}{{ include "webhook.fullname" . }}-ca{{- end -}}
{{- define "webhook.servingCert" -}}{{ include "webhook.fullname" . }}-webhook-tls{{- end -}}

{{/* The namespaces whose Secrets the webhook may read. */}}
{{- define "webhook.secretNamespaces" -}}
{{- if .Values.secretNamespaces -}}
{{- toJson (uniq .Values.secretNamespaces) -}}
{{- else -}}
{{- toJson (list .Values.certManager.namespace) -}}
{{- end -}}
{{- end -}}

{{/* groupName, checked: required and a lowercase DNS name. */}}
{{- define "webhook.groupName" -}}
{{- $g := required "groupName is required: set it to the API group of the webhook (a DNS name you control), the same as solvers[].dns01.webhook.groupName in your Issuers" .Values.groupName -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$" $g) -}}
{{- fail (printf "groupName %q is not a lowercase DNS name with at least one dot (e.g. acme.example.com): fix the value groupName" $g) -}}
{{- end -}}
{{- $g -}}
{{- end -}}
