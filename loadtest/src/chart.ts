import { createCanvas, type Canvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type ChartDataset, type Plugin } from 'chart.js';
import type { FlashSaleReport } from './report.js';

Chart.register(...registerables);

const width = 1400;
const panelHeight = 380;
const headerHeight = 70;

const whiteBackground: Plugin<'line'> = {
  id: 'white-background',
  beforeDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

type Points = Array<{ x: number; y: number }>;

function line(label: string, data: Points, color: string, extra: Partial<ChartDataset<'line', Points>> = {}): ChartDataset<'line', Points> {
  return { label, data, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 0, tension: 0, ...extra };
}

function panel(title: string, yTitle: string, datasets: Array<ChartDataset<'line', Points>>, xMax: number): Canvas {
  const canvas = createCanvas(width, panelHeight);
  const config: ChartConfiguration<'line', Points> = {
    type: 'line',
    data: { datasets },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      parsing: false,
      normalized: true,
      layout: { padding: { left: 10, right: 20, top: 5, bottom: 5 } },
      plugins: {
        title: { display: true, text: title, font: { size: 18, weight: 'bold' }, color: '#222' },
        legend: { position: 'top', labels: { font: { size: 14 }, color: '#222', boxWidth: 28 } },
      },
      scales: {
        x: {
          type: 'linear',
          min: 0,
          max: xMax,
          title: { display: true, text: 'seconds since the sale opened', font: { size: 14 } },
          ticks: { font: { size: 13 } },
        },
        y: { type: 'linear', beginAtZero: true, title: { display: true, text: yTitle, font: { size: 14 } }, ticks: { font: { size: 13 } } },
      },
    },
    plugins: [whiteBackground],
  };
  // Not destroyed: destroy() clears the canvas, and the panel is copied into the final image afterwards.
  new Chart(canvas as unknown as HTMLCanvasElement, config).draw();
  return canvas;
}

/**
 * The run over time as one PNG of three panels: the line (waiting shoppers); checkouts (active
 * against the cap, sold against the stock); and rates (arrivals offered, tickets served, turned
 * away, admissions per second).
 */
export async function renderChart(report: FlashSaleReport): Promise<Buffer> {
  const points = report.timeline;
  const xMax = Math.max(1, Math.ceil(Math.max(report.durationS, points[points.length - 1]?.t ?? 0)));
  const series = (pick: (p: (typeof points)[number]) => number): Points => points.map((p) => ({ x: p.t, y: pick(p) }));
  const flat = (value: number): Points => [
    { x: 0, y: value },
    { x: xMax, y: value },
  ];
  const perSecond = (pick: (s: FlashSaleReport['perSecond'][number]) => number): Points =>
    report.perSecond.map((s, i) => ({ x: i + 0.5, y: pick(s) }));

  const panels = [
    panel(
      'Waiting in line',
      'shoppers with a ticket, not yet processed',
      [
        line(
          'waiting',
          series((p) => p.waiting),
          '#1f77b4',
          { fill: 'origin', backgroundColor: 'rgba(31,119,180,0.15)' },
        ),
      ],
      xMax,
    ),
    panel(
      'Checkouts and sales',
      'shoppers / units',
      [
        line(
          'active (in checkout)',
          series((p) => p.active),
          '#ff7f0e',
        ),
        line(`cap ${report.plan.cap}`, flat(report.plan.cap), '#ff7f0e', { borderDash: [8, 6], borderWidth: 1 }),
        line(
          'sold',
          series((p) => p.sold),
          '#2ca02c',
        ),
        line(`stock ${report.plan.stock}`, flat(report.plan.stock), '#2ca02c', { borderDash: [8, 6], borderWidth: 1 }),
      ],
      xMax,
    ),
    panel(
      'Rates',
      'per second',
      [
        line(
          'arrivals offered/s',
          perSecond((s) => s.arrivals),
          '#7f7f7f',
          { stepped: 'middle' },
        ),
        line(
          'tickets served/s',
          perSecond((s) => s.ticketsServed),
          '#1f77b4',
          { stepped: 'middle' },
        ),
        line(
          'turned away sold out/s',
          perSecond((s) => s.turnedAway),
          '#9467bd',
          { stepped: 'middle' },
        ),
        line(
          'admissions/s',
          series((p) => p.admissionsPerSecond),
          '#d62728',
        ),
      ],
      xMax,
    ),
  ];

  const out = createCanvas(width, headerHeight + panels.length * panelHeight);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#111';
  ctx.font = 'bold 22px sans-serif';
  ctx.fillText(`QuickDeal flash sale ${report.runId} — scenario ${report.scenario}`, 20, 32);
  ctx.font = '15px sans-serif';
  const s = report.sale;
  ctx.fillText(
    `${report.plan.shoppers.toLocaleString('en-US')} shoppers, ${s.sold}/${s.stock} sold` +
      `${s.timeToSellOutS === null ? '' : ` in ${s.timeToSellOutS.toFixed(1)} s`}, ${s.admissions} admitted; ` +
      `invariants ${report.invariants.ok ? 'hold' : 'BROKEN'}; unexpected errors ${report.errors.unexpected}; started ${report.startedAt}`,
    20,
    58,
  );
  panels.forEach((canvas, i) => ctx.drawImage(canvas, 0, headerHeight + i * panelHeight));
  return out.encode('png');
}
