// The viewer's scale bar (OpenSeadragon has none): the longest round length (1, 2 or 5 x 10^k µm) that fits in
// `maxPx` screen pixels at the current zoom, labelled in µm below a millimetre and in mm from there.

export interface ScaleBar {
  /** bar length in CSS pixels */
  px: number;
  micrometres: number;
  label: string;
}

export function scaleBar(micrometresPerPixel: number, maxPx = 160): ScaleBar | null {
  if (!(micrometresPerPixel > 0) || !Number.isFinite(micrometresPerPixel) || !(maxPx > 0)) return null;
  const longest = micrometresPerPixel * maxPx;
  const decade = 10 ** Math.floor(Math.log10(longest));
  const micrometres = [5, 2, 1].map((m) => m * decade).find((length) => length <= longest * (1 + 1e-9)) ?? decade;
  const label = micrometres >= 1000 ? `${+(micrometres / 1000).toPrecision(3)} mm` : `${+micrometres.toPrecision(3)} µm`;
  return { px: micrometres / micrometresPerPixel, micrometres, label };
}
