// A virtualised thumbnail grid: only the rows in (or near) the visible part of the scroll box are in the DOM, so a
// folder of thousands of tiles stays responsive. Each tile shows its thumbnail, name, label and extraction status.
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { CLASS_NAMES } from '../../protocol/vocabulary.ts';
import { isClassLabel } from '../lib/labels.ts';
import type { TileStatus, TileView } from '../stores/tiles.ts';

const CELL_W = 132;
const CELL_H = 150;
const OVERSCAN_ROWS = 2;
const STATUS_TEXT: Record<TileStatus, string> = { pending: 'no token yet', queued: 'queued', done: 'token ready' };

export function TileGrid({ tiles, statusOf, height = 420, label, extra }: { tiles: readonly TileView[]; statusOf: (id: string) => TileStatus; height?: number; label: string; extra?: (tile: TileView) => ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    setWidth(el.clientWidth);
    return () => observer.disconnect();
  }, []);
  const columns = Math.max(1, Math.floor(width / CELL_W));
  const rows = Math.ceil(tiles.length / columns);
  const firstRow = Math.max(0, Math.floor(scrollTop / CELL_H) - OVERSCAN_ROWS);
  const lastRow = Math.min(rows, Math.ceil((scrollTop + height) / CELL_H) + OVERSCAN_ROWS);
  const visible = tiles.slice(firstRow * columns, lastRow * columns);
  return (
    <div
      ref={box}
      className="tile-grid"
      style={{ height: Math.min(height, rows * CELL_H + 8) }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      role="region"
      aria-label={label}
      tabIndex={0}
    >
      <ul style={{ height: rows * CELL_H, position: 'relative' }} aria-label={`${tiles.length} tiles`}>
        {visible.map((tile, k) => {
          const index = firstRow * columns + k;
          const status = statusOf(tile.id);
          return (
            <li
              key={tile.id}
              className={`tile status-${status}`}
              style={{ position: 'absolute', top: Math.floor(index / columns) * CELL_H, left: (index % columns) * CELL_W, width: CELL_W - 8, height: CELL_H - 8 }}
              data-testid="tile"
              data-status={status}
            >
              <img src={tile.thumbUrl} alt="" width={96} height={96} />
              <span className="tile-name" title={tile.path}>
                {tile.name}
              </span>
              <span className="tile-meta">
                {isClassLabel(tile.label) ? CLASS_NAMES[tile.label] : 'unlabelled'} · <span className="tile-status">{STATUS_TEXT[status]}</span>
              </span>
              {extra?.(tile)}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
