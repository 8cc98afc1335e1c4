// EV fleet dashboard: plain browser JavaScript, no build step. It talks to the /v1 API with an
// API key (read scope) kept in sessionStorage. Data only ever reaches the page through
// textContent and Chart.js, never through innerHTML.
'use strict';

(function () {
  const KEY_STORAGE = 'ev-dashboard.api-key';
  const PAGE_SIZE = 50;
  const HOUR_MS = 3_600_000;
  const RANGES = {
    '24h': { hours: 24, bucket: '1h', label: 'last 24 hours' },
    '7d': { hours: 24 * 7, bucket: '1h', label: 'last 7 days' },
  };
  const COLORS = {
    ac: '#f28e2b',
    dc: '#1f6feb',
    efficiency: '#2e7d32',
    threshold: '#c62828',
    temperature: '#8e44ad',
    status: { normal: '#2e7d32', low: '#c62828', implausible: '#d4a000', no_data: '#9aa5b1' },
  };

  const $ = (id) => {
    const element = document.getElementById(id);
    if (!element) throw new Error('missing element #' + id);
    return element;
  };

  const el = {
    authPanel: $('auth-panel'),
    keyForm: $('key-form'),
    keyInput: $('api-key'),
    keySubmit: $('key-submit'),
    authError: $('auth-error'),
    changeKey: $('change-key'),
    dashboard: $('dashboard'),
    windowLabel: $('window-label'),
    fleetRows: $('fleet-rows'),
    fleetCount: $('fleet-count'),
    fleetEmpty: $('fleet-empty'),
    fleetError: $('fleet-error'),
    loadMore: $('load-more'),
    refresh: $('refresh'),
    thresholdLabel: $('threshold-label'),
    thresholdCaption: $('threshold-caption'),
    vehiclePanel: $('vehicle-panel'),
    vehicleTitle: $('vehicle-title'),
    vehicleStatus: $('vehicle-status'),
    vehicleSummary: $('vehicle-summary'),
    vehicleError: $('vehicle-error'),
    rangeButtons: Array.from(document.querySelectorAll('[data-range]')),
  };

  const state = {
    apiKey: readStoredKey(),
    items: [],
    nextCursor: null,
    threshold: 0.85,
    selected: null,
    range: '24h',
    charts: {},
    // Sequence numbers: a response that arrives after a newer request started is dropped.
    fleetSeq: 0,
    vehicleSeq: 0,
  };

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  function readStoredKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null;
    }
  }

  function storeKey(key) {
    state.apiKey = key;
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // storage disabled: the key lives in memory for this page only
    }
  }

  async function api(path) {
    if (!state.apiKey) throw new ApiError(401, 'unauthorized', 'An API key is required.');
    let response;
    try {
      response = await fetch(path, {
        headers: { Authorization: 'Bearer ' + state.apiKey, Accept: 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (err) {
      throw new ApiError(
        0,
        'network_error',
        'The service cannot be reached (' + (err && err.message ? err.message : err) + ').',
      );
    }
    let body;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = body && typeof body === 'object' && body.error ? body.error : {};
      throw new ApiError(
        response.status,
        typeof error.code === 'string' ? error.code : 'http_' + response.status,
        typeof error.message === 'string' ? error.message : response.statusText || 'Request failed.',
        response.headers.get('Retry-After'),
      );
    }
    return body;
  }

  const isAuthError = (err) => err instanceof ApiError && (err.status === 401 || err.status === 403);

  function describe(err) {
    if (err instanceof ApiError) {
      if (err.status === 429) return 'Too many requests for this key; retry in ' + (err.retryAfter || 'a few') + ' s.';
      if (err.status === 0) return err.message;
      return err.message + ' (HTTP ' + err.status + ', ' + err.code + ')';
    }
    return 'Unexpected error: ' + (err && err.message ? err.message : String(err));
  }

  function authMessage(err) {
    if (err.status === 403) {
      return 'This API key lacks the "read" scope (HTTP 403). Enter a key with the read scope.';
    }
    return 'The API key was refused (HTTP 401: ' + err.message + ') Enter a valid key with the read scope.';
  }

  // ---------------------------------------------------------------- formatting

  function number(value, digits) {
    if (value === null || value === undefined || typeof value !== 'number' || !Number.isFinite(value)) return '—';
    return value.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  const percent = (value) => (typeof value === 'number' && Number.isFinite(value) ? number(value, 0) + ' %' : '—');

  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const hourLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dayHourLabel = new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });

  function parseDate(text) {
    if (typeof text !== 'string') return null;
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function ago(text) {
    const date = parseDate(text);
    if (!date) return '—';
    const seconds = Math.round((Date.now() - date.getTime()) / 1000);
    if (seconds < 0) return dateTime.format(date);
    if (seconds < 60) return seconds + ' s ago';
    if (seconds < 3600) return Math.floor(seconds / 60) + ' min ago';
    if (seconds < 86_400) return Math.floor(seconds / 3600) + ' h ago';
    return Math.floor(seconds / 86_400) + ' d ago';
  }

  const STATUS_TEXT = { normal: 'normal', low: 'low', implausible: 'implausible', no_data: 'no data' };

  function badge(status) {
    const span = document.createElement('span');
    const known = Object.prototype.hasOwnProperty.call(STATUS_TEXT, status) ? status : 'no_data';
    span.className = 'badge badge-' + known;
    span.textContent = STATUS_TEXT[known];
    return span;
  }

  const isFlagged = (status) => status === 'low' || status === 'implausible';

  function show(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }

  // ---------------------------------------------------------------- key prompt

  function promptForKey(message) {
    storeKey(null);
    state.fleetSeq += 1;
    state.vehicleSeq += 1;
    el.dashboard.hidden = true;
    el.changeKey.hidden = true;
    el.authPanel.hidden = false;
    el.keySubmit.disabled = false;
    el.keySubmit.textContent = 'Open dashboard';
    show(el.authError, message || '');
    el.keyInput.value = '';
    el.keyInput.focus();
  }

  async function openDashboard() {
    el.keySubmit.disabled = true;
    el.keySubmit.textContent = 'Checking…';
    show(el.authError, '');
    try {
      await loadFleet(false);
    } catch (err) {
      if (isAuthError(err)) {
        promptForKey(authMessage(err));
        return;
      }
      // Not the key's fault: show the dashboard with the error on the table.
      show(el.fleetError, 'The fleet could not be loaded: ' + describe(err));
    }
    el.authPanel.hidden = true;
    el.dashboard.hidden = false;
    el.changeKey.hidden = false;
    el.keySubmit.disabled = false;
    el.keySubmit.textContent = 'Open dashboard';
    document.body.dataset.state = 'ready';
  }

  el.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = el.keyInput.value.trim();
    if (!key) {
      show(el.authError, 'Enter an API key.');
      return;
    }
    storeKey(key);
    el.keyInput.value = '';
    void openDashboard();
  });

  el.changeKey.addEventListener('click', () => promptForKey(''));

  // ---------------------------------------------------------------- fleet table

  async function loadFleet(more) {
    const seq = ++state.fleetSeq;
    let query;
    if (more && state.nextCursor) {
      // The cursor carries the first page's window, sort and filter.
      query = new URLSearchParams({ cursor: state.nextCursor, limit: String(PAGE_SIZE) });
    } else {
      const to = new Date();
      const from = new Date(to.getTime() - 24 * HOUR_MS);
      // sort=flagged: low vehicles, then implausible ones, then the rest, across all pages.
      query = new URLSearchParams({
        from: from.toISOString(),
        to: to.toISOString(),
        sort: 'flagged',
        limit: String(PAGE_SIZE),
      });
    }
    const page = await api('/v1/analytics/fleet?' + query.toString());
    if (seq !== state.fleetSeq) return;
    show(el.fleetError, '');
    const items = Array.isArray(page.items) ? page.items : [];
    if (!more) state.items = [];
    const seen = new Set(state.items.map((item) => item.vehicleId));
    for (const item of items) if (!seen.has(item.vehicleId)) state.items.push(item);
    state.nextCursor = typeof page.nextCursor === 'string' ? page.nextCursor : null;
    if (typeof page.efficiencyThreshold === 'number') state.threshold = page.efficiencyThreshold;
    if (!more && page.window) {
      const from = parseDate(page.window.from);
      const to = parseDate(page.window.to);
      if (from && to)
        el.windowLabel.textContent = 'Fleet window: ' + dateTime.format(from) + ' – ' + dateTime.format(to);
    }
    renderFleet();
  }

  function cell(text, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function renderFleet() {
    el.thresholdLabel.textContent = number(state.threshold, 2);
    el.thresholdCaption.textContent = number(state.threshold, 2);
    // The API's order (sort=flagged): flagged vehicles first.
    const rows = state.items.map((item) => {
      const tr = document.createElement('tr');
      tr.dataset.vehicleId = item.vehicleId;
      tr.dataset.status = item.efficiencyStatus;
      if (isFlagged(item.efficiencyStatus)) tr.classList.add('flagged');
      if (item.vehicleId === state.selected) tr.classList.add('selected');

      const name = document.createElement('td');
      const link = document.createElement('button');
      link.type = 'button';
      link.className = 'vehicle-link';
      link.textContent = item.vehicleId;
      name.append(link);

      const status = document.createElement('td');
      status.append(badge(item.efficiencyStatus));

      const live = item.live || null;
      const lastSeen = cell(ago(live ? live.timestamp : null));
      const seenAt = parseDate(live ? live.timestamp : null);
      if (seenAt) lastSeen.title = dateTime.format(seenAt);

      tr.append(
        name,
        cell(item.meterId || '—'),
        cell(number(item.efficiencyRatio, 3), 'num'),
        status,
        cell(number(item.acEnergyKwh, 2), 'num'),
        cell(number(item.dcEnergyKwh, 2), 'num'),
        cell(number(item.avgBatteryTempC, 1), 'num'),
        cell(live ? percent(live.soc) : '—', 'num'),
        cell(live ? number(live.batteryTemp, 1) : '—', 'num'),
        lastSeen,
      );
      return tr;
    });
    el.fleetRows.replaceChildren(...rows);
    el.fleetEmpty.hidden = state.items.length > 0;
    el.loadMore.hidden = !state.nextCursor;
    const flagged = state.items.filter((item) => isFlagged(item.efficiencyStatus)).length;
    el.fleetCount.textContent =
      state.items.length +
      ' vehicle' +
      (state.items.length === 1 ? '' : 's') +
      (state.nextCursor ? ' loaded' : '') +
      ', ' +
      flagged +
      ' flagged';
  }

  el.fleetRows.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const row = target ? target.closest('tr[data-vehicle-id]') : null;
    if (row && row.dataset.vehicleId) selectVehicle(row.dataset.vehicleId);
  });

  el.loadMore.addEventListener('click', async () => {
    el.loadMore.disabled = true;
    try {
      await loadFleet(true);
    } catch (err) {
      if (isAuthError(err)) promptForKey(authMessage(err));
      else show(el.fleetError, 'More vehicles could not be loaded: ' + describe(err));
    } finally {
      el.loadMore.disabled = false;
    }
  });

  el.refresh.addEventListener('click', async () => {
    el.refresh.disabled = true;
    try {
      await loadFleet(false);
      if (state.selected) await loadVehicle();
    } catch (err) {
      if (isAuthError(err)) promptForKey(authMessage(err));
      else show(el.fleetError, 'The fleet could not be loaded: ' + describe(err));
    } finally {
      el.refresh.disabled = false;
    }
  });

  // ---------------------------------------------------------------- one vehicle

  function selectVehicle(vehicleId) {
    state.selected = vehicleId;
    for (const row of el.fleetRows.querySelectorAll('tr')) {
      row.classList.toggle('selected', row.dataset.vehicleId === vehicleId);
    }
    el.vehiclePanel.hidden = false;
    void loadVehicle();
    el.vehiclePanel.scrollIntoView({ block: 'start' });
  }

  for (const button of el.rangeButtons) {
    button.addEventListener('click', () => {
      const range = button.dataset.range;
      if (!range || !RANGES[range] || range === state.range) return;
      state.range = range;
      for (const other of el.rangeButtons) other.setAttribute('aria-pressed', String(other === button));
      if (state.selected) void loadVehicle();
    });
  }

  async function loadVehicle() {
    const vehicleId = state.selected;
    if (!vehicleId) return;
    const rangeKey = state.range;
    const range = RANGES[rangeKey];
    const seq = ++state.vehicleSeq;
    const panel = el.vehiclePanel;
    panel.dataset.state = 'loading';
    panel.dataset.vehicleId = vehicleId;
    panel.dataset.range = rangeKey;
    el.vehicleTitle.textContent = vehicleId + ', ' + range.label;
    show(el.vehicleError, '');

    const to = new Date();
    const from = new Date(to.getTime() - range.hours * HOUR_MS);
    const span = { from: from.toISOString(), to: to.toISOString() };
    const id = encodeURIComponent(vehicleId);
    try {
      const [series, totals] = await Promise.all([
        api(
          '/v1/analytics/performance/' +
            id +
            '/series?' +
            new URLSearchParams({ ...span, bucket: range.bucket }).toString(),
        ),
        api('/v1/analytics/performance/' + id + '?' + new URLSearchParams(span).toString()),
      ]);
      if (seq !== state.vehicleSeq) return;
      if (typeof series.efficiencyThreshold === 'number') state.threshold = series.efficiencyThreshold;
      renderSummary(totals);
      renderCharts(Array.isArray(series.points) ? series.points : [], rangeKey);
      panel.dataset.state = 'ready';
    } catch (err) {
      if (seq !== state.vehicleSeq) return;
      panel.dataset.state = 'error';
      if (isAuthError(err)) promptForKey(authMessage(err));
      else show(el.vehicleError, 'The charts for ' + vehicleId + ' could not be loaded: ' + describe(err));
    }
  }

  function renderSummary(totals) {
    el.vehicleStatus.replaceChildren(badge(totals.efficiencyStatus));
    const item = state.items.find((candidate) => candidate.vehicleId === totals.vehicleId);
    const live = item && item.live ? item.live : null;
    const coverage = totals.coverage || {};
    const entries = [
      ['Meter', totals.meterId || '—'],
      ['Efficiency', number(totals.efficiencyRatio, 3)],
      ['AC drawn', number(totals.acEnergyKwh, 2) + ' kWh'],
      ['DC delivered', number(totals.dcEnergyKwh, 2) + ' kWh'],
      ['Avg battery', number(totals.avgBatteryTempC, 1) + ' °C'],
      ['SOC range', percent(totals.socMin) + ' – ' + percent(totals.socMax)],
      ['Coverage (meter / vehicle)', percent(coverage.meter * 100) + ' / ' + percent(coverage.vehicle * 100)],
      ['Live SOC', live ? percent(live.soc) : '—'],
      ['Live battery', live ? number(live.batteryTemp, 1) + ' °C' : '—'],
      ['Last seen', ago(live ? live.timestamp : null)],
    ];
    el.vehicleSummary.replaceChildren(
      ...entries.map(([term, value]) => {
        const wrapper = document.createElement('div');
        const dt = document.createElement('dt');
        dt.textContent = term;
        const dd = document.createElement('dd');
        dd.textContent = value;
        wrapper.append(dt, dd);
        return wrapper;
      }),
    );
  }

  // ---------------------------------------------------------------- charts

  function baseOptions(yTitle, extra) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { position: 'bottom' } },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 }, grid: { display: false } },
        y: Object.assign({ title: { display: true, text: yTitle } }, extra || {}),
      },
    };
  }

  function draw(name, canvasId, config) {
    const existing = state.charts[name];
    if (existing) existing.destroy();
    const canvas = $(canvasId);
    state.charts[name] = new window.Chart(canvas, config);
  }

  const valueOrNull = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

  function renderCharts(points, rangeKey) {
    if (typeof window.Chart !== 'function') {
      show(el.vehicleError, 'The chart library did not load (/dashboard/vendor/chart.umd.min.js).');
      return;
    }
    const format = rangeKey === '24h' ? hourLabel : dayHourLabel;
    const labels = points.map((point) => {
      const start = parseDate(point.start);
      return start ? format.format(start) : '';
    });

    draw('energy', 'energy-chart', {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'AC drawn (kWh)', data: points.map((p) => valueOrNull(p.acEnergyKwh)), backgroundColor: COLORS.ac },
          {
            label: 'DC delivered (kWh)',
            data: points.map((p) => valueOrNull(p.dcEnergyKwh)),
            backgroundColor: COLORS.dc,
          },
        ],
      },
      options: baseOptions('kWh', { beginAtZero: true }),
    });

    draw('efficiency', 'efficiency-chart', {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: 'Efficiency (DC / AC)',
            // Only hours in which the battery received energy: an idle hour (the charger's
            // standby draw, nothing delivered) has a ratio of 0 that says nothing about charging.
            data: points.map((p) => (valueOrNull(p.dcEnergyKwh) ? valueOrNull(p.efficiencyRatio) : null)),
            borderColor: COLORS.efficiency,
            backgroundColor: COLORS.efficiency,
            pointBackgroundColor: points.map((p) => COLORS.status[p.efficiencyStatus] || COLORS.status.no_data),
            pointRadius: rangeKey === '24h' ? 3 : 1.5,
            borderWidth: 1.5,
            spanGaps: false,
          },
          {
            label: 'Threshold ' + number(state.threshold, 2),
            data: points.map(() => state.threshold),
            borderColor: COLORS.threshold,
            borderDash: [6, 4],
            borderWidth: 1.5,
            pointRadius: 0,
            fill: false,
          },
        ],
      },
      options: baseOptions('DC / AC', { suggestedMin: 0, suggestedMax: 1.1 }),
    });

    draw('temperature', 'temperature-chart', {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: 'Avg battery temperature (°C)',
            data: points.map((p) => valueOrNull(p.avgBatteryTempC)),
            borderColor: COLORS.temperature,
            backgroundColor: COLORS.temperature,
            pointRadius: rangeKey === '24h' ? 2 : 1,
            borderWidth: 1.5,
            spanGaps: false,
          },
        ],
      },
      options: baseOptions('°C'),
    });
  }

  // ---------------------------------------------------------------- start

  if (state.apiKey) void openDashboard();
  else promptForKey('');
})();
