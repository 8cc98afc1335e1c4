import { pino, type DestinationStream, type Logger as PinoLogger, type LoggerOptions as PinoOptions } from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured logs on pino: one JSON object per line on stdout (pretty-printed for people
 * in development). The interface is message first, fields second; the fields become top
 * level keys of the line, next to `level`, `time` and `msg`.
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line it writes (e.g. the request id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Human-readable lines (pino-pretty) instead of JSON. Default: JSON. */
  pretty?: boolean;
  /** Where lines go. Default: stdout, written synchronously. */
  destination?: DestinationStream | NodeJS.WritableStream;
}

const REDACTED = '[redacted]';

/**
 * Secrets never belong in a log line; nothing logs them, and this catches a mistake.
 * `key` at the top level is the API key's id (request lines), not a secret, so only nested
 * `key` fields (e.g. a created key's response) are redacted.
 */
export const REDACT_PATHS = [
  'authorization',
  'apiKey',
  'adminApiKey',
  'password',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.authorization',
  '*.apiKey',
  '*.adminApiKey',
  '*.password',
  '*.key',
];

/** Any Error among the fields, not only `err`, gets pino's error serializer. */
function withSerializedErrors(fields: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const name in fields) {
    const value = fields[name];
    if (name !== 'err' && value instanceof Error) {
      out ??= { ...fields };
      out[name] = pino.stdSerializers.err(value);
    }
  }
  return out ?? fields;
}

function wrap(target: PinoLogger): Logger {
  const at =
    (level: Exclude<LogLevel, 'silent'>) =>
    (msg: string, fields?: LogFields): void => {
      if (!target.isLevelEnabled(level)) return;
      if (fields === undefined) target[level](msg);
      else target[level](withSerializedErrors(fields), msg);
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (fields) => wrap(target.child(withSerializedErrors(fields))),
  };
}

const discard: DestinationStream = { write: () => undefined };

export function createLogger(level: LogLevel, base: LogFields = {}, options: LoggerOptions = {}): Logger {
  const pinoOptions: PinoOptions = {
    level,
    // No pid/hostname: call sites log a `pid` of their own (the embedded database's).
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  let destination: DestinationStream | NodeJS.WritableStream;
  if (level === 'silent') {
    destination = discard;
  } else if (options.pretty) {
    // A synchronous stream in this thread, not a worker transport: nothing is lost when
    // the process exits right after logging.
    destination = pretty({
      sync: true,
      colorize: options.destination === undefined ? process.stdout.isTTY === true : false,
      translateTime: 'SYS:HH:MM:ss.l',
      ...(options.destination ? { destination: options.destination } : {}),
    });
  } else {
    destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  }
  return wrap(pino(pinoOptions, destination));
}

/** Pretty when LOG_PRETTY says so; unset: in development, when stdout is a terminal. */
export function shouldPrettyPrint(config: { env: string; logPretty?: boolean | undefined }): boolean {
  return config.logPretty ?? (config.env !== 'production' && process.stdout.isTTY === true);
}

/** The service's logger, as the configuration asks. */
export function createLoggerFromConfig(config: {
  env: string;
  logLevel: LogLevel;
  logPretty?: boolean | undefined;
}): Logger {
  return createLogger(config.logLevel, {}, { pretty: shouldPrettyPrint(config) });
}
