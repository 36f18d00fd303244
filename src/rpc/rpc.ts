// One typed RPC for every worker (HE in the browser and in worker_threads, ViT, head training). A worker declares its
// methods once, as a handler table `{ name: (args, ctx) => result }` checked with `satisfies HandlerTable`; the client
// type is derived from that table, so a method is written in exactly one place. Wire shape:
//   request  {kind: 'call', id, method, args}        cancel {kind: 'cancel', id}
//   progress {kind: 'progress', id, progress}        reply  {kind: 'reply', id, ok} | {kind: 'reply', id, err: {code, message}}
// Results are transferred (every ArrayBuffer a typed array covers completely); arguments are copied unless the
// caller names buffers to transfer. Aborting a call's signal rejects it at once with an AbortError and tells the
// worker, whose handler sees its own AbortSignal abort.
import type { Channel } from './channel.ts';

export interface RpcWireError {
  code: string;
  message: string;
}

/** What a handler gets besides its arguments. */
export interface RpcContext<P = never> {
  /** Aborts when the caller cancels; long handlers check it between steps. */
  signal: AbortSignal;
  /** Sends a progress event to the caller's onProgress. */
  progress(event: P): void;
}

// `any` args keep every concrete handler assignable (parameters are contravariant); the client re-derives the types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (args: any, ctx: RpcContext<any>) => unknown;
export type HandlerTable = Record<string, Handler>;

export type MethodOf<H extends HandlerTable> = keyof H & string;
export type ArgsOf<H extends HandlerTable, M extends MethodOf<H>> = Parameters<H[M]>[0];
export type ResultOf<H extends HandlerTable, M extends MethodOf<H>> = Awaited<ReturnType<H[M]>>;
export type ProgressOf<H extends HandlerTable, M extends MethodOf<H>> =
  Parameters<H[M]>[1] extends RpcContext<infer P> ? P : never;

export type RpcMessage =
  | { kind: 'call'; id: number; method: string; args: unknown }
  | { kind: 'cancel'; id: number }
  | { kind: 'progress'; id: number; progress: unknown }
  | ({ kind: 'reply'; id: number } & ({ ok: unknown } | { err: RpcWireError }));

export interface CallOptions<P> {
  signal?: AbortSignal | undefined;
  onProgress?: ((event: P) => void) | undefined;
  /** Argument buffers to move instead of copy (the caller's views are detached afterwards). */
  transfer?: Transferable[] | undefined;
}

/** An error as the client sees it: the worker's code and message, or 'worker' when the worker itself failed. */
export class RpcError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
  }
}

/** The code of the failure when the channel died (worker crashed, exited, was terminated). */
export const WORKER_FAILED = 'worker';

export function abortError(message: string): DOMException {
  return new DOMException(message, 'AbortError');
}

/**
 * ArrayBuffers inside `value` that can be moved rather than copied: only buffers that a typed array covers
 * completely (a view into a larger buffer, e.g. a pooled Node Buffer, must be copied, not detached).
 */
export function transferablesOf(value: unknown, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength) found.add(buffer);
  } else if (Array.isArray(value)) {
    for (const item of value) transferablesOf(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) transferablesOf(item, found);
  }
  return [...found];
}

function defaultWireError(e: unknown): RpcWireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : e.name, message: e.message };
  }
  return { code: 'Error', message: String(e) };
}

export interface ServeOptions {
  /** Maps anything a handler throws to {code, message} (default: the error's `code`, else its name). */
  toWireError?: (e: unknown, method: string) => RpcWireError;
}

/** Serves `handlers` on `channel` until it closes. Calls run concurrently; a handler that needs order serialises itself. */
export function serveRpc(handlers: HandlerTable, channel: Channel, opts: ServeOptions = {}): () => void {
  const running = new Map<number, AbortController>();
  const toWire = opts.toWireError ?? defaultWireError;
  const reply = (id: number, body: { ok: unknown } | { err: RpcWireError }, transfer: Transferable[] = []) =>
    channel.post({ kind: 'reply', id, ...body } satisfies RpcMessage, transfer);

  const call = async (id: number, method: string, args: unknown) => {
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
      if (!handler) throw new RpcError('unknown-method', `no method ${JSON.stringify(method)}`);
      const ctx: RpcContext<unknown> = {
        signal: controller.signal,
        progress: (progress) => channel.post({ kind: 'progress', id, progress } satisfies RpcMessage, []),
      };
      const ok = await handler(args, ctx);
      reply(id, { ok }, transferablesOf(ok));
    } catch (e) {
      const cancelled = controller.signal.aborted;
      reply(id, { err: cancelled ? { code: 'AbortError', message: e instanceof Error ? e.message : `${method} cancelled` } : toWire(e, method) });
    } finally {
      running.delete(id);
    }
  };

  return channel.listen((message: RpcMessage) => {
    if (message.kind === 'call') void call(message.id, message.method, message.args);
    else if (message.kind === 'cancel') running.get(message.id)?.abort(abortError('cancelled by the caller'));
  });
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: ((event: never) => void) | undefined;
}

export interface ClientOptions {
  /** Builds the error a failed call rejects with (default: RpcError; AbortError for a cancelled call). */
  toError?: (err: RpcWireError, method: string) => Error;
}

/** Client half: ids, pending calls, progress routing, cancel. Typed by the worker's handler table `H`. */
export class RpcClient<H extends HandlerTable> {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #channel: Channel;
  readonly #toError: (err: RpcWireError, method: string) => Error;
  readonly #unlisten: () => void;

  constructor(channel: Channel, opts: ClientOptions = {}) {
    this.#channel = channel;
    this.#toError = opts.toError ?? ((err, method) => new RpcError(err.code, `${method}: ${err.message}`));
    this.#unlisten = channel.listen((message: RpcMessage) => this.#receive(message), (reason) => this.failAll(reason));
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  call<M extends MethodOf<H>>(method: M, args: ArgsOf<H, M>, opts: CallOptions<ProgressOf<H, M>> = {}): Promise<ResultOf<H, M>> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortError(`${method} aborted before it started`));
    const id = this.#nextId++;
    return new Promise<ResultOf<H, M>>((resolve, reject) => {
      const onAbort = () => {
        if (!this.#pending.delete(id)) return;
        reject(abortError(`${method} cancelled`));
        try {
          this.#channel.post({ kind: 'cancel', id } satisfies RpcMessage, []);
        } catch {
          // The worker is gone; nothing left to cancel.
        }
      };
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        signal?.removeEventListener('abort', onAbort);
        fn(value);
      };
      this.#pending.set(id, { method, resolve: settle(resolve as (v: unknown) => void), reject: settle(reject), onProgress: opts.onProgress });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.#channel.post({ kind: 'call', id, method, args } satisfies RpcMessage, opts.transfer ?? []);
      } catch (e) {
        this.#pending.delete(id);
        signal?.removeEventListener('abort', onAbort);
        reject(this.#toError({ code: WORKER_FAILED, message: `posting failed: ${String(e)}` }, method));
      }
    });
  }

  #receive(message: RpcMessage): void {
    if (message.kind !== 'reply' && message.kind !== 'progress') return;
    const pending = this.#pending.get(message.id);
    if (!pending) return; // cancelled, or failed when the worker died
    if (message.kind === 'progress') {
      pending.onProgress?.(message.progress as never);
      return;
    }
    this.#pending.delete(message.id);
    if ('ok' in message) pending.resolve(message.ok);
    else if (message.err.code === 'AbortError') pending.reject(abortError(`${pending.method}: ${message.err.message}`));
    else pending.reject(this.#toError(message.err, pending.method));
  }

  /** Fails every pending call (the worker died or was terminated). */
  failAll(reason: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(this.#toError({ code: WORKER_FAILED, message: reason }, p.method));
  }

  /** Stops listening and fails what is pending; the owner terminates the worker itself. */
  close(reason: string): void {
    this.#unlisten();
    this.failAll(reason);
  }
}
