// The one way sizes are written for people: binary units (B, KiB, MiB, GiB), as the caps and the 64 KiB upload
// target are defined. Whole numbers stay whole ("32 MiB"); others get three significant digits ("64.5 KiB").
// Figures set beside a paper's (the 326 kB per round it reports, read as 326,000 bytes) are written in decimal units
// by formatDecimalBytes, with the same rule for digits.

interface UnitSystem {
  base: number;
  units: readonly string[];
}

const BINARY: UnitSystem = { base: 1024, units: ['B', 'KiB', 'MiB', 'GiB', 'TiB'] };
const DECIMAL: UnitSystem = { base: 1000, units: ['B', 'kB', 'MB', 'GB', 'TB'] };

function format(bytes: number, { base, units }: UnitSystem, fractionDigits?: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= base && unit < units.length - 1) {
    value /= base;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const text =
    fractionDigits !== undefined ? value.toFixed(fractionDigits) : Number.isInteger(value) ? String(value) : value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text} ${units[unit]}`;
}

export function formatBytes(bytes: number): string {
  return format(bytes, BINARY);
}

/** Decimal units (B, kB, MB, GB), for figures compared with sources that count in thousands; `fractionDigits` fixes
 * the decimals where a figure is only an estimate ("~52 MB"). */
export function formatDecimalBytes(bytes: number, options: { fractionDigits?: number } = {}): string {
  return format(bytes, DECIMAL, options.fractionDigits);
}
