import type { Principal } from '../auth/api-key.service.js';
import type { Logger } from '../logger.js';

/** What the middleware chain keeps on `ctx.state`. */
export interface AppState {
  requestId: string;
  /**
   * The request's logger (set by the request-log middleware): every line it writes carries
   * `requestId`. Log through it, not the service logger, while handling a request.
   */
  logger: Logger;
  /** Set by the authentication middleware on every /v1 request. */
  principal?: Principal;
}
