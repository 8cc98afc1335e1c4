/** Messages exchanged over IPC between the service and its embedded database process. */
export interface EmbeddedDbOptions {
  /** A directory for persistent data, or undefined for an in-memory database. */
  dataDir: string | undefined;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export type ParentMessage = { type: 'stop' };

export type ChildMessage = { type: 'ready'; port: number } | { type: 'failed'; message: string };
