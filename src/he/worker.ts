// Browser module Web Worker hosting SEAL. Create it with
//   new Worker(new URL('./he/worker.ts', import.meta.url), { type: 'module' })
// and talk to it through HeWorkerClient. The wasm URL comes from a Vite `?url` import because node-seal's own
// `new URL(p, import.meta.url)` lookup is not rewritten by Vite (research/node-seal.md §7); the relative path is
// needed because node-seal's exports map blocks `node-seal/dist/...`.
import wasmUrl from '../../node_modules/node-seal/dist/seal_throws.wasm?url';
import { webWorkerChannel } from '../rpc/channel.ts';
import type { WebWorkerLike } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { heHandlers, heWireError } from './handlers.ts';

serveRpc(heHandlers({ wasmUrl }), webWorkerChannel(self as unknown as WebWorkerLike, 'HE worker parent'), { toWireError: heWireError });
