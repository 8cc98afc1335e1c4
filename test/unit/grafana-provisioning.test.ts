import { readFile } from 'node:fs/promises';

import test from 'ava';

import { dashboard, panelByTitle, panels, repositoryRoot, targetOf } from '../helpers/grafana-dashboard.js';

const text = (path: string) => readFile(new URL(path, repositoryRoot), 'utf8');

/** The Grafana provisioning (compose profile `grafana`), checked without Grafana or a database. */
test('the dashboard is provisioned against the compose database and every panel is raw SQL', async (t) => {
  const [datasource, providers, compose] = await Promise.all([
    text('grafana/provisioning/datasources/timescaledb.yaml'),
    text('grafana/provisioning/dashboards/dashboards.yaml'),
    text('docker-compose.yml'),
  ]);
  const field = (yaml: string, key: string) => new RegExp(`^\\s*${key}:\\s*(\\S+)\\s*$`, 'm').exec(yaml)?.[1];
  const uid = field(datasource, 'uid');
  t.is(uid, 'timescaledb');
  t.is(field(datasource, 'type'), 'grafana-postgresql-datasource');
  t.is(field(datasource, 'timescaledb'), 'true', '$__timeGroup becomes time_bucket');
  t.is(field(datasource, 'url'), 'timescaledb:5432');
  t.regex(compose, /^ {2}timescaledb:\n/m, 'the data source host is the compose service');
  t.is(field(datasource, 'user'), field(compose, 'POSTGRES_USER'));
  t.is(field(datasource, 'password'), field(compose, 'POSTGRES_PASSWORD'));
  t.is(field(datasource, 'database'), field(compose, 'POSTGRES_DB'));
  t.is(field(providers, 'path'), '/var/lib/grafana/dashboards');
  t.regex(compose, /- \.\/grafana\/dashboards:\/var\/lib\/grafana\/dashboards:ro/);
  t.regex(compose, /- \.\/grafana\/provisioning:\/etc\/grafana\/provisioning/);

  t.is(dashboard.uid, 'ev-fleet');
  t.true(dashboard.schemaVersion >= 39);
  t.is(panelByTitle.size, panels.length, 'panel titles are unique');
  for (const panel of panels) {
    t.is(panel.targets?.length, 1, `${panel.title}: one query`);
    const target = targetOf(panel.title);
    t.is(target.datasource?.uid, uid, `${panel.title}: target data source`);
    t.is(panel.datasource?.uid, uid, `${panel.title}: panel data source`);
    t.true(target.rawQuery, `${panel.title}: rawQuery`);
    t.is(target.editorMode, 'code', `${panel.title}: code editor`);
    t.true(target.format === 'time_series' || target.format === 'table', `${panel.title}: format`);
    t.regex(target.rawSql, /IN \(\$vehicle\)/, `${panel.title}: filtered by $vehicle`);
  }
  const variable = dashboard.templating.list.find((v) => v.name === 'vehicle');
  t.like(variable, { type: 'query', multi: true, includeAll: true, datasource: { uid } });
});
