/**
 * Apache Kafka as one KRaft node (broker and controller in one JVM), from Apache's jars on Maven
 * Central. 3.9.x, not 4.x: kafkajs 2.2.4 speaks old protocol versions that 4.0 removed (KIP-896),
 * while 3.9 keeps every version kafkajs negotiates; see the README.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { SetupError } from '../errors.js';
import { cacheDir, installLogPath, logPath, stateDir } from '../paths.js';
import { profile, type ProfileName } from '../profiles.js';
import { report, secondsSince } from '../report.js';
import { runLogged } from '../run.js';
import { ensureRunning } from '../supervisor.js';

export const KAFKA_VERSION = '3.9.2';
const LOG4J_VERSION = '2.25.5'; // log4j-slf4j-impl: the binding for the slf4j 1.7 that Kafka 3.9 uses
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

/** Installs Kafka if missing, formats its storage once, and starts it (or finds it running). */
export async function ensureKafka(name: ProfileName): Promise<{ pid: number; started: boolean }> {
  const libs = await installKafka();
  const { ports } = profile(name);
  const dir = join(stateDir(name), 'kafka');
  const dataDir = join(dir, 'data');
  const config = join(dir, 'server.properties');
  const log4j = join(dir, 'log4j2.properties');
  mkdirSync(dir, { recursive: true });
  writeFileSync(config, serverProperties(ports.kafka, ports.kafkaController, dataDir));
  writeFileSync(log4j, log4jProperties(logPath(name, 'kafka')));
  const classpath = `${libs}/*`;

  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const log = logPath(name, 'kafka');
    report('kafka', `formatting storage in ${dataDir}`);
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
        clusterId(),
        '-c',
        config,
      ],
      { log },
    );
    if (code !== 0) throw new SetupError(`kafka: formatting its storage failed with exit code ${code} (log: ${log})`);
  }

  const started = Date.now();
  const result = await ensureRunning(name, {
    name: 'kafka',
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
    port: ports.kafka,
    extraPorts: [ports.kafkaController],
    ready: () => brokerAnswers(ports.kafka),
    readyTimeoutMs: 60_000,
  });
  report(
    'kafka',
    result.started
      ? `started on 127.0.0.1:${ports.kafka} in ${secondsSince(started)} (pid ${result.pid})`
      : `already running on 127.0.0.1:${ports.kafka} (pid ${result.pid})`,
  );
  return result;
}

/** The broker answers a metadata request with itself as the controller. */
async function brokerAnswers(port: number): Promise<boolean> {
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
    return cluster.brokers.length > 0 && cluster.controller !== null;
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

/** One node, loopback only, and the settings that make consumer groups work on a single broker. */
function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return `# Generated by quickdeal on every start: edit dev/src/servers/kafka.ts instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
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
