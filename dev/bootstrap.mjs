#!/usr/bin/env node
// `npm test`: npm dependencies, lint, type check, then every vitest project (the integration,
// kubernetes and browser projects provision their servers in their globalSetup), then the unit, process
// and flash-sale tests again on the images' Node 24, then the cluster project on its own (it starts
// the cluster profile), then the images project (the Dockerfile built with buildah and each image run
// with runc; a first build takes minutes, later ones reuse ~/.cache/quickdeal/images). With arguments, one vitest run with them; `test-node24 [arguments]` runs the
// Node 24 pass alone (or those test files on Node 24). Ends with one line, `tests: N passed, M failed`,
// and a non-zero exit on any failure. Plain JavaScript with no dependencies.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE24_VERSION, ensureNode24 } from './node-runtime.mjs';
import { ensureNpmDeps } from './npm-deps.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const testState = join(root, '.quickdeal', 'test');
const REPORT = join(testState, 'vitest-report.json');
const SETUP_FAILURE = join(testState, 'setup-failure.txt'); // written by dev/test-setup/setup-failure.ts

/**
 * The tests that run QuickDeal's code on the images' Node 24 as well, beside the whole unit project
 * (pure logic, a minute or two): every test that starts a service's main.ts as its own process (they
 * spawn process.execPath, so the vitest run's Node), and the in-process flash sales (ticketing,
 * admission and payment in vitest's own process).
 */
const NODE24_INTEGRATION_TESTS = [
  'dev/test/service-processes.int.test.ts',
  'services/admission/test/crash.int.test.ts',
  'dev/test/flash-sale.int.test.ts',
  'loadtest/test/flash-sale.int.test.ts',
];

function fail(line) {
  console.error(`npm test: ${line}`);
  process.exit(1);
}

/** Runs a command; resolves to its exit code and, when captured, its output. */
function run(command, args, { capture = false, env = process.env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (capture) {
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
    }
    child.on('error', (error) => resolve({ code: 127, output: `${output}${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/**
 * `npm run lint`, the formatter's check and `npm run typecheck`, side by side and with their caches under
 * .quickdeal/ so a second run is quick; their output is shown only when they fail.
 */
async function staticChecks() {
  const tools = join(root, 'node_modules', '.bin');
  const cache = join(root, '.quickdeal');
  const started = Date.now();
  const checks = [
    { name: 'lint', command: join(tools, 'eslint'), args: ['.', '--cache', '--cache-location', join(cache, 'eslintcache')] },
    // The formatter settles line length and layout; `npm run format` rewrites what it would change.
    { name: 'format', command: join(tools, 'prettier'), args: ['--check', '--log-level', 'warn', '**/*.{ts,mts,mjs,js}'] },
    {
      name: 'typecheck',
      command: join(tools, 'tsc'),
      args: ['-p', 'tsconfig.json', '--noEmit', '--incremental', '--tsBuildInfoFile', join(cache, 'typecheck.tsbuildinfo')],
    },
  ];
  const results = await Promise.all(checks.map((check) => run(check.command, check.args, { capture: true })));
  const failed = checks.filter((_, i) => results[i].code !== 0);
  for (const [i, check] of checks.entries()) {
    if (results[i].code !== 0) process.stdout.write(`\n${check.name}:\n${results[i].output}`);
  }
  if (failed.length > 0) fail(`${failed.map((check) => check.name).join(' and ')} failed (errors above)`);
  console.log(`lint, format and typecheck passed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/**
 * The counts from vitest's JSON report, and one line per failure (the file, the test and the first
 * line of its error); a file that failed without running a test counts as one failure.
 */
function countResults(report) {
  const failures = [];
  let emptyFailedFiles = 0;
  for (const file of report.testResults) {
    const path = file.name.startsWith(root) ? file.name.slice(root.length + 1) : file.name;
    const failedTests = file.assertionResults.filter((test) => test.status === 'failed');
    for (const test of failedTests) failures.push(`${path} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
    if (file.status === 'failed' && failedTests.length === 0) {
      emptyFailedFiles += 1;
      failures.push(`${path}: ${firstLine(file.message)}`);
    }
  }
  return { passed: report.numPassedTests, failed: report.numFailedTests + emptyFailedFiles, failures };
}

function firstLine(text) {
  return (text ?? 'no message').trim().split('\n')[0].slice(0, 1000);
}

/** The passes that run vitest itself on Node 24: the unit project and NODE24_INTEGRATION_TESTS, or the given vitest arguments. */
function node24Passes(vitestArgs = []) {
  let node;
  try {
    node = ensureNode24();
  } catch (error) {
    fail(error.message);
  }
  // Anything a test starts by the name `node` is that Node too; the process tests check the version their services report.
  const env = { PATH: `${dirname(node)}:${process.env.PATH ?? ''}`, QUICKDEAL_TEST_NODE_VERSION: `v${NODE24_VERSION}` };
  const pass = (args, what) => ({ node, args, env, title: `${what}, on Node ${NODE24_VERSION} (${node})` });
  if (vitestArgs.length > 0) return [pass(vitestArgs, vitestArgs.join(' '))];
  return [
    pass(['--project', 'unit'], 'the unit tests again'),
    pass(['--project', 'integration', ...NODE24_INTEGRATION_TESTS], 'the process and flash-sale tests again'),
  ];
}

async function test(vitestArgs, { node24Only = false } = {}) {
  try {
    ensureNpmDeps(root);
  } catch (error) {
    fail(error.message);
  }
  if (process.env.QUICKDEAL_SKIP_CHECKS === '1') console.log('lint, format and typecheck skipped (QUICKDEAL_SKIP_CHECKS=1)');
  else await staticChecks();

  // The cluster profile's tests kill brokers, Redis primaries and service processes and time the
  // stalls, so a whole `npm test` runs them after the rest, alone on the machine's cores.
  let passes;
  if (node24Only) passes = node24Passes(vitestArgs);
  else if (vitestArgs.length > 0) passes = [{ args: vitestArgs, env: {} }];
  else {
    passes = [
      { args: [], env: {} },
      ...node24Passes(),
      { args: ['--project', 'cluster'], env: { QUICKDEAL_CLUSTER_TESTS: '1' } },
      { args: ['--project', 'images'], env: { QUICKDEAL_IMAGE_TESTS: '1' } },
    ];
  }
  let passed = 0;
  let failed = 0;
  let code = 0;
  const failures = [];
  for (const pass of passes) {
    if (pass.title) console.log(`\n${'node 24'.padEnd(11)} ${pass.title}`);
    const result = await runVitest(pass.args, pass.env, pass.node);
    passed += result.passed;
    failed += result.failed;
    failures.push(...result.failures.map((failure) => (pass.node ? `[Node ${NODE24_VERSION}] ${failure}` : failure)));
    code ||= result.code;
  }
  // Repeated at the very end, where a CI log's tail is read.
  if (failures.length > 0) console.log(`\nfailed:\n${failures.map((failure) => `  ${failure}`).join('\n')}`);
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(code !== 0 || failed > 0 ? 1 : 0);
}

async function runVitest(vitestArgs, env, node = process.execPath) {
  mkdirSync(testState, { recursive: true });
  rmSync(REPORT, { force: true });
  rmSync(SETUP_FAILURE, { force: true });
  // kafkajs 2.2.4 schedules negative timeouts, which Node 24 warns about (tulios/kafkajs#1751): harmless.
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --conditions=quickdeal-source --disable-warning=TimeoutNegativeWarning`.trim();
  const vitest = await run(
    node,
    [
      join(root, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${REPORT}`,
      ...vitestArgs,
    ],
    { env: { ...process.env, ...env, NODE_OPTIONS: nodeOptions } },
  );

  if (existsSync(SETUP_FAILURE)) fail(readFileSync(SETUP_FAILURE, 'utf8').trim().split('\n')[0]);
  if (!existsSync(REPORT)) fail(`vitest exited with code ${vitest.code} before reporting any result (output above)`);
  const { passed, failed, failures } = countResults(JSON.parse(readFileSync(REPORT, 'utf8')));
  if (vitest.code !== 0 && failed === 0) console.log('vitest reported errors outside the tests (output above)');
  return { passed, failed, failures, code: vitest.code };
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'test') await test(rest);
else if (command === 'test-node24') await test(rest, { node24Only: true });
else fail(`unknown command '${command ?? ''}' (usage: node dev/bootstrap.mjs test|test-node24 [vitest arguments])`);
