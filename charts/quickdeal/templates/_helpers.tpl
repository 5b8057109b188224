{{/*
Names and labels. Kubernetes names are at most 63 characters: every name below is truncated, and
a component's name keeps its whole suffix (the prefix is cut instead), so components never collide.
*/}}
{{- define "quickdeal.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quickdeal.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* `<fullname>-<suffix>`, at most 63 characters. Call with (dict "root" $ "suffix" "ticketing"). */}}
{{- define "quickdeal.suffixedName" -}}
{{- $prefix := include "quickdeal.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $prefix .suffix }}
{{- end }}

{{/*
Who sets the admission consumers' replicas: "keda" (a ScaledObject), "operator" (from Prometheus)
or "" (the Deployment's fixed `admission.replicas`).
*/}}
{{- define "quickdeal.admissionScaler" -}}
{{- if .Values.admission.keda.enabled }}keda
{{- else if and .Values.operator.enabled .Values.admission.scaledByOperator .Values.operator.prometheusUrl }}operator
{{- end }}
{{- end }}

{{/*
The label matchers that pick this installation's series in Prometheus: `operator.prometheusSelector`,
else the release namespace when a ServiceMonitor or PodMonitor adds that label, else none.
*/}}
{{- define "quickdeal.prometheusSelector" -}}
{{- if .Values.operator.prometheusSelector }}
{{- .Values.operator.prometheusSelector }}
{{- else if or .Values.metrics.serviceMonitor.enabled .Values.metrics.podMonitor.enabled }}
{{- printf "namespace=%q" .Release.Namespace }}
{{- end }}
{{- end }}

{{/* Whether the operator raises ticketing's HPA ahead of openings ("true" or ""). */}}
{{- define "quickdeal.ticketingRush" -}}
{{- if and .Values.operator.enabled .Values.ticketing.autoscaling.enabled (gt (int .Values.ticketing.rush.minReplicas) 0) }}true{{ end }}
{{- end }}

{{- define "quickdeal.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quickdeal.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quickdeal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "quickdeal.labels" -}}
helm.sh/chart: {{ include "quickdeal.chart" . }}
{{ include "quickdeal.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: quickdeal
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component. Call with (dict "root" $ "component" "ticketing"). */}}
{{- define "quickdeal.componentLabels" -}}
{{ include "quickdeal.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "quickdeal.componentSelectorLabels" -}}
{{ include "quickdeal.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The component's image reference: repository, then @digest or :tag. */}}
{{- define "quickdeal.image" -}}
{{- $values := index .root.Values .component }}
{{- $repository := default (printf "%s/%s" .root.Values.image.repositoryPrefix .component) $values.image.repository }}
{{- if $values.image.digest }}
{{- printf "%s@%s" $repository $values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default (default .root.Chart.AppVersion .root.Values.image.tag) $values.image.tag) }}
{{- end }}
{{- end }}

{{- define "quickdeal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- include "quickdeal.fullname" . }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "quickdeal.operatorServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- include "quickdeal.suffixedName" (dict "root" . "suffix" "operator") }}
{{- else }}
{{- required "serviceAccount.operatorName is required when serviceAccount.create is false and the operator is enabled" .Values.serviceAccount.operatorName }}
{{- end }}
{{- end }}

{{/* Secrets: the chart's own, or the user's. */}}
{{- define "quickdeal.connectionsSecretName" -}}
{{- include "quickdeal.suffixedName" (dict "root" . "suffix" "connections") }}
{{- end }}

{{- define "quickdeal.ticketKeysSecretName" -}}
{{- if .Values.ticketKeys.existingSecret }}
{{- .Values.ticketKeys.existingSecret }}
{{- else }}
{{- include "quickdeal.suffixedName" (dict "root" . "suffix" "ticket-keys") }}
{{- end }}
{{- end }}

{{/*
Where Redis is (REDIS_URL from a Secret, or REDIS_CLUSTER_NODES / REDIS_SENTINELS with the password
from a Secret) and, with (dict "root" $ "postgres" true), DATABASE_URL: a list of EnvVars.
*/}}
{{- define "quickdeal.connectionEnv" -}}
{{- $root := .root }}
{{- $own := include "quickdeal.connectionsSecretName" $root }}
{{- $redis := $root.Values.redis }}
{{- $redisSecret := dict "name" ($redis.existingSecret | default $own) "key" (ternary $redis.existingSecretKey "redis-url" (ne $redis.existingSecret "")) }}
{{- $env := list }}
{{- if eq $redis.topology "standalone" }}
{{- $env = append $env (dict "name" "REDIS_URL" "valueFrom" (dict "secretKeyRef" $redisSecret)) }}
{{- else }}
{{- if eq $redis.topology "cluster" }}
{{- $env = append $env (dict "name" "REDIS_CLUSTER_NODES" "value" (join "," $redis.clusterNodes)) }}
{{- else }}
{{- $env = append $env (dict "name" "REDIS_SENTINELS" "value" (join "," $redis.sentinels)) }}
{{- $env = append $env (dict "name" "REDIS_SENTINEL_NAME" "value" $redis.sentinelName) }}
{{- end }}
{{- if or $redis.password $redis.existingSecret }}
{{- $_ := set $redisSecret "key" (ternary $redis.existingSecretKey "redis-password" (ne $redis.existingSecret "")) }}
{{- $env = append $env (dict "name" "REDIS_PASSWORD" "valueFrom" (dict "secretKeyRef" $redisSecret)) }}
{{- end }}
{{- end }}
{{- if .postgres }}
{{- $postgres := $root.Values.postgres }}
{{- $env = append $env (dict "name" "DATABASE_URL" "valueFrom" (dict "secretKeyRef" (dict
  "name" ($postgres.existingSecret | default $own)
  "key" (ternary $postgres.existingSecretKey "database-url" (ne $postgres.existingSecret ""))))) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/* Fails the render early with a message naming the missing value. */}}
{{- define "quickdeal.validate" -}}
{{- if not .Values.kafka.brokers }}
{{- fail "kafka.brokers is required: the Kafka bootstrap brokers, host:port each" }}
{{- end }}
{{- $redis := .Values.redis }}
{{- if and (eq $redis.topology "standalone") (not (or $redis.url $redis.existingSecret)) }}
{{- fail "redis.url or redis.existingSecret is required" }}
{{- else if and (eq $redis.topology "cluster") (not $redis.clusterNodes) }}
{{- fail "redis.clusterNodes is required with redis.topology=cluster: some of the cluster's nodes, host:port each" }}
{{- else if and (eq $redis.topology "sentinel") (not (and $redis.sentinels $redis.sentinelName)) }}
{{- fail "redis.sentinels and redis.sentinelName are required with redis.topology=sentinel" }}
{{- end }}
{{- if and (ne $redis.topology "standalone") $redis.url }}
{{- fail (printf "redis.url is for redis.topology=standalone; with %s set the nodes (and redis.password) instead" $redis.topology) }}
{{- end }}
{{- if not (or .Values.postgres.url .Values.postgres.existingSecret) }}
{{- fail "postgres.url or postgres.existingSecret is required" }}
{{- end }}
{{- if not (or .Values.ticketKeys.signingKey .Values.ticketKeys.existingSecret) }}
{{- fail "ticketKeys.signingKey or ticketKeys.existingSecret is required: see docs/deploy.md for generating a key" }}
{{- end }}
{{- $identity := .Values.shopperIdentity }}
{{- if eq $identity.mode "token" }}
{{- if not (and $identity.token.jwksUrl $identity.token.issuer) }}
{{- fail "shopperIdentity.token.jwksUrl and shopperIdentity.token.issuer are required in token mode: the shop's JWKS URL and its session tokens' issuer (docs/deploy.md)" }}
{{- end }}
{{- else if not (or $identity.header.gatewayStripsHeader (and .Values.ingress.enabled $identity.header.authUrl)) }}
{{- fail "shopperIdentity.mode=header needs shopperIdentity.header.authUrl (the Ingress then sets X-User-Id from the authenticating gateway, replacing a client's copy) or header.gatewayStripsHeader=true when your own routing strips it (docs/deploy.md)" }}
{{- end }}
{{- if and .Values.admission.keda.enabled (not (or .Values.admission.keda.serverAddress .Values.operator.prometheusUrl)) }}
{{- fail "admission.keda.enabled needs the Prometheus KEDA queries: admission.keda.serverAddress or operator.prometheusUrl" }}
{{- end }}
{{- $policy := .Values.networkPolicy }}
{{- if and $policy.enabled (not $policy.ingressFrom) }}
{{- fail "networkPolicy.ingressFrom is required with networkPolicy.enabled: the peers that carry shoppers' requests to ticketing and payment (your Gateway's data plane or ingress controller), e.g. [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: gateway-system}}}]" }}
{{- end }}
{{- if and $policy.enabled (not $policy.metricsFrom) (or .Values.metrics.serviceMonitor.enabled .Values.metrics.podMonitor.enabled) }}
{{- fail "networkPolicy.metricsFrom is required with networkPolicy.enabled and a ServiceMonitor or PodMonitor, or Prometheus could not scrape: the peers Prometheus runs as, e.g. [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]" }}
{{- end }}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) }}
{{- fail "httpRoute.parentRefs is required: the Gateway(s) the public route attaches to, e.g. [{name: shop-gateway, namespace: gateway-system}] (or set httpRoute.enabled=false)" }}
{{- end }}
{{- end }}

{{/*
How ticketing and payment know the shopper (services/core/src/http/shopper-identity.ts), as EnvVars.
*/}}
{{- define "quickdeal.shopperIdentityEnv" -}}
{{- $identity := .Values.shopperIdentity }}
- name: SHOPPER_IDENTITY
  value: {{ $identity.mode | quote }}
{{- if eq $identity.mode "token" }}
- name: SHOPPER_TOKEN_JWKS_URL
  value: {{ $identity.token.jwksUrl | quote }}
- name: SHOPPER_TOKEN_ISSUER
  value: {{ $identity.token.issuer | quote }}
- name: SHOPPER_TOKEN_AUDIENCE
  value: {{ $identity.token.audience | quote }}
- name: SHOPPER_TOKEN_CLAIM
  value: {{ $identity.token.claim | quote }}
- name: SHOPPER_TOKEN_ALGORITHMS
  value: {{ $identity.token.algorithms | quote }}
{{- end }}
{{- end }}

{{/* The security contexts every pod of the chart runs with (Deployments and the migration Job): non-root, read-only, no capabilities. */}}
{{- define "quickdeal.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "quickdeal.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}

{{/*
One component's Deployment. Call with (dict "root" $ "component" "ticketing" "replicas" <int, or
nil to leave the count to an autoscaler> "env" <list of EnvVars> "volumes" <list> "volumeMounts"
<list> "serviceAccountName" <name> "automountToken" <bool>).
*/}}
{{- define "quickdeal.deployment" -}}
{{- $root := .root }}
{{- $values := index $root.Values .component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "quickdeal.suffixedName" (dict "root" $root "suffix" .component) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "quickdeal.componentLabels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- /* A rollout never takes a serving pod away before its replacement is ready, so shoppers see
  no capacity dip (and `helm install --wait` waits for every replica the Deployment asks for, not
  replicas - 25%; an autoscaled one asks for 1 until its autoscaler raises it). */}}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 25%
  selector:
    matchLabels:
      {{- include "quickdeal.componentSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "quickdeal.componentSelectorLabels" . | nindent 8 }}
        app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
        app.kubernetes.io/part-of: quickdeal
        {{- with $values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        checksum/secrets: {{ print (include (print $root.Template.BasePath "/secret-connections.yaml") $root) (include (print $root.Template.BasePath "/secret-ticket-keys.yaml") $root) | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ .serviceAccountName }}
      automountServiceAccountToken: {{ .automountToken }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ add (div $root.Values.config.shutdownGraceMs 1000) 15 }}
      securityContext:
        {{- include "quickdeal.podSecurityContext" . | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "quickdeal.image" . }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "quickdeal.fullname" $root }}
          env:
            {{- /* The component's `env` values come last and replace the chart's variable of the same name. */}}
            {{- $env := list }}
            {{- range prepend (.env | default list) (dict "name" "PORT" "value" "8080") }}
            {{- if not (hasKey $values.env .name) }}{{ $env = append $env . }}{{ end }}
            {{- end }}
            {{- range $name, $value := $values.env }}
            {{- $env = append $env (dict "name" $name "value" (toString $value)) }}
            {{- end }}
            {{- toYaml $env | nindent 12 }}
          startupProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- include "quickdeal.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with .volumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with .volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        {{- if $values.topologySpreadConstraints }}
        {{- toYaml $values.topologySpreadConstraints | nindent 8 }}
        {{- else }}
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "quickdeal.componentSelectorLabels" . | nindent 14 }}
        {{- end }}
{{- end }}
