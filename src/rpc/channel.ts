// The one thing RpcClient and serveRpc need from a transport: post a message with transferables, and listen
// (plus, on the client side, hear that the other end died). Adapters for a browser Web Worker (both sides), a
// worker_threads Worker / MessagePort (both sides) and an in-process loopback pair for tests.
import type { MessagePort, Transferable as NodeTransferable, Worker as NodeWorker } from 'node:worker_threads';
import type { RpcMessage } from './rpc.ts';

export interface Channel {
  post(message: RpcMessage, transfer: Transferable[]): void;
  /** Calls `onMessage` for every message and `onFailure` when the other end dies; returns an unsubscribe. */
  listen(onMessage: (message: RpcMessage) => void, onFailure?: (reason: string) => void): () => void;
}

/** Main-thread side of a browser Worker (or a DedicatedWorkerGlobalScope, which has the same three members). */
export interface WebWorkerLike extends EventTarget {
  postMessage(message: unknown, transfer: Transferable[]): void;
}

export function webWorkerChannel(worker: WebWorkerLike, name: string): Channel {
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen(onMessage, onFailure) {
      const message = (event: Event) => onMessage((event as MessageEvent<RpcMessage>).data);
      const error = (event: Event) => {
        event.preventDefault();
        onFailure?.(`${name} failed: ${(event as ErrorEvent).message || 'failed to load or crashed'}`);
      };
      const unreadable = () => onFailure?.(`${name} sent an unreadable message`);
      worker.addEventListener('message', message);
      worker.addEventListener('error', error);
      worker.addEventListener('messageerror', unreadable);
      return () => {
        worker.removeEventListener('message', message);
        worker.removeEventListener('error', error);
        worker.removeEventListener('messageerror', unreadable);
      };
    },
  };
}

/** node:worker_threads Worker (parent side) or MessagePort / parentPort (thread side). */
export function nodePortChannel(port: NodeWorker | MessagePort, name: string): Channel {
  const node = port as NodeWorker; // both are EventEmitters with these events; a port never emits 'exit'
  return {
    post: (message, transfer) => node.postMessage(message, transfer as NodeTransferable[]),
    listen(onMessage, onFailure) {
      const message = (m: RpcMessage) => onMessage(m);
      const error = (e: Error) => onFailure?.(`${name} failed: ${e.message}`);
      const exit = (code: number) => onFailure?.(`${name} exited with code ${code}`);
      node.on('message', message);
      node.on('error', error);
      node.on('exit', exit);
      return () => {
        node.off('message', message);
        node.off('error', error);
        node.off('exit', exit);
      };
    },
  };
}

/** Two connected in-process ends (tests): messages go through structuredClone, transferables are moved. */
export function loopbackPair(): [Channel, Channel] {
  const listeners: [Set<(m: RpcMessage) => void>, Set<(m: RpcMessage) => void>] = [new Set(), new Set()];
  const end = (mine: 0 | 1): Channel => ({
    post(message, transfer) {
      const copy = structuredClone(message, { transfer: transfer as Transferable[] });
      queueMicrotask(() => listeners[(1 - mine) as 0 | 1].forEach((l) => l(copy)));
    },
    listen(onMessage) {
      listeners[mine].add(onMessage);
      return () => listeners[mine].delete(onMessage);
    },
  });
  return [end(0), end(1)];
}
