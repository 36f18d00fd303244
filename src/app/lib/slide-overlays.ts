// The viewer's overlays, drawn on one screen-sized canvas above OpenSeadragon's after every viewport change: the
// tissue mask (its outline, and a light fill of its own low-resolution pixels enlarged without smoothing, so the
// stain's colours stay readable underneath) and the outlines of the grid tiles that would be extracted. Drawing in screen space keeps a 40,000-tile grid cheap at any zoom (only the visible tiles are
// stroked). A per-tile heatmap (issue 13, point 2) is one more layer of the same kind: a fill per grid tile.
import type { GridTile } from '../../slide/tiling.ts';
import type { TissueMask } from '../../slide/tissue.ts';

/** Colours shared with the legend. */
export const OVERLAY_COLOURS = { mask: [0, 200, 90] as const, maskFillAlpha: 0.22, grid: '#e69500' };

/** Level-0 pixels to canvas pixels: (x * scale + offsetX, y * scale + offsetY). */
export interface OverlayView {
  scale: number;
  offsetX: number;
  offsetY: number;
  width: number;
  height: number;
}

/** A mask ready to draw: its fill image, its outline as segments (x0, y0, x1, y1 in mask pixels), its scale. */
export interface MaskLayer {
  image: HTMLCanvasElement;
  outline: Float32Array;
  /** level-0 pixels per mask pixel */
  scaleX: number;
  scaleY: number;
}

export interface OverlayLayers {
  mask: MaskLayer | null;
  tiles: readonly GridTile[] | null;
  showMask: boolean;
  showGrid: boolean;
  /** 0..1 */
  opacity: number;
}

/** The edges between tissue and glass, merged into runs along each row and column. */
export function maskOutline(mask: Pick<TissueMask, 'width' | 'height' | 'data'>): Float32Array {
  const { width, height, data } = mask;
  const at = (x: number, y: number): number => (x >= 0 && y >= 0 && x < width && y < height ? (data[y * width + x] ?? 0) : 0);
  const segments: number[] = [];
  // horizontal edges lie between rows y-1 and y, vertical ones between columns x-1 and x
  for (let y = 0; y <= height; y++) {
    for (let x = 0; x < width; ) {
      if (at(x, y - 1) === at(x, y)) {
        x++;
        continue;
      }
      const start = x;
      while (x < width && at(x, y - 1) !== at(x, y)) x++;
      segments.push(start, y, x, y);
    }
  }
  for (let x = 0; x <= width; x++) {
    for (let y = 0; y < height; ) {
      if (at(x - 1, y) === at(x, y)) {
        y++;
        continue;
      }
      const start = y;
      while (y < height && at(x - 1, y) !== at(x, y)) y++;
      segments.push(x, start, x, y);
    }
  }
  return Float32Array.from(segments);
}

/** The mask as a layer: tissue in the mask colour, glass transparent, and its outline. */
export function maskLayer(mask: TissueMask): MaskLayer {
  const image = document.createElement('canvas');
  image.width = mask.width;
  image.height = mask.height;
  const context = image.getContext('2d');
  if (context) {
    const pixels = new ImageData(mask.width, mask.height);
    const [r, g, b] = OVERLAY_COLOURS.mask;
    for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) pixels.data.set([r, g, b, 255], i * 4);
    context.putImageData(pixels, 0, 0);
  }
  return { image, outline: maskOutline(mask), scaleX: mask.scaleX, scaleY: mask.scaleY };
}

export function drawOverlays(context: CanvasRenderingContext2D, view: OverlayView, layers: OverlayLayers): void {
  context.clearRect(0, 0, view.width, view.height);
  if (layers.opacity <= 0) return;
  const { scale, offsetX, offsetY } = view;
  if (layers.showMask && layers.mask) {
    const { image, outline, scaleX, scaleY } = layers.mask;
    const [r, g, b] = OVERLAY_COLOURS.mask;
    const sx = scaleX * scale;
    const sy = scaleY * scale;
    context.save();
    context.globalAlpha = OVERLAY_COLOURS.maskFillAlpha * layers.opacity;
    context.imageSmoothingEnabled = false;
    context.drawImage(image, offsetX, offsetY, image.width * sx, image.height * sy);
    context.globalAlpha = layers.opacity;
    context.strokeStyle = `rgb(${r}, ${g}, ${b})`;
    context.lineWidth = 2;
    context.beginPath();
    for (let i = 0; i < outline.length; i += 4) {
      context.moveTo((outline[i] ?? 0) * sx + offsetX, (outline[i + 1] ?? 0) * sy + offsetY);
      context.lineTo((outline[i + 2] ?? 0) * sx + offsetX, (outline[i + 3] ?? 0) * sy + offsetY);
    }
    context.stroke();
    context.restore();
  }
  if (layers.showGrid && layers.tiles?.length) {
    context.save();
    context.globalAlpha = layers.opacity;
    context.strokeStyle = OVERLAY_COLOURS.grid;
    context.lineWidth = 2;
    context.beginPath();
    for (const tile of layers.tiles) {
      const x = tile.x * scale + offsetX;
      const y = tile.y * scale + offsetY;
      const size = tile.size0 * scale;
      if (x > view.width || y > view.height || x + size < 0 || y + size < 0) continue;
      context.rect(x, y, size, size);
    }
    context.stroke();
    context.restore();
  }
}
