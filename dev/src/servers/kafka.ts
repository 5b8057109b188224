/**
 * Apache Kafka 4.x in KRaft mode, from Apache's jars on Maven Central: one node (broker and
 * controller in one JVM) for most profiles, three such nodes with a static controller quorum for the
 * `cluster` profile. kafkajs 2.2.4 does everything the services use against 4.4 (see the README).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { SetupError } from '../errors.js';
import { cacheDir, installLogPath, logPath, stateDir } from '../paths.js';
import { profileNodes, type ProfileName } from '../profiles.js';
import { report, secondsSince } from '../report.js';
import { runLogged } from '../run.js';
import { ensureRunning } from '../supervisor.js';

export const KAFKA_VERSION = '4.4.0';
// log4j-slf4j-impl, not log4j-slf4j2-impl: Kafka brings slf4j-api 1.7, and the 2.x binding leaves the broker silent.
const LOG4J_VERSION = '2.25.5';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

export function kafkaHome(): string {
  return join(cacheDir, `kafka-${KAFKA_VERSION}`);
}

/** Downloads the broker's jars into <cache>/kafka-<version>/libs once; returns that directory. */
export async function installKafka(): Promise<string> {
  const home = kafkaHome();
  const libs = join(home, 'libs');
  const complete = join(home, '.complete');
  if (existsSync(complete)) return libs;

  const log = installLogPath('kafka');
  const started = Date.now();
  report('kafka', `downloading Kafka ${KAFKA_VERSION} jars from Maven Central …`);
  rmSync(libs, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'pom.xml'), pom());
  const code = await runLogged(
    'mvn',
    [
      '-B',
      '-ntp',
      `-Dmaven.repo.local=${join(cacheDir, 'maven-repository')}`,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libs}`,
    ],
    { log, cwd: home },
  );
  if (code !== 0) {
    throw new SetupError(`kafka: downloading the Kafka ${KAFKA_VERSION} jars with Maven failed (mvn exit code ${code}) (log: ${log})`);
  }
  writeFileSync(complete, `${new Date().toISOString()}\n`);
  report('kafka', `jars ready in ${secondsSince(started)} (${libs})`);
  return libs;
}

type KafkaNode = ReturnType<typeof profileNodes>['kafka'][number];

/** The supervisor's name for a node: `kafka` alone, `kafka-1` … `kafka-N` in a cluster. */
export function kafkaServerName(node: Pick<KafkaNode, 'nodeId'>, nodeCount: number): string {
  return nodeCount === 1 ? 'kafka' : `kafka-${node.nodeId}`;
}

/**
 * Installs Kafka if missing, formats each node's storage once (one cluster id for all) and starts
 * every node of the profile in parallel (a controller quorum elects no leader until a majority
 * runs), or finds them running. Ready when every broker is registered with the controller.
 */
export async function ensureKafka(name: ProfileName): Promise<{ pid: number; started: boolean; servers: string[] }> {
  const libs = await installKafka();
  const nodes = profileNodes(name).kafka;
  const dir = join(stateDir(name), 'kafka');
  mkdirSync(dir, { recursive: true });
  const id = clusterIdOf(dir);
  const started = Date.now();
  const results = await Promise.all(nodes.map((node) => ensureKafkaNode(name, libs, dir, id, node, nodes)));
  await waitForBrokers(nodes[0]!.port, nodes.length, started);
  const servers = nodes.map((node) => kafkaServerName(node, nodes.length));
  nodes.forEach((node, i) => {
    const result = results[i]!;
    report(
      servers[i]!,
      result.started
        ? `Kafka ${KAFKA_VERSION} started on 127.0.0.1:${node.port} in ${secondsSince(started)} (pid ${result.pid})`
        : `already running on 127.0.0.1:${node.port} (pid ${result.pid})`,
    );
  });
  return { pid: results[0]!.pid, started: results.some((result) => result.started), servers };
}

/** Starts (or finds running) one node; `stopServer(profile, kafkaServerName(node, n))` stops it alone. */
export async function ensureKafkaNode(
  name: ProfileName,
  libs: string,
  dir: string,
  id: string,
  node: KafkaNode,
  nodes: KafkaNode[],
): Promise<{ pid: number; started: boolean }> {
  const serverName = kafkaServerName(node, nodes.length);
  const nodeDir = nodes.length === 1 ? dir : join(dir, `node-${node.nodeId}`);
  const dataDir = join(nodeDir, 'data');
  const config = join(nodeDir, 'server.properties');
  const log4j = join(nodeDir, 'log4j2.properties');
  const log = logPath(name, serverName);
  mkdirSync(nodeDir, { recursive: true });
  writeFileSync(config, serverProperties(node, nodes, dataDir));
  writeFileSync(log4j, log4jProperties(log));
  const classpath = `${libs}/*`;

  if (!existsSync(join(dataDir, 'meta.properties'))) {
    report(serverName, `formatting storage in ${dataDir}`);
    const code = await runLogged(
      'java',
      [
        '-Xmx256m',
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '--ignore-formatted',
        '-t',
        id,
        '-c',
        config,
      ],
      { log },
    );
    if (code !== 0) throw new SetupError(`${serverName}: formatting its storage failed with exit code ${code} (log: ${log})`);
  }

  return ensureRunning(name, {
    name: serverName,
    command: 'java',
    args: [
      '-Xms256m',
      '-Xmx512m',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4j}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      config,
    ],
    port: node.port,
    extraPorts: [node.controllerPort],
    // This node alone: a node whose peers are still starting must not count as wedged (and be restarted).
    ready: () => brokerAnswers(node.port, 1),
    readyTimeoutMs: 90_000,
  });
}

/** Restarts one stopped node of the profile (a fault test's broker coming back). */
export async function restartKafkaNode(name: ProfileName, nodeId: number): Promise<{ pid: number; started: boolean }> {
  const libs = await installKafka();
  const nodes = profileNodes(name).kafka;
  const node = nodes.find((candidate) => candidate.nodeId === nodeId);
  if (!node) throw new SetupError(`kafka: profile ${name} has no node ${nodeId}`);
  const dir = join(stateDir(name), 'kafka');
  return ensureKafkaNode(name, libs, dir, clusterIdOf(dir), node, nodes);
}

/** Waits until every broker of the cluster is registered with the controller. */
async function waitForBrokers(port: number, brokers: number, since: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await brokerAnswers(port, brokers))) {
    if (Date.now() > deadline) throw new SetupError(`kafka: only some of the ${brokers} brokers registered within ${secondsSince(since)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The cluster id every node of a profile is formatted with, made once. */
function clusterIdOf(dir: string): string {
  const file = join(dir, 'cluster-id');
  if (!existsSync(file)) writeFileSync(file, `${clusterId()}\n`);
  return readFileSync(file, 'utf8').trim();
}

/** The broker answers a metadata request naming a controller and all `brokers` of the cluster. */
async function brokerAnswers(port: number, brokers: number): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'quickdeal-readiness',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length >= brokers && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, not starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function pom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by quickdeal: the jars a single Kafka broker needs, fetched with dependency:copy-dependencies. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.quickdeal.dev</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
}

/**
 * One node, loopback only. A lone node replicates nothing; a cluster replicates everything three
 * ways and refuses a write that fewer than two replicas hold (acks=all then means "on two brokers").
 */
function serverProperties(node: KafkaNode, nodes: KafkaNode[], dataDir: string): string {
  const replicas = Math.min(nodes.length, 3);
  const minIsr = Math.max(1, replicas - 1);
  const voters = nodes.map((voter) => `${voter.nodeId}@127.0.0.1:${voter.controllerPort}`).join(',');
  return `# Generated by quickdeal on every start: edit dev/src/servers/kafka.ts instead.
process.roles=broker,controller
node.id=${node.nodeId}
controller.quorum.voters=${voters}
listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
default.replication.factor=${replicas}
min.insync.replicas=${minIsr}
offsets.topic.replication.factor=${replicas}
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=${replicas}
transaction.state.log.min.isr=${minIsr}
share.coordinator.state.topic.replication.factor=${replicas}
share.coordinator.state.topic.min.isr=${minIsr}
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# A broker that stops heartbeating is fenced (and its partitions get new leaders) after 3 s, not 9 s.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
`;
}

function log4jProperties(file: string): string {
  return `# Generated by quickdeal: the broker logs to the same file the supervisor sends its stdout to.
status = warn
shutdownHook = disable
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${file}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache
logger.apache.level = warn
logger.apachekafka.name = org.apache.kafka
logger.apachekafka.level = info
`;
}
