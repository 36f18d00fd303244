// Tissue detection and tiling settings for the open slide (saturation threshold, Otsu by default; target µm/px; tile
// size, the model's input size by default; minimum tissue per tile), what they give (tissue fraction, tiles that
// extraction would take), and the overlay controls. Numbers are applied when they are valid, and say why when not.
import { useId, useState } from 'react';
import type { TilingResult } from '../../slide/worker-host.ts';
import type { TilingSettings } from '../stores/slide.ts';

export interface OverlayControls {
  showMask: boolean;
  showGrid: boolean;
  opacity: number;
}

interface Props {
  settings: TilingSettings;
  sizeSource: string | null;
  mppKnown: boolean;
  tiling: TilingResult | null;
  busy: boolean;
  error: string | null;
  overlays: OverlayControls;
  onSettings: (patch: Partial<TilingSettings>) => void;
  onOverlays: (patch: Partial<OverlayControls>) => void;
}

function NumberSetting({ label, value, min, max, step, integer, onValid }: { label: string; value: number; min: number; max: number; step: string; integer?: boolean; onValid: (value: number) => void }) {
  const id = useId();
  const [text, setText] = useState(String(value));
  const parsed = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(parsed) && parsed >= min && parsed <= max && (!integer || Number.isInteger(parsed));
  return (
    <span className="setting">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        value={text}
        aria-invalid={!valid}
        onChange={(e) => {
          setText(e.target.value);
          const next = Number(e.target.value);
          if (e.target.value.trim() !== '' && Number.isFinite(next) && next >= min && next <= max && (!integer || Number.isInteger(next))) onValid(next);
        }}
      />
      {valid ? null : (
        <span className="notice error small" role="alert">
          {min} to {max}
          {integer ? ', whole pixels' : ''}
        </span>
      )}
    </span>
  );
}

export function SlideTiling({ settings, sizeSource, mppKnown, tiling, busy, error, overlays, onSettings, onOverlays }: Props) {
  const thresholdId = useId();
  const opacityId = useId();
  const otsu = settings.threshold === null;
  const grid = tiling?.grid ?? null;
  return (
    <aside className="slide-tiling" aria-label="Tissue and tiles">
      <h3>Tissue and tiles</h3>
      <div className="row">
        <label>
          <input type="checkbox" checked={otsu} onChange={(e) => onSettings({ threshold: e.target.checked ? null : (tiling?.mask.threshold ?? 20) })} /> Automatic threshold (Otsu)
        </label>
        <label htmlFor={thresholdId}>Saturation threshold</label>
        <input
          id={thresholdId}
          type="range"
          min={0}
          max={254}
          value={settings.threshold ?? tiling?.mask.threshold ?? 0}
          disabled={otsu}
          onChange={(e) => onSettings({ threshold: Number(e.target.value) })}
        />
        <output htmlFor={thresholdId} data-testid="threshold-value">
          {settings.threshold ?? tiling?.mask.threshold ?? '…'}
        </output>
      </div>
      <div className="row">
        <NumberSetting label="Target µm per pixel" value={settings.mpp} min={0.05} max={20} step="0.05" onValid={(mpp) => onSettings({ mpp })} />
        <NumberSetting label="Tile size (px)" value={settings.size} min={8} max={4096} step="1" integer onValid={(size) => onSettings({ size })} />
        <NumberSetting label="Minimum tissue per tile (%)" value={settings.minTissue * 100} min={0} max={100} step="5" onValid={(percent) => onSettings({ minTissue: percent / 100 })} />
      </div>
      {sizeSource ? <p className="small muted">The tile size starts at {sizeSource}.</p> : null}
      {error ? (
        <p className="notice error" role="alert">
          {error}
        </p>
      ) : null}
      <div aria-live="polite" className={busy ? 'stale' : ''}>
        {tiling ? (
          <p data-testid="tissue-fraction" data-fraction={tiling.mask.tissueFraction} data-threshold={tiling.mask.threshold}>
            Tissue covers {(tiling.mask.tissueFraction * 100).toFixed(1)} % of the slide (saturation above {tiling.mask.threshold}
            {otsu ? ', Otsu' : ''}; mask of {tiling.mask.width} × {tiling.mask.height}).
          </p>
        ) : (
          <p className="busy">Finding the tissue…</p>
        )}
        {grid ? (
          <p className="badge" data-testid="tile-count" data-count={grid.tiles.length} data-size0={grid.size0}>
            {grid.tiles.length.toLocaleString('en')} tile(s) of {grid.size} px at {grid.mpp} µm/px ({grid.size0} px at level 0, in a {grid.columns} × {grid.rows} grid) would be extracted.
          </p>
        ) : tiling && !mppKnown ? (
          <p className="notice warn">The tile grid needs the slide's µm per pixel: enter it above.</p>
        ) : null}
      </div>
      <div className="row" role="group" aria-label="Overlays">
        <label>
          <input type="checkbox" checked={overlays.showMask} onChange={(e) => onOverlays({ showMask: e.target.checked })} /> Tissue mask
        </label>
        <label>
          <input type="checkbox" checked={overlays.showGrid} onChange={(e) => onOverlays({ showGrid: e.target.checked })} /> Tile grid
        </label>
        <label htmlFor={opacityId}>Overlay opacity</label>
        <input id={opacityId} type="range" min={0} max={100} value={Math.round(overlays.opacity * 100)} onChange={(e) => onOverlays({ opacity: Number(e.target.value) / 100 })} />
        <output htmlFor={opacityId}>{Math.round(overlays.opacity * 100)} %</output>
      </div>
    </aside>
  );
}
