// Local training of a head, off the main thread: src/fl's head-training handler table (trainHead: softmax regression
// with L2, seeded mini-batch order, a progress event per epoch, cancel between mini-batches) served over src/rpc.
// The page stays responsive however many tiles the clinic has. tfjs takes the same backend chain as the ViT (a
// hardware GPU when there is one, else wasm, else plain JS; software GPUs are skipped); training is deterministic for
// a seed on a given backend, and clinics may differ in backend since each trains only its own local head.
import { headTrainingHandlers } from '../../fl/head-training.ts';
import { webWorkerChannel } from '../../rpc/channel.ts';
import type { WebWorkerLike } from '../../rpc/channel.ts';
import { serveRpc } from '../../rpc/rpc.ts';
import { chooseBackend } from '../../vit/backend.ts';
import { TFJS_WASM_PATHS } from '../../vit/wasm-paths.ts';

serveRpc(headTrainingHandlers(chooseBackend({ wasmPaths: TFJS_WASM_PATHS })), webWorkerChannel(self as unknown as WebWorkerLike, 'head-training worker parent'));
