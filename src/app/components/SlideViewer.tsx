// The slide viewer: OpenSeadragon over the local file, its tiles decoded by the slide workers and drawn by OSD's canvas
// drawer (2D canvas data, so what is drawn is what the reader decoded), a navigator, our own scale bar from the µm/px
// (OSD has none), the overlay canvas (tissue mask, tile grid) with its legend, and a readout of the position and the
// drawn colour under the pointer. Up to 1:1 the image is smoothed; past it each slide pixel is shown as it is.
import OpenSeadragon from 'openseadragon';
import { useEffect, useRef, useState } from 'react';
import type { SlideInfo } from '../../slide/slide.ts';
import { scaleBar } from '../lib/scale-bar.ts';
import { drawOverlays, OVERLAY_COLOURS, type OverlayLayers } from '../lib/slide-overlays.ts';
import { type ReadTile, SlideTileSource } from '../lib/slide-tile-source.ts';

interface ViewState {
  /** screen pixels per level-0 pixel */
  zoom: number;
  loaded: boolean;
}

interface Readout {
  x: number;
  y: number;
  rgb: [number, number, number];
}

export interface SlideViewerProps {
  info: SlideInfo;
  readTile: ReadTile;
  mpp: number | null;
  objectivePower: number | null;
  overlays: OverlayLayers;
}

/**
 * OpenSeadragon injects an inline <style> (no focus outline on touch screens) unless the page has an element matching
 * style[data-openseadragon-mobile-css]. The CSP refuses inline styles, even an empty one, so the marker is a plain
 * element named "style" outside the HTML namespace: it matches the selector but is no style sheet, and styles.css
 * carries the rule itself.
 */
function claimOsdStyle(): void {
  if (document.querySelector('style[data-openseadragon-mobile-css]')) return;
  const marker = document.createElementNS('urn:x-cipherpath:marker', 'style');
  marker.setAttribute('data-openseadragon-mobile-css', 'true');
  document.head.append(marker);
}

const drawerCanvas = (viewer: OpenSeadragon.Viewer): HTMLCanvasElement => (viewer.drawer as unknown as { canvas: HTMLCanvasElement }).canvas;

export function SlideViewer({ info, readTile, mpp, objectivePower, overlays }: SlideViewerProps) {
  const elementRef = useRef<HTMLDivElement>(null);
  const viewerRef = useRef<OpenSeadragon.Viewer | null>(null);
  const overlayRef = useRef<HTMLCanvasElement | null>(null);
  const layersRef = useRef(overlays);
  const redrawRef = useRef<() => void>(() => undefined);
  const [view, setView] = useState<ViewState>({ zoom: 0, loaded: false });
  const [readout, setReadout] = useState<Readout | null>(null);

  useEffect(() => {
    const element = elementRef.current;
    if (!element) return;
    claimOsdStyle();
    const viewer = OpenSeadragon({
      element,
      tileSources: new SlideTileSource(info, readTile),
      drawer: 'canvas',
      showNavigationControl: false,
      showNavigator: true,
      navigatorPosition: 'BOTTOM_RIGHT',
      navigatorSizeRatio: 0.22,
      maxZoomPixelRatio: 8,
      visibilityRatio: 0.5,
      animationTime: 0.4,
      imageLoaderLimit: 12,
      timeout: 120_000,
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    } as OpenSeadragon.Options);
    viewerRef.current = viewer;
    // OSD's own canvas element takes the focus and the keyboard (arrows or W A S D pan, + and - zoom, 0 the whole slide)
    viewer.canvas.setAttribute('role', 'application');
    viewer.canvas.setAttribute('aria-label', `${info.file}: slide viewer. Drag or use the arrow keys to pan, scroll or + and - to zoom, 0 for the whole slide.`);
    const overlay = document.createElement('canvas');
    overlay.className = 'slide-overlay';
    overlay.setAttribute('aria-hidden', 'true');
    viewer.canvas.append(overlay);
    overlayRef.current = overlay;
    let smoothing = true;
    const redraw = (): void => {
      const width = viewer.canvas.clientWidth;
      const height = viewer.canvas.clientHeight;
      const ratio = window.devicePixelRatio || 1;
      if (overlay.width !== Math.round(width * ratio) || overlay.height !== Math.round(height * ratio)) {
        overlay.width = Math.round(width * ratio);
        overlay.height = Math.round(height * ratio);
      }
      const origin = viewer.viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
      const corner = viewer.viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(info.width, 0));
      const zoom = (corner.x - origin.x) / info.width;
      const context = overlay.getContext('2d');
      if (context) {
        context.setTransform(ratio, 0, 0, ratio, 0, 0);
        drawOverlays(context, { scale: zoom, offsetX: origin.x, offsetY: origin.y, width, height }, layersRef.current);
      }
      if (smoothing !== zoom < 1) {
        smoothing = zoom < 1;
        viewer.drawer.setImageSmoothingEnabled(smoothing);
      }
      setView((v) => (Math.abs(v.zoom - zoom) > v.zoom * 1e-3 ? { ...v, zoom } : v));
    };
    redrawRef.current = redraw;
    viewer.addHandler('update-viewport', redraw);
    viewer.addHandler('resize', redraw);
    viewer.addHandler('fully-loaded-change', (event) => setView((v) => ({ ...v, loaded: (event as unknown as { fullyLoaded: boolean }).fullyLoaded })));
    return () => {
      viewer.destroy();
      viewerRef.current = null;
      overlayRef.current = null;
      redrawRef.current = () => undefined;
    };
  }, [info, readTile]);

  useEffect(() => {
    layersRef.current = overlays;
    redrawRef.current();
  }, [overlays]);

  const onPointerMove = (event: React.PointerEvent): void => {
    const viewer = viewerRef.current;
    if (!viewer) return;
    const box = viewer.canvas.getBoundingClientRect();
    const ex = Math.floor(event.clientX - box.left);
    const ey = Math.floor(event.clientY - box.top);
    const canvas = drawerCanvas(viewer);
    const context = canvas.getContext('2d');
    if (!context || ex < 0 || ey < 0 || ex >= box.width || ey >= box.height) return;
    // the centre of the screen pixel under the pointer, and the drawn pixel there
    const at = viewer.viewport.viewerElementToImageCoordinates(new OpenSeadragon.Point(ex + 0.5, ey + 0.5));
    const [r = 0, g = 0, b = 0] = context.getImageData(Math.floor((ex * canvas.width) / box.width), Math.floor((ey * canvas.height) / box.height), 1, 1).data;
    setReadout(at.x >= 0 && at.y >= 0 && at.x < info.width && at.y < info.height ? { x: at.x, y: at.y, rgb: [r, g, b] } : null);
  };

  const zoomBy = (factor: number): void => {
    const viewer = viewerRef.current;
    viewer?.viewport.zoomBy(factor);
    viewer?.viewport.applyConstraints();
  };
  const bar = mpp !== null && view.zoom > 0 ? scaleBar(mpp / view.zoom) : null;
  const percent = view.zoom * 100;

  return (
    <div className="slide-viewer-wrap">
      <div className="row" role="toolbar" aria-label="Viewer">
        <button type="button" className="secondary" onClick={() => zoomBy(2)}>
          Zoom in
        </button>
        <button type="button" className="secondary" onClick={() => zoomBy(0.5)}>
          Zoom out
        </button>
        <button type="button" className="secondary" onClick={() => viewerRef.current?.viewport.goHome()}>
          Whole slide
        </button>
        <span className="muted small" data-testid="viewer-zoom" data-zoom={view.zoom}>
          {percent >= 10 ? percent.toFixed(0) : percent.toFixed(1)} % of level 0{objectivePower !== null ? ` (≈ ${(objectivePower * view.zoom).toPrecision(2)}× on screen)` : ''}
        </span>
        <span className="muted small" data-testid="viewer-loaded" data-loaded={view.loaded}>
          {view.loaded ? 'all tiles in view drawn' : 'decoding tiles…'}
        </span>
      </div>
      <div className="slide-viewer" onPointerMoveCapture={onPointerMove} onPointerLeave={() => setReadout(null)}>
        <div ref={elementRef} className="osd" data-testid="slide-viewer" />
        <Legend overlays={overlays} />
        <div className="scale-bar" data-testid="scale-bar">
          {bar ? (
            <>
              <div className="scale-bar-line" style={{ width: bar.px }} />
              <span>{bar.label}</span>
            </>
          ) : (
            <span>no scale: µm per pixel unknown</span>
          )}
        </div>
      </div>
      <p className="small muted readout" data-testid="pixel-readout" data-x={readout?.x} data-y={readout?.y} data-rgb={readout?.rgb.join(',')}>
        {readout
          ? `x ${Math.floor(readout.x)}, y ${Math.floor(readout.y)} px at level 0${mpp !== null ? ` (${((readout.x * mpp) / 1000).toFixed(3)} mm, ${((readout.y * mpp) / 1000).toFixed(3)} mm)` : ''} · drawn RGB ${readout.rgb.join(', ')}`
          : 'Point at the slide for the position and colour under the pointer.'}
      </p>
    </div>
  );
}

function Legend({ overlays }: { overlays: OverlayLayers }) {
  const [r, g, b] = OVERLAY_COLOURS.mask;
  const items = [
    overlays.showMask && overlays.mask ? { key: 'mask', text: 'tissue (mask)', style: { background: `rgba(${r}, ${g}, ${b}, ${OVERLAY_COLOURS.maskFillAlpha * overlays.opacity})`, border: `2px solid rgba(${r}, ${g}, ${b}, ${overlays.opacity})` } } : null,
    overlays.showGrid && overlays.tiles ? { key: 'grid', text: `tile to extract (${overlays.tiles.length})`, style: { border: `2px solid ${OVERLAY_COLOURS.grid}`, opacity: overlays.opacity } } : null,
  ].filter((item) => item !== null);
  if (items.length === 0) return null;
  return (
    <ul className="slide-legend" aria-label="Legend" data-testid="slide-legend">
      {items.map((item) => (
        <li key={item.key}>
          <span className="swatch" style={item.style} /> {item.text}
        </li>
      ))}
    </ul>
  );
}
