// Slides: open a whole-slide image in the viewer (tissue, tile grid), bring tiles into this browser (drop files or a
// folder, pick files or a folder, or the bundled samples), label them (folder names in the LC25000 layout, or a CSV),
// see them in a virtualised grid with their status, and extract their [CLS] tokens. Nothing here leaves the browser:
// a slide dropped among tiles goes to the viewer, read in place; tiles are decoded and kept in IndexedDB.
import { type DragEvent, useEffect, useId, useRef, useState } from 'react';
import { ExtractionPanel } from '../components/Extraction.tsx';
import { ProgressBar } from '../components/Progress.tsx';
import { Section } from '../components/Section.tsx';
import { SlideSection } from '../components/SlideSection.tsx';
import { TileGrid } from '../components/TileGrid.tsx';
import { type BackendName, CLASS_LABELS, CLASS_NAMES, type ClassLabel } from '../../protocol/vocabulary.ts';
import { baseName, MAX_CSV_BYTES } from '../lib/labels.ts';
import { isSlideFile } from '../lib/slide-files.ts';
import { formatBytes } from '../../common/format-bytes.ts';
import { MAX_TILE_FILE_BYTES } from '../lib/files.ts';
import { readChoiceParam } from '../lib/url-params.ts';
import { hrefFor, navigate, useLocation } from '../router.tsx';
import { useSlide } from '../stores/slide.ts';
import { type ImportSource, MAX_FILES_PER_IMPORT, MAX_LIBRARY_TILES, tileStatus, useTiles } from '../stores/tiles.ts';

const ACCEPT = '.png,.jpg,.jpeg,.tif,.tiff,.svs,.csv,image/png,image/jpeg,image/tiff,text/csv';
const FILTERS = [...CLASS_LABELS, 'unlabelled'] as const;
type Filter = (typeof FILTERS)[number];

function readEntry(entry: FileSystemEntry): Promise<ImportSource[]> {
  if (entry.isFile) {
    return new Promise((resolve) =>
      (entry as FileSystemFileEntry).file(
        (file) => resolve([{ path: entry.fullPath.replace(/^\//, ''), blob: file }]),
        () => resolve([]),
      ),
    );
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  return new Promise((resolve) => {
    const found: FileSystemEntry[] = [];
    // readEntries returns at most ~100 entries per call; read until it returns none.
    const next = () =>
      reader.readEntries(
        (batch) => {
          if (batch.length === 0) void Promise.all(found.map(readEntry)).then((lists) => resolve(lists.flat()));
          else {
            found.push(...batch);
            next();
          }
        },
        () => resolve([]),
      );
    next();
  });
}

async function sourcesFromDrop(e: DragEvent): Promise<ImportSource[]> {
  const items = [...e.dataTransfer.items].filter((i) => i.kind === 'file');
  const entries = items.map((i) => i.webkitGetAsEntry?.() ?? null);
  if (entries.length && entries.every((en) => en !== null)) return (await Promise.all(entries.map((en) => readEntry(en as FileSystemEntry)))).flat();
  return [...e.dataTransfer.files].map((f) => ({ path: f.name, blob: f }));
}

const fromInput = (files: FileList | null): ImportSource[] => [...(files ?? [])].map((f) => ({ path: f.webkitRelativePath || f.name, blob: f }));

/** Slides among the given files go to the viewer (the first one: one slide at a time), the rest to the tile library. */
async function importOrOpen(sources: readonly ImportSource[], importFiles: (sources: readonly ImportSource[]) => Promise<void>): Promise<void> {
  const slides: ImportSource[] = [];
  const tiles: ImportSource[] = [];
  for (const source of sources) (await isSlideFile(source.path, source.blob) ? slides : tiles).push(source);
  const [first] = slides;
  if (first) void useSlide.getState().open(first.blob, baseName(first.path), slides.length - 1);
  if (tiles.length) await importFiles(tiles);
}

function ImportSection() {
  const { importing, rejected, notices, importFiles: importTiles, loadSampleSet, dismissMessages } = useTiles();
  const importFiles = (sources: readonly ImportSource[]) => importOrOpen(sources, importTiles);
  const [over, setOver] = useState(false);
  const filesRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const helpId = useId();
  useEffect(() => {
    folderRef.current?.setAttribute('webkitdirectory', '');
  }, []);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void sourcesFromDrop(e).then(importFiles);
  };
  return (
    <Section step={2} title="Add tiles">
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        aria-describedby={helpId}
      >
        <p id={helpId}>
          Drop tile images or whole folders here (PNG, JPEG or uncompressed TIFF, up to {formatBytes(MAX_TILE_FILE_BYTES)} each, {MAX_FILES_PER_IMPORT} per import,{' '}
          {MAX_LIBRARY_TILES} in the library). Folders named <code>lung_aca</code>, <code>lung_n</code>, <code>lung_scc</code> label their tiles; a CSV of{' '}
          <code>filename,label</code> (up to {formatBytes(MAX_CSV_BYTES)}) labels tiles by name. A whole-slide image dropped here opens in the viewer above.
        </p>
        <div className="row">
          <button type="button" onClick={() => filesRef.current?.click()}>
            Choose tile files…
          </button>
          <button type="button" onClick={() => folderRef.current?.click()}>
            Choose a folder…
          </button>
          <button type="button" className="secondary" onClick={() => void (async () => { for (let k = 1; k <= 6; k++) await loadSampleSet(k); })()}>
            Add the 18 bundled sample tiles
          </button>
        </div>
        <input ref={filesRef} className="visually-hidden" type="file" multiple accept={ACCEPT} aria-label="Tile files" tabIndex={-1} onChange={(e) => { void importFiles(fromInput(e.target.files)); e.target.value = ''; }} />
        <input ref={folderRef} className="visually-hidden" type="file" multiple aria-label="Tile folder" tabIndex={-1} onChange={(e) => { void importFiles(fromInput(e.target.files)); e.target.value = ''; }} />
      </div>
      {importing ? <ProgressBar label="Import progress" done={importing.done} total={importing.total} /> : null}
      {rejected.length || notices.length ? (
        <div className="messages" role="alert" data-testid="import-messages">
          {rejected.length ? (
            <>
              <p className="notice error">{rejected.length} file(s) were not imported; everything else was:</p>
              <ul data-testid="rejected-files">
                {rejected.map((r, i) => (
                  <li key={i}>{r.reason}</li>
                ))}
              </ul>
            </>
          ) : null}
          {notices.map((n, i) => (
            <p key={i}>{n}</p>
          ))}
          <button type="button" className="secondary" onClick={dismissMessages}>
            Dismiss messages
          </button>
        </div>
      ) : null}
    </Section>
  );
}

export function SlidesPage({ forcedBackend }: { forcedBackend: BackendName | undefined }) {
  const state = useTiles();
  const { tiles, removeAll } = state;
  const { search } = useLocation();
  const filterParam = readChoiceParam<Filter>(search, 'label', FILTERS);
  const filter = filterParam.value;
  const filterId = useId();
  const shown = filter ? tiles.filter((t) => (filter === 'unlabelled' ? t.label === null : t.label === filter)) : tiles;
  const counts = CLASS_LABELS.map((c) => [c, tiles.filter((t) => t.label === c).length] as [ClassLabel, number]);
  const unlabelled = tiles.filter((t) => t.label === null).length;
  return (
    <div className="stack">
      <h1>Slides</h1>
      <Section step={1} title="Open a whole-slide image">
        <SlideSection forcedBackend={forcedBackend} />
      </Section>
      <ImportSection />
      <Section step={3} title="Your tile library">
        <p data-testid="library-count">
          {tiles.length} tile(s) in this browser: {counts.map(([c, n]) => `${n} ${CLASS_NAMES[c]}`).join(', ')}, {unlabelled} unlabelled.
        </p>
        {filterParam.error ? (
          <p className="notice error" role="alert">
            {filterParam.error}
          </p>
        ) : null}
        <div className="row">
          <label htmlFor={filterId}>Show</label>
          <select id={filterId} value={filter ?? ''} onChange={(e) => navigate(hrefFor('/slides', e.target.value ? { label: e.target.value } : {}), true)}>
            <option value="">all tiles</option>
            {FILTERS.map((f) => (
              <option key={f} value={f}>
                {f === 'unlabelled' ? 'unlabelled tiles' : CLASS_NAMES[f]}
              </option>
            ))}
          </select>
          <button type="button" className="secondary" disabled={tiles.length === 0} onClick={() => void removeAll()}>
            Remove all tiles from this browser
          </button>
        </div>
        {shown.length ? <TileGrid tiles={shown} statusOf={(id) => tileStatus(state, id)} label="Tile thumbnails" /> : <p className="muted">No tiles {filter ? 'match this filter' : 'yet: add some above'}.</p>}
      </Section>
      <Section step={4} title="Extract [CLS] tokens">
        <p>A Vision Transformer turns each tile into a feature vector in this browser. Tokens are cached here, so a reload never recomputes them.</p>
        <ExtractionPanel forcedBackend={forcedBackend} />
      </Section>
    </div>
  );
}
