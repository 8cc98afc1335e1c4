/*
 * Chart.js's browser build (/dashboard/vendor/chart.umd.min.js, a classic script that runs
 * before the modules) defines window.Chart. Declared here is only what charts.js uses: the
 * package's own types describe its ES module build, which the page does not load.
 */

interface ChartJsDataset {
  label: string;
  data: (number | null)[];
  [option: string]: unknown;
}

interface ChartJsConfiguration {
  type: 'bar' | 'line';
  data: { labels: string[]; datasets: ChartJsDataset[] };
  options: Record<string, unknown>;
}

interface ChartJsChart {
  destroy(): void;
}

interface Window {
  Chart?: new (canvas: HTMLCanvasElement, config: ChartJsConfiguration) => ChartJsChart;
}
