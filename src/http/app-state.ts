import type { Logger } from '../logger.js';

/**
 * What the middleware chain keeps on `ctx.state`. Features that add to it (authentication
 * adds the caller's `principal`) declare their fields by augmenting this interface from
 * their own folder, so this one imports none of them.
 */
export interface AppState {
  requestId: string;
  /**
   * The request's logger (set by the request-log middleware): every line it writes carries
   * `requestId`. Log through it, not the service logger, while handling a request.
   */
  logger: Logger;
}
