// A small handler table the RPC tests serve over a loopback pair and from a worker thread (test-worker.ts).
import type { HandlerTable, RpcContext } from './rpc.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

export const testHandlers = {
  double: ({ values }: { values: Float64Array }) => values.map((v) => v * 2),
  fail: ({ code }: { code: string }): never => {
    throw Object.assign(new Error(`failed on purpose with ${code}`), { code });
  },
  /** Counts to `steps`, one progress event per step; stops when cancelled and reports how far it got in `seen`. */
  count: async ({ steps }: { steps: number }, ctx: RpcContext<{ done: number }>) => {
    for (let done = 1; done <= steps; done++) {
      await tick();
      ctx.signal.throwIfAborted();
      ctx.progress({ done });
    }
    return steps;
  },
  /** Byte length of the argument, and whether the buffer arrived (it was moved, not copied). */
  length: ({ bytes }: { bytes: Uint8Array }) => bytes.byteLength,
} satisfies HandlerTable;

export type TestHandlers = typeof testHandlers;
