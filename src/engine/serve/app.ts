import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, asApiError } from './api-error.js';
import { DynamicBatcher } from './batcher.js';
import { CompletionRoutes } from './completion-routes.js';
import { readJsonBody, sendError, sendJson } from './http-io.js';
import { ServeMetrics } from './metrics.js';
import type { ServedModel } from './served-model.js';

/**
 * The HTTP server of `finetune serve` on node:http: routing, the API key, the concurrency limit,
 * metrics per request, and draining on shutdown. The routes themselves live in
 * completion-routes.ts (OpenAI) and the task pipelines (/predict).
 */
export interface ServeOptions {
  /** /predict inputs per engine run at most; rows per decode step of the completion routes. */
  maxBatch: number;
  /** How long the first queued /predict input waits for others before its batch runs. */
  maxWaitMs: number;
  /** Requests handled at once (queued ones included); more get 429. /health and /metrics are not counted. */
  maxConcurrency: number;
  /** Required as `Authorization: Bearer <key>` on every route but /health and /metrics. */
  apiKey?: string | undefined;
  /** Request bodies larger than this get 413. */
  maxBodyBytes: number;
  /** Where engine errors are logged (stderr in the CLI). */
  log?: (line: string) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

type Handler = (body: unknown, res: ServerResponse, signal: AbortSignal) => Promise<void>;

/** Route names are the metric labels: a fixed set, whatever paths clients try. */
const ROUTES = ['/health', '/metrics', '/v1/models', '/v1/chat/completions', '/v1/completions', '/predict'] as const;
type Route = (typeof ROUTES)[number];
const UNMETERED: ReadonlySet<Route> = new Set(['/health', '/metrics']);

export class ServeApp {
  readonly server: Server;
  readonly metrics = new ServeMetrics();
  private readonly posts = new Map<Route, Handler>();
  private inFlight = 0;
  private draining = false;
  private idle: (() => void) | undefined;
  private closed: Promise<void> | undefined;

  constructor(
    readonly model: ServedModel,
    private readonly o: ServeOptions,
  ) {
    if (model.kind === 'causal-lm') {
      const generator = model.lm.decoder({
        maxBatch: o.maxBatch,
        onDepth: (d) => this.metrics.queueDepth.set({ queue: 'generate' }, d),
        onStep: (rows) => this.metrics.decodeRows.observe(rows),
      });
      const routes = new CompletionRoutes(model.lm, model.id, generator, this.metrics);
      this.posts.set('/v1/chat/completions', (b, res, s) => routes.chat(b, res, s));
      this.posts.set('/v1/completions', (b, res, s) => routes.completion(b, res, s));
    } else {
      const { pipeline } = model;
      const batcher = new DynamicBatcher((inputs: unknown[]) => pipeline.run(inputs), {
        maxBatch: o.maxBatch,
        maxWaitMs: o.maxWaitMs,
        onBatch: (n) => this.metrics.batchSize.observe(n),
        onDepth: (d) => this.metrics.queueDepth.set({ queue: 'predict' }, d),
      });
      this.posts.set('/predict', async (body, res) => {
        const request = pipeline.parse(body);
        const results = await Promise.all(request.inputs.map((input) => batcher.submit(input)));
        sendJson(res, 200, request.single ? request.format(results[0]) : results.map((r) => request.format(r)));
      });
    }
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  /** Starts listening; resolves with the URL once bound (port 0 picks a free port). */
  listen(host: string, port: number): Promise<{ url: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const bound = (this.server.address() as AddressInfo).port;
        const shownHost = host.includes(':') ? `[${host}]` : host;
        resolve({ url: `http://${shownHost}:${bound}`, port: bound });
      });
    });
  }

  /** Requests being handled now (what --max-concurrency bounds). */
  get inFlightRequests(): number {
    return this.inFlight;
  }

  /**
   * Stops accepting connections, lets the requests in flight finish (streams included), then
   * closes the idle keep-alive connections; resolves once the server is closed.
   */
  drain(): Promise<void> {
    if (this.closed) return this.closed;
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const idle = new Promise<void>((resolve) => {
      if (this.inFlight === 0) resolve();
      else this.idle = resolve;
    });
    this.closed = idle.then(() => {
      this.server.closeIdleConnections();
      return closed;
    });
    return this.closed;
  }

  private routeOf(path: string): Route | 'other' {
    return (ROUTES as readonly string[]).includes(path) ? (path as Route) : 'other';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const route = this.routeOf(path);
    res.on('close', () => {
      // A response that never finished lost its client: nginx's 499 "client closed request".
      const status = res.writableFinished ? String(res.statusCode) : '499';
      this.metrics.requests.inc({ route, status });
      this.metrics.latency.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    const metered = route !== 'other' && !UNMETERED.has(route);
    let counted = false;
    try {
      if (this.draining) {
        res.setHeader('Connection', 'close');
        throw new ApiError(503, 'the server is shutting down', 'server_error', null, 'shutting_down');
      }
      if (route === '/health') return sendJson(res, 200, { status: 'ok', model: this.model.id });
      if (route === '/metrics') {
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
        res.end(text);
        return;
      }
      this.authorize(req);
      if (metered) {
        if (this.inFlight >= this.o.maxConcurrency)
          throw new ApiError(
            429,
            `the server is handling its limit of ${this.o.maxConcurrency} requests; retry shortly`,
            'requests',
            null,
            'rate_limit_exceeded',
            { 'Retry-After': '1' },
          );
        this.inFlight++;
        counted = true;
        this.metrics.inFlight.set(this.inFlight);
      }
      await this.dispatch(route, path, req, res);
    } catch (err) {
      const error = asApiError(err);
      if (error.status >= 500 && error.code !== 'shutting_down')
        this.o.log?.(`${req.method} ${path}: ${(err as Error).stack ?? error.message}`);
      sendError(res, error);
    } finally {
      if (counted) {
        this.inFlight--;
        this.metrics.inFlight.set(this.inFlight);
        if (this.inFlight === 0) this.idle?.();
      }
    }
  }

  private async dispatch(route: Route | 'other', path: string, req: IncomingMessage, res: ServerResponse) {
    if (route === '/v1/models') {
      if (req.method !== 'GET') throw methodNotAllowed(req.method, path);
      return sendJson(res, 200, {
        object: 'list',
        data: [{ id: this.model.id, object: 'model', created: 0, owned_by: 'finetune-workbench' }],
      });
    }
    const post = route === 'other' ? undefined : this.posts.get(route);
    if (!post) {
      const serves =
        this.model.kind === 'causal-lm'
          ? 'a causal LM: POST /v1/chat/completions, POST /v1/completions, GET /v1/models'
          : `a ${this.model.task} model: POST /predict`;
      throw new ApiError(
        404,
        `no route ${path}; this server serves ${serves}`,
        'invalid_request_error',
        null,
        'not_found',
      );
    }
    if (req.method !== 'POST') throw methodNotAllowed(req.method, path);
    const body = await readJsonBody(req, this.o.maxBodyBytes);
    const abort = new AbortController();
    // The client left before its response ended: its generation (or its queued turn) is cancelled.
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new Error('the client disconnected'));
    });
    await post(body, res, abort.signal);
  }

  private authorize(req: IncomingMessage): void {
    const key = this.o.apiKey;
    if (key === undefined) return;
    const given = Buffer.from(req.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${key}`);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    throw new ApiError(
      401,
      req.headers.authorization
        ? 'Incorrect API key provided'
        : 'You did not provide an API key: send it as "Authorization: Bearer <key>"',
      'invalid_request_error',
      null,
      'invalid_api_key',
      { 'WWW-Authenticate': 'Bearer' },
    );
  }
}

const methodNotAllowed = (method: string | undefined, path: string) =>
  new ApiError(405, `${method} is not allowed on ${path}`, 'invalid_request_error', null, 'method_not_allowed');
