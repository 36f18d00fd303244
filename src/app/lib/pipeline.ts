// A bounded two-stage pipeline with an ordered finishing step, for tile extraction: while batch k is in `run` (the
// forward pass), batches k+1 … k+ahead are in `prepare` (decode + preprocess, one at a time), so neither stage waits
// on the other once it is under way, and at most `ahead` prepared batches wait in memory. `finish` (caching the
// tokens) runs for each batch in order as soon as its `run` ends, overlapping the next `run`. An aborted signal stops
// both stages: nothing new starts, pending work is dropped, and the finishing steps already begun are awaited, so
// what was computed is kept.

export interface PipelineStages<B, P, R> {
  prepare(batch: B, index: number, signal: AbortSignal): Promise<P>;
  run(prepared: P, batch: B, index: number, signal: AbortSignal): Promise<R>;
  finish(result: R, batch: B, index: number): Promise<void> | void;
}

export interface PipelineOptions {
  /** Batches prepared beyond the one running (0: strictly serial, prepare k+1 only after batch k is finished). */
  ahead: number;
  signal?: AbortSignal | undefined;
}

const ignore = (): void => undefined;

/** `work`, or an AbortError as soon as `signal` aborts (a stage that does not watch its signal cannot hold us up). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export async function runPipeline<B, P, R>(batches: readonly B[], stages: PipelineStages<B, P, R>, opts: PipelineOptions): Promise<void> {
  if (!Number.isInteger(opts.ahead) || opts.ahead < 0) throw new Error(`ahead must be a whole number, got ${opts.ahead}`);
  // Our own signal, aborted with the caller's and on the way out, so that batches still being prepared after a
  // failure are cancelled in the worker too.
  const controller = new AbortController();
  const signal = controller.signal;
  const forward = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) forward();
  opts.signal?.addEventListener('abort', forward, { once: true });
  const prepared = new Map<number, Promise<P>>();
  let preparing: Promise<unknown> = Promise.resolve();
  let nextToPrepare = 0;
  const startPreparing = (index: number) => {
    const result = preparing.then(() => {
      signal.throwIfAborted();
      return stages.prepare(batches[index] as B, index, signal);
    });
    result.catch(ignore); // seen when its turn comes; a batch dropped by an abort must not reject unhandled
    preparing = result.catch(ignore);
    prepared.set(index, result);
  };
  let finishing: Promise<void> = Promise.resolve();
  // Set from inside the finishing chain (an object, so that the loop's checks are not narrowed away).
  const finishFailure: { failed: boolean; error?: unknown } = { failed: false };
  try {
    for (let index = 0; index < batches.length; index++) {
      if (finishFailure.failed) throw finishFailure.error;
      signal.throwIfAborted();
      while (nextToPrepare < batches.length && nextToPrepare <= index + opts.ahead) startPreparing(nextToPrepare++);
      const input = await unlessAborted(prepared.get(index) as Promise<P>, signal);
      prepared.delete(index);
      const result = await unlessAborted(stages.run(input, batches[index] as B, index, signal), signal);
      finishing = finishing
        .then(() => (finishFailure.failed ? undefined : stages.finish(result, batches[index] as B, index)))
        .catch((error: unknown) => {
          finishFailure.failed = true;
          finishFailure.error = error;
        });
      if (opts.ahead === 0) await finishing;
    }
    await finishing;
    if (finishFailure.failed) throw finishFailure.error;
  } catch (error) {
    await finishing; // tokens whose finishing began are kept (it never rejects: failures land in finishFailure)
    throw error;
  } finally {
    opts.signal?.removeEventListener('abort', forward);
    controller.abort(new DOMException('the pipeline ended', 'AbortError'));
  }
}
