/**
 * The alert rules with the real promtool (Debian's Prometheus 2.42): the file checks, every alert
 * has unit tests that make it fire, and each one tells the person paged what it means and where
 * its runbook is.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@quickdeal/dev/paths';
import { installPrometheus } from '@quickdeal/dev/stack';
import { alertRules, chartDir, rulesFile } from './support/chart.js';

const exec = promisify(execFile);
const unitTests = join(chartDir, 'test', 'rules', 'quickdeal-alerts.test.yaml');
const runbookBase = 'https://github.com/quickdeal/quickdeal/blob/main/docs/runbooks.md';
let promtool: string;

beforeAll(async () => {
  promtool = join(await installPrometheus(), '..', 'promtool');
}, 120_000);

async function runPromtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(promtool, args, { cwd: join(chartDir, 'test', 'rules') });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('rules/quickdeal-alerts.yaml', () => {
  it('passes `promtool check rules`', async () => {
    const result = await runPromtool(['check', 'rules', rulesFile]);
    expect(result.output).toContain(`SUCCESS: ${alertRules().length} rules found`);
    expect(result.code).toBe(0);
  });

  it('passes its unit tests with `promtool test rules`', async () => {
    const result = await runPromtool(['test', 'rules', unitTests]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('has a unit test that makes every alert fire', () => {
    const tests = parse(readFileSync(unitTests, 'utf8')) as {
      rule_files: string[];
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    expect(tests.rule_files.map((file) => join(chartDir, 'test', 'rules', file))).toEqual([rulesFile]);
    const fired = new Set(
      tests.tests.flatMap((test) => (test.alert_rule_test ?? []).filter((t) => t.exp_alerts.length > 0).map((t) => t.alertname)),
    );
    const quiet = new Set(
      tests.tests.flatMap((test) => (test.alert_rule_test ?? []).filter((t) => t.exp_alerts.length === 0).map((t) => t.alertname)),
    );
    for (const rule of alertRules()) {
      expect(fired, `no test makes ${rule.alert} fire`).toContain(rule.alert);
      expect(quiet, `no test checks that ${rule.alert} stays quiet`).toContain(rule.alert);
    }
  });

  it('gives every alert a severity, a summary, a description and a runbook section that exists', () => {
    const runbooks = readFileSync(join(repoRoot, 'docs', 'runbooks.md'), 'utf8');
    const anchors = new Set(
      [...runbooks.matchAll(/^#{2,3} (.+)$/gm)].map((match) =>
        (match[1] ?? '')
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const names = alertRules().map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'QuickDealQueueStalled',
        'QuickDealConsumerLagGrowing',
        'QuickDealCheckoutSweeperNotRunning',
        'QuickDealHighErrorRatio',
        'QuickDealLatencyAboveSLO',
        'QuickDealOperatorReconcileFailing',
        'QuickDealOversold',
        'QuickDealComponentAbsent',
        'QuickDealAdmissionAbsent',
        'QuickDealTargetDown',
        'QuickDealNoOperatorLeader',
        'QuickDealScalingFailing',
        'QuickDealDealNotReady',
      ]),
    );
    for (const rule of alertRules()) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      const anchor = rule.alert.toLowerCase();
      expect(rule.annotations?.runbook_url, rule.alert).toBe(`${runbookBase}#${anchor}`);
      expect(anchors, `docs/runbooks.md has no "## ${rule.alert}" section`).toContain(anchor);
    }
  });
});
