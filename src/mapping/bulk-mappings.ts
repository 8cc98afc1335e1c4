import { AppError, type ErrorDetail } from '../http/app-error.js';
import { issuesToDetails } from '../http/validate.js';
import { MAX_BULK_MAPPINGS, mappingEntries, mappingEntry } from './mapping.schema.js';

export interface MappingInput {
  vehicleId: string;
  meterId: string;
  /** Unset: now. */
  from?: Date | undefined;
  /** For CSV bodies: the 1-based line it came from. */
  line?: number;
}

const COLUMNS = ['vehicle_id', 'meter_id', 'from'];
const HEADERS = ['vehicle_id,meter_id', 'vehicle_id,meter_id,from'];
/** Beyond this many problems the rest would only repeat them. */
const MAX_DETAILS = 100;

const unquote = (field: string) => field.trim().replace(/^"(.*)"$/, '$1');

/** Parses and validates a CSV body; every bad line is reported with its number. */
export function parseMappingsCsv(text: string): MappingInput[] {
  const lines = text.split(/\r?\n/);
  const entries: { line: number; entry: MappingInput }[] = [];
  const details: ErrorDetail[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const fields = raw.split(',').map(unquote);
    if (line === 1 && fields.some((field) => COLUMNS.includes(field.toLowerCase()))) {
      // A header: it must name the columns in this order, or the pairs would be read swapped.
      if (!HEADERS.includes(fields.map((field) => field.toLowerCase()).join(','))) {
        details.push({ line, path: 'line', message: `a header must be exactly ${HEADERS.join(' or ')}` });
      }
      return;
    }
    if (fields.length !== 2 && fields.length !== 3) {
      details.push({
        line,
        path: 'line',
        message: `must hold 2 or 3 fields (vehicle_id,meter_id[,from]), found ${fields.length}`,
      });
      return;
    }
    const parsed = mappingEntry.safeParse({
      vehicleId: fields[0],
      meterId: fields[1],
      from: fields[2] === undefined || fields[2] === '' ? undefined : fields[2],
    });
    if (!parsed.success) {
      const columns: Record<string, string> = { vehicleId: 'vehicle_id', meterId: 'meter_id', from: 'from' };
      for (const d of issuesToDetails(parsed.error.issues))
        details.push({ line, path: columns[d.path] ?? d.path, message: d.message });
      return;
    }
    entries.push({ line, entry: parsed.data });
  });
  if (entries.length === 0 && details.length === 0) details.push({ path: 'body', message: 'holds no mapping' });
  if (entries.length > MAX_BULK_MAPPINGS)
    details.push({ path: 'body', message: `holds at most ${MAX_BULK_MAPPINGS} mappings` });
  details.push(...duplicateVehicles(entries.map(({ line, entry }) => ({ entry, where: { line } }))));
  if (details.length > 0) throw refusal(details);
  return entries.map(({ line, entry }) => ({ ...entry, line }));
}

/** Validates a JSON body (an array of { vehicleId, meterId }); errors name the index. */
export function parseMappingsJson(body: unknown): MappingInput[] {
  const parsed = mappingEntries.safeParse(body);
  if (!parsed.success) throw refusal(issuesToDetails(parsed.error.issues));
  const duplicates = duplicateVehicles(parsed.data.map((entry, index) => ({ entry, where: { index } })));
  if (duplicates.length > 0) throw refusal(duplicates);
  return parsed.data;
}

/** A vehicle has one meter: listing it twice is ambiguous, whichever meters the lines name. */
function duplicateVehicles(
  entries: { entry: MappingInput; where: { line: number } | { index: number } }[],
): ErrorDetail[] {
  const firstSeen = new Map<string, string>();
  const details: ErrorDetail[] = [];
  for (const { entry, where } of entries) {
    const label = 'line' in where ? `line ${where.line}` : `index ${where.index}`;
    const earlier = firstSeen.get(entry.vehicleId);
    if (earlier === undefined) firstSeen.set(entry.vehicleId, label);
    else {
      const path = 'line' in where ? 'vehicle_id' : 'vehicleId';
      details.push({ ...where, path, message: `vehicle ${entry.vehicleId} is already listed at ${earlier}` });
    }
  }
  return details;
}

function refusal(details: ErrorDetail[]): AppError {
  const shown = details.slice(0, MAX_DETAILS);
  const more = details.length > MAX_DETAILS ? ` (first ${MAX_DETAILS} of ${details.length} problems shown)` : '';
  return AppError.validation(shown, `The mappings are invalid; none was applied${more}.`);
}
