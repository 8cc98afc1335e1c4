import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Webhook } from 'standardwebhooks';

/** A message the receiver verified with the `standardwebhooks` library. */
export interface ReceivedMessage {
  id: string;
  type: string;
  data: Record<string, unknown>;
  path: string;
  at: number;
}

/** How the receiver answers one request (after verifying it): a status, headers, a delay first. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

/**
 * A real webhook receiver on loopback, as a user would write one: every request is verified with
 * the `standardwebhooks` library and the webhook's secret (a request that does not verify lands
 * in `invalid`, and gets 400). `answer` decides the response of each verified request.
 */
export class WebhookReceiver {
  readonly received: ReceivedMessage[] = [];
  readonly invalid: { path: string; error: string }[] = [];
  /** Requests being answered right now, by webhook-id (for the concurrency checks). */
  readonly inFlight = new Map<string, number>();
  maxConcurrentPerId = 0;
  answer: (message: ReceivedMessage, attempt: number) => Answer = () => ({ status: 204 });
  private verifier: Webhook | undefined;
  private server: Server | undefined;
  port = 0;

  set secret(secret: string) {
    this.verifier = new Webhook(secret);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Messages of one path (each webhook of a test gets its own path). */
  at(path: string): ReceivedMessage[] {
    return this.received.filter((m) => m.path === path);
  }

  async start(port = this.port): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    let message: ReceivedMessage;
    try {
      if (!this.verifier) throw new Error('no secret set');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const event = this.verifier.verify(body, headers) as { type: string; data: Record<string, unknown> };
      message = { id: headers['webhook-id']!, type: event.type, data: event.data, path, at: Date.now() };
    } catch (error) {
      this.invalid.push({ path, error: String(error) });
      res.writeHead(400).end();
      return;
    }
    this.received.push(message);
    const attempt = this.received.filter((m) => m.id === message.id).length;
    const concurrent = (this.inFlight.get(message.id) ?? 0) + 1;
    this.inFlight.set(message.id, concurrent);
    this.maxConcurrentPerId = Math.max(this.maxConcurrentPerId, concurrent);
    try {
      const answer = this.answer(message, attempt);
      if (answer.delayMs) await new Promise((done) => setTimeout(done, answer.delayMs));
      if (!res.destroyed) res.writeHead(answer.status, answer.headers).end('ok');
    } finally {
      this.inFlight.set(message.id, (this.inFlight.get(message.id) ?? 1) - 1);
    }
  }
}
