// Draws RGBA pixels at a fixed display size (pixelated), for side-by-side image comparisons.
import { useEffect, useRef } from 'react';

export function PixelCanvas({ width, height, rgba, label, size = 160 }: { width: number; height: number; rgba: Uint8ClampedArray; label: string; size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (ctx) ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  }, [width, height, rgba]);
  return <canvas ref={ref} width={width} height={height} className="pixels" style={{ width: size, height: size }} role="img" aria-label={label} />;
}
