/**
 * A real Kubernetes control plane on loopback for the operator's and the chart's tests: etcd,
 * kube-apiserver and kube-controller-manager, and with `withNodes` kube-scheduler plus kwok with
 * one fake Node, so Deployments get Running pods without a kubelet (and `helm install --wait`
 * completes). The binaries come from dev/k8s/build.sh, built once from the Go module proxy and
 * cached by version; each process runs under the supervisor, so `quickdeal status` and `down`
 * see them. Keys, the admin token, etcd's data and the kubeconfig live in <state>/kubernetes.
 */
import { spawn } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { SetupError } from './errors.js';
import { cacheDir, installLogPath, logPath, repoRoot, stateDir } from './paths.js';
import { type ProfileName, profile } from './profiles.js';
import { report, secondsSince } from './report.js';
import { ensureRunning } from './supervisor.js';

export interface Kubernetes {
  kubeconfig: string; // <state>/kubernetes/kubeconfig, context quickdeal-<profile>, admin (system:masters)
  server: string; // https://127.0.0.1:<port>
  token: string; // the admin bearer token the kubeconfig carries
  binDir: string; // kubectl, helm, kube-apiserver, ... of the version the cluster runs
}

const NODE_NAME = 'kwok-node-0';
const READY_TIMEOUT_MS = 90_000;

/** The Kubernetes version dev/k8s/go.mod builds (without the v), which keys the binaries' cache. */
export function kubernetesVersion(): string {
  const goMod = readFileSync(join(repoRoot, 'dev', 'k8s', 'go.mod'), 'utf8');
  const match = /^require k8s\.io\/kubernetes v(\S+)$/m.exec(goMod);
  if (!match?.[1]) throw new SetupError('kubernetes: dev/k8s/go.mod does not require k8s.io/kubernetes on one line');
  return match[1];
}

export function kubernetesBinDir(): string {
  return join(cacheDir, `k8s-${kubernetesVersion()}`, 'bin');
}

/**
 * Starts (or finds running) the profile's control plane and returns how to reach it. Idempotent:
 * a second call finds everything up and returns in well under a second.
 */
export async function ensureKubernetes(name: ProfileName, opts: { withNodes?: boolean } = {}): Promise<Kubernetes> {
  const start = Date.now();
  const binDir = await ensureBinaries();
  const dir = join(stateDir(name), 'kubernetes');
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const token = ensureAdminToken(dir);
  ensureServiceAccountKey(pki);

  const ports = portsOf(name);
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfig = join(dir, 'kubeconfig');
  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;

  await ensureRunning(name, {
    name: 'etcd',
    command: join(binDir, 'etcd'),
    args: [
      '--name=quickdeal',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=quickdeal=${peerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    port: ports.etcdClient,
    extraPorts: [ports.etcdPeer],
    ready: async () => (await fetch(`${etcdUrl}/health`)).ok,
  });

  // The API server generates its own serving certificate in --cert-dir (apiserver.crt: the
  // certificate, then the CA that signed it) for 127.0.0.1, not localhost.
  const api = (): Api => ({ server, token, ca: caOf(pki) });
  await ensureRunning(name, {
    name: 'kube-apiserver',
    command: join(binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${pki}`,
      `--secure-port=${ports.apiserver}`,
      '--bind-address=127.0.0.1',
      // A loopback advertise address is refused unless the endpoint reconciler is off.
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
    ],
    port: ports.apiserver,
    ready: async () => (await apiGet(api(), '/readyz')).status === 200,
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  const ca = caOf(pki);
  writeFileSync(join(pki, 'ca.crt'), ca);
  writeAtomic(kubeconfig, kubeconfigYaml(name, server, ca, token));

  await ensureRunning(name, {
    name: 'kube-controller-manager',
    command: join(binDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      '--controllers=*',
      '--leader-elect=false',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      '--use-service-account-credentials=false',
      `--flex-volume-plugin-dir=${join(dir, 'volume-plugins')}`, // else it creates /usr/libexec/kubernetes
      `--secure-port=${ports.controllerManager}`,
      '--bind-address=127.0.0.1',
    ],
    port: ports.controllerManager,
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  // Pods need the default ServiceAccount, which the controller manager creates shortly after it starts.
  await waitFor(
    'the default namespace and ServiceAccount',
    async () =>
      (await apiGet(api(), '/api/v1/namespaces/default')).status === 200 &&
      (await apiGet(api(), '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    logPath(name, 'kube-controller-manager'),
  );

  if (opts.withNodes) {
    await ensureRunning(name, {
      name: 'kube-scheduler',
      command: join(binDir, 'kube-scheduler'),
      args: [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', `--secure-port=${ports.scheduler}`, '--bind-address=127.0.0.1'],
      port: ports.scheduler,
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    await ensureFakeNode(api());
    const stages = join(binDir, '..', 'kwok-stages');
    await ensureRunning(name, {
      name: 'kwok',
      command: join(binDir, 'kwok'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--config=${readdirSync(stages)
          .map((file) => join(stages, file))
          .join(',')}`,
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        `--server-address=127.0.0.1:${ports.kwok}`,
        '--node-lease-duration-seconds=40',
        '--cidr=10.244.0.1/24',
        '--node-ip=127.0.0.1',
      ],
      port: ports.kwok,
      ready: () => nodeIsReady(api()),
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
  }
  report('kubernetes', `ready at ${server} in ${secondsSince(start)} (export KUBECONFIG=${kubeconfig})`);
  return { kubeconfig, server, token, binDir };
}

/** The profile names the API server's and etcd's ports; the helpers (health endpoints only) take the next ones. */
function portsOf(name: ProfileName) {
  const { kubeApiserver, etcdClient, etcdPeer } = profile(name).ports;
  return {
    apiserver: kubeApiserver,
    etcdClient,
    etcdPeer,
    controllerManager: kubeApiserver + 1,
    scheduler: kubeApiserver + 2,
    kwok: kubeApiserver + 3,
  };
}

/**
 * Runs dev/k8s/build.sh, which builds what is missing (minutes, once) and otherwise only checks
 * (milliseconds); one line of progress per binary it builds.
 */
async function ensureBinaries(): Promise<string> {
  const log = installLogPath('kubernetes');
  mkdirSync(join(log, '..'), { recursive: true });
  const child = spawn('bash', [join(repoRoot, 'dev', 'k8s', 'build.sh')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QUICKDEAL_CACHE: cacheDir },
  });
  let lastError = '';
  child.stderr.on('data', (chunk: Buffer) => {
    appendFileSync(log, chunk);
    lastError = chunk.toString().trim().split('\n').pop() || lastError;
  });
  let building = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    appendFileSync(log, `${line}\n`);
    if (!line.startsWith('k8s: ') || line.endsWith(' cached')) return;
    if (!building) report('kubernetes', `building what is missing from the Go module proxy (a first build takes 10-20 min; log: ${log})`);
    building = true;
    report('kubernetes', line.slice('k8s: '.length));
  });
  const code = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (status) => resolve(status ?? 1));
  });
  if (code !== 0) {
    throw new SetupError(`kubernetes: dev/k8s/build.sh failed with exit code ${code}: ${lastError || 'no message'} (log: ${log})`);
  }
  return kubernetesBinDir();
}

/** The static token file: one admin in system:masters, generated once per profile. */
function ensureAdminToken(dir: string): string {
  const file = join(dir, 'tokens.csv');
  if (!existsSync(file)) {
    writeAtomic(file, `${randomBytes(24).toString('hex')},admin,admin-uid,system:masters\n`);
  }
  const token = readFileSync(file, 'utf8').split(',')[0];
  if (!token) throw new SetupError(`kubernetes: ${file} has no token; delete it to generate a new one`);
  return token;
}

/** The key pair that signs and verifies ServiceAccount tokens. */
function ensureServiceAccountKey(pki: string): void {
  if (existsSync(join(pki, 'sa.key')) && existsSync(join(pki, 'sa.pub'))) return;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeAtomic(join(pki, 'sa.pub'), publicKey);
  writeAtomic(join(pki, 'sa.key'), privateKey);
}

/** The CA block of the API server's generated apiserver.crt ('' until the server has written it). */
function caOf(pki: string): string {
  let pem: string;
  try {
    pem = readFileSync(join(pki, 'apiserver.crt'), 'utf8');
  } catch {
    return '';
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
  const ca = blocks.find((block) => new X509Certificate(block).ca);
  if (!ca) throw new SetupError(`kubernetes: no CA certificate in ${join(pki, 'apiserver.crt')}`);
  return ca.endsWith('\n') ? ca : `${ca}\n`;
}

function kubeconfigYaml(name: ProfileName, server: string, ca: string, token: string): string {
  const context = `quickdeal-${name}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: `${context}-admin`, user: { token } }],
    contexts: [{ name: context, context: { cluster: context, user: `${context}-admin`, namespace: 'default' } }],
    'current-context': context,
  });
}

/** One fake Node for kwok to run pods on (no taint: everything may schedule there). */
async function ensureFakeNode(api: Api): Promise<void> {
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': NODE_NAME,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake', kubeProxyVersion: 'fake' },
    },
  };
  const { status, body } = await apiRequest(api, 'POST', '/api/v1/nodes', JSON.stringify(node));
  if (status !== 201 && status !== 409) throw new SetupError(`kubernetes: creating Node ${NODE_NAME} failed: ${status} ${body}`);
}

async function nodeIsReady(api: Api): Promise<boolean> {
  const { status, body } = await apiGet(api, `/api/v1/nodes/${NODE_NAME}`);
  if (status !== 200) return false;
  const node = JSON.parse(body) as { status?: { conditions?: Array<{ type: string; status: string }> } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function waitFor(what: string, check: () => Promise<boolean>, log: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new SetupError(`kubernetes: ${what} did not appear in ${READY_TIMEOUT_MS / 1000}s (log: ${log})`);
    await sleep(200);
  }
}

interface Api {
  server: string;
  token: string;
  ca: string;
}

function apiGet(api: Api, path: string): Promise<{ status: number; body: string }> {
  return apiRequest(api, 'GET', path);
}

/** A request with the admin token; node's fetch cannot take a CA of its own on Node 20. */
function apiRequest(api: Api, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  if (!api.ca) return Promise.resolve({ status: 0, body: 'no CA yet' });
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.server}${path}`,
      {
        method,
        ca: api.ca,
        timeout: 5_000,
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}
