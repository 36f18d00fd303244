// Module Web Worker entry: runs tfjs off the main thread. Create it with
//   new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })
// and talk to it through VitWorkerClient (client.ts). The methods are vitHandlers (worker-host.ts) on src/rpc.

import { webWorkerChannel } from '../rpc/channel.ts';
import type { WebWorkerLike } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { TFJS_WASM_PATHS } from './wasm-paths.ts';
import { vitHandlers } from './worker-host.ts';

const scope = self as unknown as WebWorkerLike & { location: { href: string } };

serveRpc(vitHandlers({ wasmPaths: TFJS_WASM_PATHS, baseUrl: scope.location.href }), webWorkerChannel(scope, 'ViT worker parent'));
