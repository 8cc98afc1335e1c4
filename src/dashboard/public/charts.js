// @ts-check
// The vehicle view's three hourly charts, drawn with Chart.js (window.Chart, see chart-global.d.ts).
import { requireElement } from './dom.js';
import { statusColour } from './efficiency-status.js';
import { dayHourFormat, formatNumber, hourFormat, parseDate } from './format.js';
/** @import { SeriesPoint } from './api-client.js' */
/** @import { DeviceRegisterEvent } from './register-events.js' */
/** @import { VehicleRange } from './time-ranges.js' */

const COLOURS = {
  ac: '#f28e2b',
  dc: '#1f6feb',
  efficiency: '#2e7d32',
  threshold: '#c62828',
  temperature: '#8e44ad',
  registerEvent: '#8a4b00',
};

/** @type {Map<string, ChartJsChart>} what is drawn on each canvas, by canvas id */
const drawn = new Map();

/**
 * @param {string} yTitle
 * @param {Record<string, unknown>} [yOptions]
 * @returns {Record<string, unknown>}
 */
function baseOptions(yTitle, yOptions = {}) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { position: 'bottom' } },
    scales: {
      x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 }, grid: { display: false } },
      y: { title: { display: true, text: yTitle }, ...yOptions },
    },
  };
}

/**
 * Chart.js keeps one chart per canvas: the old one goes before the new one is drawn.
 * @param {NonNullable<Window['Chart']>} Chart
 * @param {string} canvasId
 * @param {ChartJsConfiguration} config
 */
function draw(Chart, canvasId, config) {
  drawn.get(canvasId)?.destroy();
  drawn.set(canvasId, new Chart(requireElement(canvasId, HTMLCanvasElement), config));
}

/**
 * How many events fall in the bucket [start, end).
 * @param {SeriesPoint} point
 * @param {DeviceRegisterEvent[]} events
 */
function eventsIn(point, events) {
  const start = parseDate(point.start)?.getTime() ?? NaN;
  const end = parseDate(point.end)?.getTime() ?? NaN;
  return events.filter((e) => e.at.getTime() >= start && e.at.getTime() < end).length;
}

/** @param {number | null | undefined} value */
const finiteOrNull = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * @param {SeriesPoint[]} points the hourly buckets of the range
 * @param {VehicleRange} range
 * @param {number | null} threshold the API's efficiency threshold
 * @param {DeviceRegisterEvent[]} registerEvents marked on the energy chart, in their bucket
 * @returns {boolean} false when Chart.js did not load (nothing is drawn)
 */
export function renderCharts(points, range, threshold, registerEvents) {
  const Chart = window.Chart;
  if (typeof Chart !== 'function') return false;
  const format = range === '24h' ? hourFormat : dayHourFormat;
  const labels = points.map((point) => {
    const start = parseDate(point.start);
    return start ? format.format(start) : '';
  });

  draw(Chart, 'energy-chart', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'AC drawn (kWh)', data: points.map((p) => finiteOrNull(p.acEnergyKwh)), backgroundColor: COLOURS.ac },
        {
          label: 'DC delivered (kWh)',
          data: points.map((p) => finiteOrNull(p.dcEnergyKwh)),
          backgroundColor: COLOURS.dc,
        },
        {
          type: 'line',
          label: 'Register reset / jump',
          data: points.map((p) => (eventsIn(p, registerEvents) > 0 ? 0 : null)),
          showLine: false,
          pointStyle: 'triangle',
          pointRadius: 7,
          borderColor: COLOURS.registerEvent,
          backgroundColor: COLOURS.registerEvent,
        },
      ],
    },
    options: baseOptions('kWh', { beginAtZero: true }),
  });

  draw(Chart, 'efficiency-chart', {
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'Efficiency (DC / AC)',
          // Only hours in which the battery received energy: an idle hour (the charger's
          // standby draw, nothing delivered) has a ratio of 0 that says nothing about charging.
          data: points.map((p) => (finiteOrNull(p.dcEnergyKwh) ? finiteOrNull(p.efficiencyRatio) : null)),
          borderColor: COLOURS.efficiency,
          backgroundColor: COLOURS.efficiency,
          pointBackgroundColor: points.map((p) => statusColour(p.efficiencyStatus)),
          pointRadius: range === '24h' ? 3 : 1.5,
          borderWidth: 1.5,
          spanGaps: false,
        },
        {
          label: 'Threshold ' + formatNumber(threshold, 2),
          data: points.map(() => threshold),
          borderColor: COLOURS.threshold,
          borderDash: [6, 4],
          borderWidth: 1.5,
          pointRadius: 0,
          fill: false,
        },
      ],
    },
    options: baseOptions('DC / AC', { suggestedMin: 0, suggestedMax: 1.1 }),
  });

  draw(Chart, 'temperature-chart', {
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'Avg battery temperature (°C)',
          data: points.map((p) => finiteOrNull(p.avgBatteryTempC)),
          borderColor: COLOURS.temperature,
          backgroundColor: COLOURS.temperature,
          pointRadius: range === '24h' ? 2 : 1,
          borderWidth: 1.5,
          spanGaps: false,
        },
      ],
    },
    options: baseOptions('°C'),
  });
  return true;
}
