/**
 * The Grafana dashboards' shape: a fixed uid, a `${datasource}` variable every panel uses, rates
 * over `$__rate_interval`, and what each dashboard must show. That every query returns data from
 * the real services is observability.k8s.test.ts's job.
 */
import { describe, expect, it } from 'vitest';
import { dashboardQueries, dashboards, metricNames } from './support/chart.js';

const all = dashboards();

describe('dashboards/*.json', () => {
  it('are the four dashboards, each with its own fixed uid and title', () => {
    expect(all.map(({ json }) => json.uid)).toEqual([
      'quickdeal-consumers',
      'quickdeal-deal-queue',
      'quickdeal-operator',
      'quickdeal-services',
    ]);
    for (const { file, json } of all) {
      expect(json.uid.length, file).toBeLessThanOrEqual(40); // Grafana's limit
      expect(file).toBe(`${json.uid.replace(/^quickdeal-/, '')}.json`);
    }
    expect(new Set(all.map(({ json }) => json.title)).size).toBe(all.length);
  });

  it('take their data source from a ${datasource} variable, in every panel and query', () => {
    for (const { file, json } of all) {
      const variable = json.templating.list.find((v) => v.name === 'datasource');
      expect(variable, file).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const panel of json.panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource, `${file}: ${panel.title}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const target of panel.targets ?? []) expect(target.datasource?.uid, `${file}: ${panel.title}`).toBe('${datasource}');
      }
      for (const v of json.templating.list.filter((v) => v.type === 'query'))
        expect(v.datasource?.uid, `${file}: $${v.name}`).toBe('${datasource}');
    }
  });

  it('use $__rate_interval for every range and give panels unique ids', () => {
    for (const { file, json } of all) {
      const ids = json.panels.map((panel) => panel.id);
      expect(new Set(ids).size, file).toBe(ids.length);
    }
    for (const { dashboard, panel, expr } of dashboardQueries()) {
      for (const range of expr.match(/\[[^\]]*\]/g) ?? []) expect(range, `${dashboard}: ${panel}`).toBe('[$__rate_interval]');
      expect(expr, `${dashboard}: ${panel}`).not.toMatch(/\$__interval\b|\$__range\b/);
    }
  });

  it('show what the issue asks of each', () => {
    const names = (file: string) =>
      new Set(
        dashboardQueries()
          .filter((q) => q.dashboard === file)
          .flatMap((q) => metricNames(q.expr)),
      );
    expect([...names('deal-queue.json')]).toEqual(
      expect.arrayContaining([
        'quickdeal_queue_waiting',
        'quickdeal_active_shoppers',
        'quickdeal_active_shoppers_cap',
        'quickdeal_admissions_total',
        'quickdeal_stock_sold_units',
        'quickdeal_stock_units',
        'quickdeal_stock_remaining_units',
        'quickdeal_orders_total',
        // the opening (issue 14)
        'quickdeal_prequeued_shoppers',
        'quickdeal_prequeue_drawn_total',
        'quickdeal_prequeue_draw_state',
        'quickdeal_prequeue_draw_duration_seconds_sum',
        'quickdeal_admission_blocks_total',
        'quickdeal_proof_of_work_verifications_total',
      ]),
    );
    const services = dashboardQueries()
      .filter((q) => q.dashboard === 'services.json')
      .map((q) => q.expr)
      .join('\n');
    for (const quantile of ['0.5', '0.95', '0.99'])
      expect(services).toContain(`histogram_quantile(${quantile}, sum by (service, route, le)`);
    expect(services).toContain('status=~"5.."');
    expect([...names('consumers.json')]).toEqual(
      expect.arrayContaining(['quickdeal_consumer_lag_messages', 'quickdeal_operator_admission_replicas']),
    );
    expect([...names('operator.json')]).toEqual(
      expect.arrayContaining(['quickdeal_operator_reconciles_total', 'quickdeal_operator_reconcile_duration_seconds_bucket']),
    );
    expect(dashboardQueries().find((q) => q.panel === 'Time to sell out')?.expr).toMatch(
      /quickdeal_stock_remaining_units.*\/.*rate\(quickdeal_orders_total/,
    );
  });
});
