// Tile labels: from the folder a tile sits in (LC25000 layout: lung_aca/, lung_n/, lung_scc/) or from a CSV of
// `filename,label` rows. Every clinic of a federation must use the same class order: the classes and their order are
// src/protocol/vocabulary.ts's CLASS_LABELS.
import { CLASS_LABELS, type ClassLabel, isOneOf } from '../../protocol/vocabulary.ts';

export const MAX_CSV_BYTES = 4 * 1024 * 1024;

export function isClassLabel(label: string | null | undefined): label is ClassLabel {
  return isOneOf(CLASS_LABELS, label);
}

/** The label a relative path implies: the nearest enclosing folder that is a class name, if any. */
export function labelFromPath(path: string): ClassLabel | null {
  const parts = path.split('/').slice(0, -1).reverse();
  return parts.find(isClassLabel) ?? null;
}

export function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

export interface CsvLabels {
  labels: Map<string, ClassLabel>;
  /** Lines that were not `filename,label` with a known class, with why. */
  problems: string[];
}

/** `filename,label` per line; an optional header, quotes and CRLF are accepted; file names match by base name. */
export function parseLabelCsv(text: string, source: string): CsvLabels {
  const labels = new Map<string, ClassLabel>();
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (cells.length < 2) {
      problems.push(`${source} line ${i + 1}: expected "filename,label", found "${line.slice(0, 60)}"`);
      return;
    }
    const [file, label] = cells as [string, string];
    if (i === 0 && /^(file|filename|name|path)$/i.test(file)) return;
    if (!isClassLabel(label)) {
      problems.push(`${source} line ${i + 1}: label "${label.slice(0, 40)}" is not one of ${CLASS_LABELS.join(', ')}`);
      return;
    }
    labels.set(baseName(file), label);
  });
  return { labels, problems };
}
