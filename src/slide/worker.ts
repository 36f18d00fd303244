// Module Web Worker entry: a slide decoder. Create it with
//   new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })
// and talk to it through SlideWorkerPool (pool.ts). The methods are slideHandlers (worker-host.ts) on src/rpc.
import { webWorkerChannel, type WebWorkerLike } from '../rpc/channel.ts';
import { serveRpc } from '../rpc/rpc.ts';
import { slideHandlers } from './worker-host.ts';
// OpenJPEG's wasm as a same-origin asset: the Emscripten glue would look for it beside the bundled script.
import jpeg2000WasmUrl from '../../node_modules/@cornerstonejs/codec-openjpeg/dist/openjpegwasm_decode.wasm?url';

serveRpc(slideHandlers({ jpeg2000WasmUrl }), webWorkerChannel(self as unknown as WebWorkerLike, 'slide worker parent'));
