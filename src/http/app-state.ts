/** What the middleware chain keeps on `ctx.state`. */
export interface AppState {
  requestId: string;
}
