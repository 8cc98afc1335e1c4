import { END_OF_TIME, START_OF_TIME } from '../time.js';

/**
 * An instant as PostgreSQL text, for arrays of instants (unnest parameters), which are sent
 * as text: END_OF_TIME / START_OF_TIME become 'infinity' / '-infinity'.
 */
export function pgInstant(date: Date): string {
  if (date.getTime() >= END_OF_TIME.getTime()) return 'infinity';
  if (date.getTime() <= START_OF_TIME.getTime()) return '-infinity';
  return date.toISOString();
}
