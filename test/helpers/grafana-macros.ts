/**
 * Grafana's substitution of a PostgreSQL panel query, mirrored from the data source
 * (Grafana 11/12), so tests can run a dashboard's SQL without Grafana:
 * 1. the frontend replaces template variables ($name, ${name}, [[name]]); a multi-value or
 *    include-All variable becomes a comma-separated list of quoted literals, "All" (without
 *    a custom all value) the list of every option;
 * 2. the backend replaces $__interval_ms, $__interval, $__unixEpochFrom(), $__unixEpochTo();
 * 3. the macro engine (pkg/tsdb/grafana-postgresql-datasource/macros.go) replaces every
 *    `$name(args)`, args up to the first ")", split on ","; an unknown macro is an error.
 * Anything left that looks like a variable or macro is an error too, so a query the test
 * cannot substitute fails instead of reaching the database half-done.
 */

/** What Grafana knows when it runs a panel's query. */
export interface GrafanaQueryContext {
  from: Date;
  to: Date;
  /** Grafana's $__interval for the panel, e.g. '1h' (at least the panel's min interval). */
  interval: string;
  /** Selected values of each template variable (all options for "All"). */
  variables: Record<string, string[]>;
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped. */
const rfc3339 = (at: Date) => at.toISOString().replace(/\.?0+Z$/, 'Z');

/** Seconds of a Grafana interval such as '5m' (gtime.ParseInterval, for the units a dashboard uses). */
export function grafanaIntervalSeconds(raw: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(raw.trim().replace(/^'|'$/g, ''));
  if (!match) throw new Error(`error parsing interval ${raw}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[
    match[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'
  ];
  return Number(match[1]) * unit;
}

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Step 1: template variables (templateSrv's regex); unknown names stay for the final check. */
function substituteVariables(rawSql: string, ctx: GrafanaQueryContext): string {
  return rawSql.replace(
    /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g,
    (whole, plain?: string, bracket?: string, bracketFormat?: string, braced?: string, bracedFormat?: string) => {
      const name = plain ?? bracket ?? braced ?? '';
      const values = ctx.variables[name];
      if (!values) return whole;
      if (bracketFormat ?? bracedFormat) throw new Error(`variable format not supported by this test: ${whole}`);
      return values.map(quoteLiteral).join(',');
    },
  );
}

/** Step 2: global substitutions of the SQL engine. */
function substituteGlobals(query: string, ctx: GrafanaQueryContext): string {
  const seconds = grafanaIntervalSeconds(ctx.interval);
  return query
    .replaceAll('$__interval_ms', String(Math.round(seconds * 1000)))
    .replaceAll('$__interval', ctx.interval)
    .replaceAll('$__unixEpochFrom()', String(Math.floor(ctx.from.getTime() / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(ctx.to.getTime() / 1000)));
}

/** Step 3: the PostgreSQL macro engine, TimescaleDB mode on (jsonData.timescaledb: true). */
function substituteMacros(source: string, ctx: GrafanaQueryContext): string {
  const from = rfc3339(ctx.from);
  const to = rfc3339(ctx.to);
  return source.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (whole: string, macro: string, argText: string) => {
    const args = argText.split(',').map((arg) => arg.trim());
    const column = () => {
      if (!args[0]) throw new Error(`missing time column argument for macro ${macro} in ${whole}`);
      return args[0];
    };
    const timeGroup = () => {
      if (args.length < 2) throw new Error(`macro ${macro} needs time column and interval: ${whole}`);
      if (args.length > 2) throw new Error(`fill modes are not used by this dashboard: ${whole}`);
      return `time_bucket('${grafanaIntervalSeconds(args[1]!).toFixed(3)}s',${column()})`;
    };
    switch (macro) {
      case '__time':
        return `${column()} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${column()}) as "time"`;
      case '__timeFilter':
        return `${column()} BETWEEN '${from}' AND '${to}'`;
      case '__timeFrom':
        return `'${from}'`;
      case '__timeTo':
        return `'${to}'`;
      case '__timeGroup': {
        // Grafana < 5.3 compatibility: directly followed by "," it adds AS "time".
        const after = source[source.indexOf(whole) + whole.length];
        return after === ',' ? `${timeGroup()} AS "time"` : timeGroup();
      }
      case '__timeGroupAlias':
        return `${timeGroup()} AS "time"`;
      case '__unixEpochFilter':
        return `${column()} >= ${Math.floor(ctx.from.getTime() / 1000)} AND ${column()} <= ${Math.floor(ctx.to.getTime() / 1000)}`;
      default:
        throw new Error(`unknown macro "${macro}" in ${whole}`);
    }
  });
}

/** The SQL Grafana would send to the database for `rawSql`; throws where Grafana would fail. */
export function interpolateGrafanaSql(rawSql: string, ctx: GrafanaQueryContext): string {
  const query = substituteMacros(substituteGlobals(substituteVariables(rawSql, ctx), ctx), ctx);
  const left = query.match(/\$\{?\w+|\[\[\w+/g);
  if (left) throw new Error(`not substituted: ${[...new Set(left)].join(', ')}\n${query}`);
  return query;
}
