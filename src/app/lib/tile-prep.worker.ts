// Module Web Worker entry for the tile pipeline's decode and preprocessing stage (tile-prep.ts); created by
// workers.ts, talked to through TilePrepClient (tile-prep-client.ts).
import { webWorkerChannel } from '../../rpc/channel.ts';
import type { WebWorkerLike } from '../../rpc/channel.ts';
import { serveRpc } from '../../rpc/rpc.ts';
import { tilePrepHandlers } from './tile-prep.ts';

serveRpc(tilePrepHandlers(), webWorkerChannel(self as unknown as WebWorkerLike, 'tile decode worker parent'));
