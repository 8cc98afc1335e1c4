import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import test from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';

import { runSimulation, type SimulationStats } from '../tools/simulator/simulation.js';
import {
  meterReading,
  minutesAgo,
  startTestService,
  TEST_ADMIN_KEY,
  vehicleReading,
  type TestService,
} from './helpers/test-service.js';

/*
 * The dashboard in a real browser: headless Chromium (Debian's `chromium` package) driven by
 * playwright-core, against the running service with simulated data. Chromium is looked up
 * (CHROMIUM_PATH, /usr/bin/chromium); when it is missing the test is skipped with the reason
 * in its title.
 */

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
  (path): path is string => typeof path === 'string' && path.length > 0,
);
// Required on this closed network: no GPU, no QUIC, none of Chromium's background traffic.
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const STEP_TIMEOUT_MS = 60_000;
const ODD_VEHICLE = 'ev-odd-mapping';
const SIMULATED = Array.from({ length: 5 }, (_, i) => `sim-ev-${String(i).padStart(5, '0')}`);
const REGISTER_VEHICLE = 'ev-register';
const ALL_VEHICLES = [ODD_VEHICLE, REGISTER_VEHICLE, ...SIMULATED].sort();

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const findChromium = () => CANDIDATES.find(executable);

/**
 * Why the browser test cannot run here; undefined when it can. The test never installs
 * anything: installing system packages is `.ci/run`'s job (or yours: `apt-get install chromium`).
 */
function cannotRunReason(): string | undefined {
  if (findChromium()) return undefined;
  return `Chromium is not installed (looked for ${CANDIDATES.join(', ')}); install it (Debian: apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`;
}

const skipReason = cannotRunReason();
if (skipReason) console.log(`[dashboard.test] SKIPPED: ${skipReason}`);

/** Console errors and uncaught exceptions of a page, as text. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location();
      errors.push(`console.error: ${message.text()} (${where.url}:${where.lineNumber})`);
    }
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/** Pixels of `canvasId` close to the colour `#rrggbb`: proves Chart.js drew that dataset. */
async function pixelsOfColour(page: Page, canvasId: string, hex: string): Promise<number> {
  return page.evaluate(
    ([id, colour]) => {
      const canvas = document.getElementById(id) as HTMLCanvasElement;
      const context = canvas.getContext('2d')!;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16)) as [number, number, number];
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          data[i + 3]! > 200 &&
          Math.abs(data[i]! - r) < 8 &&
          Math.abs(data[i + 1]! - g) < 8 &&
          Math.abs(data[i + 2]! - b) < 8
        )
          count += 1;
      }
      return count;
    },
    [canvasId, hex] as const,
  );
}

/** Non-transparent pixels of a canvas, and the lengths of its Chart.js datasets. */
async function canvasState(
  page: Page,
  canvasId: string,
): Promise<{ painted: number; datasets: number[]; labels: number }> {
  return page.evaluate((id) => {
    const canvas = document.getElementById(id) as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted += 1;
    // Chart.js's browser build defines window.Chart.
    const chart = (
      window as unknown as {
        Chart: {
          getChart(c: HTMLCanvasElement): { data: { labels?: unknown[]; datasets: { data: unknown[] }[] } } | undefined;
        };
      }
    ).Chart.getChart(canvas);
    return {
      painted,
      datasets: chart ? chart.data.datasets.map((d) => d.data.length) : [],
      labels: chart?.data.labels?.length ?? 0,
    };
  }, canvasId);
}

let svc: TestService | undefined;
let simulation: SimulationStats | undefined;
let readKey = '';
let ingestKey = '';

if (!skipReason) {
  test.before(async (t) => {
    t.timeout(5 * 60_000);
    svc = await startTestService();
    // A day of a small simulated fleet; with this seed one of the five vehicles is faulty
    // (sim-ev-00003, about 0.72) and the others charge at 0.87-0.91.
    simulation = await runSimulation({
      url: svc.url,
      apiKey: TEST_ADMIN_KEY,
      vehicles: 5,
      seed: 2,
      faultyShare: 0.4,
      backfillMs: 24 * 3_600_000,
      backfillEndMs: Date.now(),
      speed: 1,
      batch: 1000,
      concurrency: 2,
    });
    if (simulation.errors > 0) throw new Error(`simulation: ${simulation.errors} readings failed`);
    // And one vehicle mapped to the wrong meter: more DC delivered than AC drawn (implausible).
    const mapped = await svc.put(`/v1/vehicles/${ODD_VEHICLE}/meter`, { meterId: 'odd-meter-1' });
    const minutes = Array.from({ length: 90 }, (_, i) => minutesAgo(150 - i));
    const meter = await svc.post(
      '/v1/ingestion/meter',
      minutes.map((at) => meterReading('odd-meter-1', at, 0.05)),
    );
    const vehicle = await svc.post(
      '/v1/ingestion/vehicle',
      minutes.map((at, i) => vehicleReading(ODD_VEHICLE, at, 0.1, 40 + i / 3, 24 + i / 10)),
    );
    if (mapped.status !== 200 || meter.status !== 202 || vehicle.status !== 202) {
      throw new Error(`seeding ${ODD_VEHICLE} failed: ${mapped.status} ${meter.status} ${vehicle.status}`);
    }
    // A register meter that rebooted an hour ago (its register went down).
    const registerMapped = await svc.put(`/v1/vehicles/${REGISTER_VEHICLE}/meter`, { meterId: 'reg-meter-1' });
    const registers = await svc.post(
      '/v1/ingestion/meter',
      [5000, 5000.2, 5000.4, 0.1, 0.3].map((total, i) => ({
        meterId: 'reg-meter-1',
        kwhConsumedAcTotal: total,
        voltage: 230,
        timestamp: minutesAgo(120 - 30 * i).toISOString(),
      })),
    );
    const registerVehicle = await svc.post(
      '/v1/ingestion/vehicle',
      vehicleReading(REGISTER_VEHICLE, minutesAgo(60), 0.65),
    );
    if (registerMapped.status !== 200 || registers.status !== 202 || registerVehicle.status !== 202) {
      throw new Error(`seeding ${REGISTER_VEHICLE} failed`);
    }
    const read = await svc.post('/v1/keys', { name: 'dashboard test', scopes: ['read'] });
    const ingest = await svc.post('/v1/keys', { name: 'dashboard test, no read', scopes: ['ingest'] });
    if (read.status !== 201 || ingest.status !== 201)
      throw new Error(`key creation failed: ${read.status} ${ingest.status}`);
    readKey = read.body.key;
    ingestKey = ingest.body.key;
  });
  test.after.always(async () => {
    await svc?.stop();
  });
}

const title =
  'dashboard in headless Chromium: key prompt, fleet table (flagged first), charts, 7 days, wrong key; /docs renders';
(skipReason ? test.skip : test)(skipReason ? `${title} (skipped: ${skipReason})` : title, async (t) => {
  t.timeout(5 * 60_000);
  const executablePath = findChromium()!;
  t.log(`Chromium: ${executablePath}`);
  const service = svc!;
  const faulty = new Set(simulation!.faultyVehicles);
  t.true(faulty.size > 0, 'the simulated fleet has a faulty vehicle');

  // What the API says, to compare the page with.
  const fleet = await service.get('/v1/analytics/fleet?sort=efficiency&limit=100', {
    authorization: `Bearer ${readKey}`,
  });
  t.is(fleet.status, 200);
  const apiItems = fleet.body.items as { vehicleId: string; efficiencyStatus: string; dcEnergyKwh: number }[];
  const flagged = (status: string | null | undefined) => status === 'low' || status === 'implausible';
  t.deepEqual(apiItems.map((item) => item.vehicleId).sort(), ALL_VEHICLES);
  t.is(apiItems.find((item) => item.vehicleId === ODD_VEHICLE)?.efficiencyStatus, 'implausible');

  const browser: Browser = await chromium.launch({ executablePath, args: LAUNCH_ARGS, timeout: STEP_TIMEOUT_MS });
  t.teardown(() => browser.close());
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await mkdir(ARTIFACTS, { recursive: true });

  // ---- the happy path: not a single console error or uncaught exception.
  const page = await context.newPage();
  const errors = watchErrors(page);
  const response = await page.goto(`${service.url}/`);
  t.is(response?.status(), 200);
  t.is(new URL(page.url()).pathname, '/dashboard', '/ redirects to /dashboard');
  t.regex(response?.headers()['content-security-policy'] ?? '', /default-src 'self'/);

  await page.locator('#api-key').waitFor({ state: 'visible' });
  t.true(await page.locator('#dashboard').isHidden(), 'nothing but the key prompt before a key is given');
  await page.fill('#api-key', readKey);
  await page.click('#key-submit');

  const rows = page.locator('#fleet-rows tr[data-vehicle-id]');
  await rows.first().waitFor({ state: 'visible' });
  const shown = await rows.evaluateAll((trs) =>
    trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.vehicleId ?? '',
      status: (tr as HTMLElement).dataset.status ?? '',
    })),
  );
  t.deepEqual(shown.map((row) => row.id).sort(), ALL_VEHICLES, 'the table lists every vehicle');
  // Flagged vehicles first, each group in the API's order (lowest efficiency first).
  const expected = [
    ...apiItems.filter((i) => flagged(i.efficiencyStatus)),
    ...apiItems.filter((i) => !flagged(i.efficiencyStatus)),
  ];
  t.deepEqual(
    shown.map((row) => row.id),
    expected.map((item) => item.vehicleId),
  );
  t.is(shown[0]!.status, 'low', 'a low-efficiency vehicle comes first');
  t.true(faulty.has(shown[0]!.id), `the first row (${shown[0]!.id}) is one of the faulty vehicles`);
  const firstNormal = shown.findIndex((row) => !flagged(row.status));
  t.true(
    firstNormal === -1 || shown.slice(firstNormal).every((row) => !flagged(row.status)),
    'no flagged row after a normal one',
  );
  // The implausible one (above 1) is flagged too: it follows the low one.
  t.is(shown[1]?.id, ODD_VEHICLE);
  t.is(shown[1]?.status, 'implausible');
  const firstRow = page.locator(`#fleet-rows tr[data-vehicle-id="${shown[0]!.id}"]`);
  t.is(await firstRow.locator('.badge').textContent(), 'low');
  t.regex((await firstRow.locator('td').nth(2).textContent()) ?? '', /^0\.\d{3}$/, 'efficiency shown with 3 decimals');

  // One vehicle: the faulty one that charged most, so both energy series have bars.
  const charged = apiItems
    .filter((i) => i.efficiencyStatus === 'low' && faulty.has(i.vehicleId))
    .sort((a, b) => b.dcEnergyKwh - a.dcEnergyKwh)[0]!;
  t.true(charged.dcEnergyKwh > 0);
  await page.click(`#fleet-rows tr[data-vehicle-id="${charged.vehicleId}"] .vehicle-link`);
  await page
    .locator(`#vehicle-panel[data-state="ready"][data-vehicle-id="${charged.vehicleId}"][data-range="24h"]`)
    .waitFor();
  const energy = await canvasState(page, 'energy-chart');
  t.true(energy.labels >= 24 && energy.labels <= 25, `24 hourly buckets (got ${energy.labels})`);
  t.deepEqual(
    energy.datasets,
    [energy.labels, energy.labels, energy.labels],
    'AC, DC and register-event series over every bucket',
  );
  t.is(await page.locator('#register-events').isHidden(), true, 'no register events: no note');
  t.true(energy.painted > 1000, `the energy chart has painted pixels (${energy.painted})`);
  t.true((await pixelsOfColour(page, 'energy-chart', '#f28e2b')) > 50, 'AC bars drawn');
  t.true((await pixelsOfColour(page, 'energy-chart', '#1f6feb')) > 50, 'DC bars drawn');
  for (const id of ['efficiency-chart', 'temperature-chart']) {
    const chart = await canvasState(page, id);
    t.true(chart.painted > 1000 && chart.datasets.every((n) => n === energy.labels), `${id} drawn over every bucket`);
  }
  t.regex((await page.locator('#vehicle-summary').textContent()) ?? '', /AC drawn[\d.,]+ kWh/);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

  // A vehicle whose meter reports a register that reset: listed under the energy chart.
  await page.click(`#fleet-rows tr[data-vehicle-id="${REGISTER_VEHICLE}"] .vehicle-link`);
  await page
    .locator(`#vehicle-panel[data-state="ready"][data-vehicle-id="${REGISTER_VEHICLE}"][data-register-events="1"]`)
    .waitFor();
  t.regex((await page.locator('#register-events').textContent()) ?? '', /reg-meter-1 reset at .* \(0\.100 kWh\)/);
  t.true((await pixelsOfColour(page, 'energy-chart', '#8a4b00')) > 10, 'the reset is marked on the chart');
  await page.click(`#fleet-rows tr[data-vehicle-id="${charged.vehicleId}"] .vehicle-link`);
  await page.locator(`#vehicle-panel[data-state="ready"][data-vehicle-id="${charged.vehicleId}"]`).waitFor();

  await page.click('#range-7d');
  await page.locator(`#vehicle-panel[data-state="ready"][data-range="7d"]`).waitFor();
  const week = await canvasState(page, 'energy-chart');
  t.true(week.labels >= 7 * 24 && week.labels <= 7 * 24 + 1, `7 days of hourly buckets (got ${week.labels})`);
  t.true((await pixelsOfColour(page, 'energy-chart', '#1f6feb')) > 10, 'DC bars drawn over 7 days');
  t.is(await page.getAttribute('#range-7d', 'aria-pressed'), 'true');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-7d.png'), fullPage: true });
  t.deepEqual(errors, [], 'no console errors or page errors');

  // ---- wrong keys: a clear message and the prompt again. The browser itself logs the
  // refused request ("Failed to load resource: … 401"); nothing else may appear.
  const wrong = await context.newPage();
  const wrongErrors = watchErrors(wrong);
  await wrong.goto(`${service.url}/dashboard`);
  await wrong.fill('#api-key', 'evt_not-a-real-key');
  await wrong.click('#key-submit');
  await wrong.locator('#auth-error').waitFor({ state: 'visible' });
  t.regex((await wrong.locator('#auth-error').textContent()) ?? '', /refused.*401/);
  t.true(await wrong.locator('#api-key').isVisible(), 'asks for a key again');
  t.true(await wrong.locator('#dashboard').isHidden());
  t.is(await wrong.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');

  await wrong.fill('#api-key', ingestKey);
  await wrong.click('#key-submit');
  await wrong.locator('#auth-error', { hasText: '403' }).waitFor({ state: 'visible' });
  t.regex((await wrong.locator('#auth-error').textContent()) ?? '', /lacks the "read" scope/);
  await wrong.screenshot({ path: join(ARTIFACTS, 'dashboard-wrong-key.png') });
  const unexpected = wrongErrors.filter(
    (e) => !/Failed to load resource: the server responded with a status of 40[13]/.test(e),
  );
  t.deepEqual(unexpected, [], 'no errors besides the refused requests');

  // ---- the API reference at /docs renders every operation of the document, offline.
  const docs = await context.newPage();
  const docsErrors = watchErrors(docs);
  await docs.goto(`${service.url}/docs`);
  await docs.locator('.opblock').first().waitFor({ state: 'visible' });
  const operations = Object.values(
    (await service.get('/v1/openapi.json', {})).body.paths as Record<string, object>,
  ).reduce((count, item) => count + Object.keys(item).length, 0);
  t.is(await docs.locator('.opblock').count(), operations, 'Swagger UI lists every documented operation');
  t.true(await docs.getByText('/v1/analytics/fleet', { exact: true }).first().isVisible());
  await docs.screenshot({ path: join(ARTIFACTS, 'docs.png') });
  t.deepEqual(docsErrors, [], 'no console errors on /docs');

  // The assets come from this service, not from a CDN.
  const vendor = await service.get('/dashboard/vendor/chart.umd.min.js', {});
  t.is(vendor.status, 200);
  t.regex(vendor.headers.get('content-type') ?? '', /javascript/);
  t.true(existsSync(join(ARTIFACTS, 'dashboard.png')));
  t.log(`screenshots: ${join(ARTIFACTS, 'dashboard.png')}, dashboard-7d.png, dashboard-wrong-key.png, docs.png`);
});
