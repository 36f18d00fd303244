// What one embedding thread of NodeEmbedPool serves (src/rpc handler table): load a model folder once, then embed
// batches of RGBA images with the same steps as the browser worker (extract.ts). Each thread runs tfjs wasm on one
// thread: tfjs turns wasm threads off in Node, so the pool's threads are where Node's cores come from.
import type { RpcContext } from '../rpc/rpc.ts';
import { embedRgbaImages, type RgbaImage } from './extract.ts';
import { VitModel } from './model.ts';
import { readModelDir, useNodeWasmBackend } from './node-io.ts';
import type { ImageProcessorConfig } from './config.ts';

export function nodeEmbedHandlers() {
  let loaded: { model: VitModel; processor: ImageProcessorConfig; modelSha256: string } | undefined;
  return {
    async load({ modelDir }: { modelDir: string }) {
      await useNodeWasmBackend();
      const { config, processor, weights, modelSha256 } = await readModelDir(modelDir);
      loaded?.model.dispose();
      loaded = { model: VitModel.create(config, weights), processor, modelSha256 };
      return { modelSha256, config, processor };
    },
    async embed({ images, batchSize }: { images: RgbaImage[]; batchSize: number }, ctx: RpcContext) {
      if (!loaded) throw new Error('embed before load');
      return embedRgbaImages(loaded.model, loaded.processor, images, batchSize, () => ctx.signal.throwIfAborted());
    },
  };
}

export type NodeEmbedHandlers = ReturnType<typeof nodeEmbedHandlers>;
