// Workstation check: for a hospital IT admin deciding whether a workstation's GPU is used. It shows what the browser
// offers for each tfjs backend (WebGPU adapter, WebGL renderer, WebAssembly SIMD), then runs the real ViT worker on
// each chosen backend with synthetic images and reports ms per image and whether the backends' tokens agree.
import { type ChangeEvent, useEffect, useId, useRef, useState } from 'react';
import { ProgressBar } from '../components/Progress.tsx';
import { ColumnHeads, ErrorText, Section } from '../components/Section.tsx';
import {
  type BackendAvailability,
  type BenchmarkProgress,
  type BenchmarkReport,
  type BenchmarkRow,
  checkSettings,
  type ModelSource,
  probeBackends,
  runBenchmark,
} from '../lib/benchmark.ts';
import { BUNDLED_MODEL_URL, MODEL_FOLDER_FILES, modelFolderFiles } from '../lib/model-choice.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';
import { defaultWasmThreads, threadsLabel } from '../../vit/wasm-threads.ts';
import { formatBytes } from '../../common/format-bytes.ts';

/** Tokens from different backends must agree this closely (float32 kernels differ by ~1e-6; fp16 storage is shared). */
export const AGREEMENT_LIMIT = 1e-3;
const BATCH_CHOICES = [1, 8] as const;
const BACKEND_LABELS: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WebAssembly', cpu: 'Plain JavaScript' };

type ModelChoice = 'bundled' | 'url' | 'folder';

/** A MiB figure typed by the user (decimals allowed) as bytes; empty means none, anything unreadable NaN (checkSettings reports it). */
const mebibytes = (text: string): number | undefined => (text.trim() === '' ? undefined : Math.round(Number(text) * 2 ** 20));

const formatMs = (ms: number | null) => (ms === null ? '—' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** What the app's own automatic choice would pick here: the first backend that is available on real hardware. */
function automaticChoice(availability: readonly BackendAvailability[]): BackendAvailability | undefined {
  return availability.find((a) => a.available && !a.software);
}

function AvailabilityTable({ availability }: { availability: BackendAvailability[] | null }) {
  if (!availability) return <p className="muted">Asking the browser about its GPU and WebAssembly…</p>;
  const auto = automaticChoice(availability);
  const hardwareGpu = availability.find((a) => (a.backend === 'webgpu' || a.backend === 'webgl') && a.available && !a.software);
  return (
    <>
      <table className="results" data-testid="backend-availability">
        <caption>Backends in this browser, in the order the app tries them</caption>
        <ColumnHeads columns={['Backend', 'Device', 'Status']} />
        <tbody>
          {availability.map((a) => (
            <tr key={a.backend} data-backend={a.backend}>
              <th scope="row">{BACKEND_LABELS[a.backend]}</th>
              <td>{a.device}</td>
              <td>
                {a.available ? 'available' : 'not available'}
                {a.reason ? ` — ${a.reason}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p data-testid="gpu-verdict" className={hardwareGpu ? 'notice ok' : 'notice warn'}>
        {hardwareGpu
          ? `The GPU is available to the browser (${hardwareGpu.device}); the app extracts features on ${BACKEND_LABELS[hardwareGpu.backend]}.`
          : `No hardware GPU is available to the browser: the app extracts features on ${auto ? BACKEND_LABELS[auto.backend] : 'the CPU'}. Check the GPU driver and the browser's GPU settings (chrome://gpu) if this workstation has a GPU.`}
      </p>
      <p className="muted small">
        {navigator.hardwareConcurrency} CPU threads; the ViT runs in a Web Worker{window.crossOriginIsolated ? ' (page cross-origin isolated)' : ''}, WebAssembly on{' '}
        <span data-testid="wasm-threads">{threadsLabel(defaultWasmThreads())}</span>
        {window.crossOriginIsolated ? (navigator.hardwareConcurrency > 2 ? ' (one core left for slide decoding and the page)' : '') : ' (threads need cross-origin isolation)'}.
      </p>
    </>
  );
}

function ResultsTable({ rows }: { rows: BenchmarkRow[] }) {
  return (
    <table className="results benchmark" data-testid="benchmark-results">
      <caption>Milliseconds per image (median of the timed runs) and agreement with the first backend</caption>
      <ColumnHeads columns={['Backend', 'Device', 'Batch', 'ms / image', 'Images × runs', 'Max abs difference', 'Peak memory', 'Note']} />
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.backend}-${r.batch}`} data-testid="benchmark-row" data-backend={r.backend} data-batch={r.batch} data-status={r.status}>
            <th scope="row">{BACKEND_LABELS[r.backend]}</th>
            <td>{r.device}</td>
            <td className="num">{r.batch}</td>
            <td className="num" data-testid="ms-per-image">
              {formatMs(r.msPerImage)}
            </td>
            <td className="num">{r.status === 'measured' ? `${r.imagesPerRun} × ${r.runsMsPerImage.length}` : '—'}</td>
            <td className="num" data-testid="max-abs-diff">
              {r.maxAbsDiff === null ? (r.status === 'measured' ? 'reference' : '—') : `${r.maxAbsDiff.toExponential(1)} vs ${r.reference ?? '?'}`}
            </td>
            <td className="num" data-testid="peak-memory" title={r.memory ? memoryTitle(r) : undefined}>
              {r.memory ? formatBytes(r.memory.peakBytes) : '—'}
            </td>
            <td>
              {r.status === 'measured' ? '' : `${r.status}: `}
              {r.reason ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Where a row's peak memory figure comes from, and what the model was estimated to need. */
function memoryTitle(r: BenchmarkRow): string {
  const m = r.memory as NonNullable<BenchmarkRow['memory']>;
  const source = m.wasmHeapBytes !== undefined ? 'WebAssembly heap (it never shrinks: its peak)' : m.gpuBytesAllocated !== undefined ? 'GPU buffers tfjs allocated' : 'live tensors';
  const estimate = r.load ? `; estimated ${formatBytes(r.load.estimate.totalBytes)}${r.load.allowance ? ` of the ${formatBytes(r.load.allowance.bytes)} allowed` : ''}` : '';
  return `${source}${estimate}`;
}

function Summary({ report }: { report: BenchmarkReport }) {
  const measured = report.rows.filter((r) => r.status === 'measured' && r.msPerImage !== null);
  if (measured.length === 0) return <p className="notice error" role="alert">No backend could be measured; the notes in the table say why.</p>;
  const fastest = measured.reduce((best, r) => ((r.msPerImage as number) < (best.msPerImage as number) ? r : best));
  const agree = report.maxAbsDiff === null || report.maxAbsDiff <= AGREEMENT_LIMIT;
  return (
    <>
      <p data-testid="benchmark-fastest">
        Fastest: <strong>{BACKEND_LABELS[fastest.backend]}</strong> at batch {fastest.batch}, {formatMs(fastest.msPerImage)} ms per image ({fastest.device}).
      </p>
      {report.maxAbsDiff === null ? (
        <p className="muted">Only one backend was measured, so there is nothing to compare its tokens with.</p>
      ) : (
        <p data-testid="benchmark-agreement" className={agree ? 'notice ok' : 'notice error'} role={agree ? undefined : 'alert'}>
          {agree
            ? `The backends agree: the largest token difference is ${report.maxAbsDiff.toExponential(1)} (limit ${AGREEMENT_LIMIT.toExponential(0)}).`
            : `The backends disagree: a token differs by ${report.maxAbsDiff.toExponential(1)}, over the ${AGREEMENT_LIMIT.toExponential(0)} limit. Do not use this workstation's faster backend until this is explained.`}
        </p>
      )}
    </>
  );
}

export function BenchmarkPage() {
  const [availability, setAvailability] = useState<BackendAvailability[] | null>(null);
  const [modelChoice, setModelChoice] = useState<ModelChoice>('bundled');
  const [modelUrl, setModelUrl] = useState('/models/');
  const [folder, setFolder] = useState<{ label: string; files: Record<string, Blob> } | null>(null);
  const [backends, setBackends] = useState<BackendName[]>([]);
  const [batches, setBatches] = useState<number[]>([...BATCH_CHOICES]);
  const [images, setImages] = useState('8');
  const [runs, setRuns] = useState('3');
  const [maxSeconds, setMaxSeconds] = useState('20');
  const [threads, setThreads] = useState(String(defaultWasmThreads()));
  const [gpuLimit, setGpuLimit] = useState('');
  const [memoryLimit, setMemoryLimit] = useState('');
  const [progress, setProgress] = useState<BenchmarkProgress | null>(null);
  const [rows, setRows] = useState<BenchmarkRow[]>([]);
  const [report, setReport] = useState<BenchmarkReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const [running, setRunning] = useState<AbortController | null>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const ids = useId();

  useEffect(() => {
    folderRef.current?.setAttribute('webkitdirectory', '');
    void probeBackends().then((found) => {
      setAvailability(found);
      setBackends(found.filter((a) => a.available).map((a) => a.backend));
    });
  }, []);

  // The run button disables itself; keyboard focus moves to Cancel instead of falling back to the page.
  useEffect(() => {
    if (running) cancelRef.current?.focus();
  }, [running]);

  const model: ModelSource | null =
    modelChoice === 'bundled' ? { kind: 'url', url: BUNDLED_MODEL_URL } : modelChoice === 'url' ? { kind: 'url', url: modelUrl.trim() } : folder ? { kind: 'files', ...folder } : null;
  const settings = model
    ? {
        model, backends, batches, images: Number(images), runs: Number(runs), maxSecondsPerImage: Number(maxSeconds), wasmThreads: threads.split(',').map((t) => Number(t.trim())),
        webgpuBufferLimitBytes: mebibytes(gpuLimit), memoryLimitBytes: mebibytes(memoryLimit),
      }
    : null;
  const problems = settings ? checkSettings(settings) : ['Choose a model folder.'];

  const onFolder = (e: ChangeEvent<HTMLInputElement>) => {
    const files = [...(e.target.files ?? [])];
    e.target.value = '';
    setError(null);
    const label = files[0]?.webkitRelativePath.split('/')[0] || 'folder';
    try {
      setFolder({ label, files: modelFolderFiles(files) });
    } catch (err) {
      setFolder(null);
      setError(`That folder cannot be used: ${(err as Error).message}.`);
    }
  };

  const toggle = <T,>(list: T[], value: T, on: boolean): T[] => (on ? [...list, value] : list.filter((v) => v !== value));

  const start = async () => {
    if (!settings || problems.length > 0 || !availability) return;
    const controller = new AbortController();
    setRunning(controller);
    setRows([]);
    setReport(null);
    setError(null);
    setCancelled(false);
    try {
      const result = await runBenchmark(settings, availability, {
        signal: controller.signal,
        onProgress: setProgress,
        onRow: (row) => setRows((prev) => [...prev, row]),
      });
      setReport(result);
    } catch (err) {
      if ((err as Error).name === 'AbortError') setCancelled(true);
      else setError(`The check failed: ${(err as Error).message}`);
    } finally {
      setRunning(null);
      setProgress(null);
    }
  };

  return (
    <div className="stack">
      <h1>Workstation check</h1>
      <p>
        Measures how fast this browser turns tissue images into features on each backend, so you can see whether this workstation's GPU is used. It runs the same ViT
        worker as the app, on synthetic images; nothing is uploaded.
      </p>
      <Section step={1} title="What this browser offers">
        <AvailabilityTable availability={availability} />
      </Section>
      <Section step={2} title="What to measure">
        <fieldset className="plain">
          <legend>Model</legend>
          <label className="choice">
            <input type="radio" name={`${ids}-model`} checked={modelChoice === 'bundled'} onChange={() => setModelChoice('bundled')} disabled={running !== null} />
            The bundled tiny demo model
          </label>
          <label className="choice">
            <input type="radio" name={`${ids}-model`} checked={modelChoice === 'url'} onChange={() => setModelChoice('url')} disabled={running !== null} />
            A model folder on this server
          </label>
          <label className="choice">
            <input type="radio" name={`${ids}-model`} checked={modelChoice === 'folder'} onChange={() => setModelChoice('folder')} disabled={running !== null} />
            A model folder on this computer
          </label>
          {modelChoice === 'url' ? (
            <div className="row">
              <label htmlFor={`${ids}-url`}>Model folder address</label>
              <input id={`${ids}-url`} type="text" value={modelUrl} onChange={(e) => setModelUrl(e.target.value)} size={40} disabled={running !== null} aria-describedby={`${ids}-url-help`} />
              <span id={`${ids}-url-help`} className="muted small">
                a path on this server, e.g. /models/vit-b16/
              </span>
            </div>
          ) : null}
          {modelChoice === 'folder' ? (
            <div className="row">
              <button type="button" onClick={() => folderRef.current?.click()} disabled={running !== null}>
                Choose a model folder…
              </button>
              <span className="muted small" data-testid="picked-model">
                {folder ? `picked: ${folder.label}` : `a folder with ${MODEL_FOLDER_FILES.join(', ')}`}
              </span>
            </div>
          ) : null}
          <input ref={folderRef} className="visually-hidden" type="file" multiple aria-label="Model folder" tabIndex={-1} onChange={onFolder} />
        </fieldset>
        <fieldset className="plain">
          <legend>Backends to try (each in a fresh worker)</legend>
          {(availability ?? []).map((a) => (
            <label key={a.backend} className="choice" title={a.reason ?? undefined}>
              <input
                type="checkbox"
                name="backend"
                value={a.backend}
                checked={backends.includes(a.backend)}
                disabled={!a.available || running !== null}
                onChange={(e) => setBackends((prev) => toggle(prev, a.backend, e.target.checked))}
              />
              {BACKEND_LABELS[a.backend]} ({a.backend}){a.available ? (a.software ? ' — software' : '') : ' — not available'}
            </label>
          ))}
        </fieldset>
        <fieldset className="plain">
          <legend>Batch sizes (images per forward pass)</legend>
          {BATCH_CHOICES.map((b) => (
            <label key={b} className="choice">
              <input type="checkbox" name="batch" value={b} checked={batches.includes(b)} disabled={running !== null} onChange={(e) => setBatches((prev) => toggle(prev, b, e.target.checked))} />
              Batch {b}
            </label>
          ))}
        </fieldset>
        <div className="row">
          <label htmlFor={`${ids}-images`}>Synthetic images per run</label>
          <input id={`${ids}-images`} type="number" min={1} max={64} value={images} onChange={(e) => setImages(e.target.value)} disabled={running !== null} className="narrow" />
          <label htmlFor={`${ids}-runs`}>Timed runs</label>
          <input id={`${ids}-runs`} type="number" min={1} max={20} value={runs} onChange={(e) => setRuns(e.target.value)} disabled={running !== null} className="narrow" />
          <label htmlFor={`${ids}-threads`}>WebAssembly threads (comma-separated)</label>
          <input id={`${ids}-threads`} type="text" value={threads} onChange={(e) => setThreads(e.target.value)} disabled={running !== null} className="narrow" />
          <label htmlFor={`${ids}-limit`}>Skip a backend slower than (s per image)</label>
          <input id={`${ids}-limit`} type="number" min={1} value={maxSeconds} onChange={(e) => setMaxSeconds(e.target.value)} disabled={running !== null} className="narrow" />
        </div>
        <fieldset className="plain">
          <legend>Simulate a smaller device (empty: this one’s own limits)</legend>
          <div className="row">
            <label htmlFor={`${ids}-gpu-limit`}>GPU buffer limit (MiB)</label>
            <input id={`${ids}-gpu-limit`} type="text" inputMode="decimal" value={gpuLimit} onChange={(e) => setGpuLimit(e.target.value)} disabled={running !== null} className="narrow" />
            <label htmlFor={`${ids}-memory-limit`}>Memory limit (MiB)</label>
            <input id={`${ids}-memory-limit`} type="text" inputMode="decimal" value={memoryLimit} onChange={(e) => setMemoryLimit(e.target.value)} disabled={running !== null} className="narrow" />
          </div>
          <p className="muted small">
            A GPU buffer limit below the adapter’s makes the model split its large matrices or, when it cannot, fall back to WebAssembly, as on a smaller GPU; a memory limit refuses a model that
            would need more.
          </p>
        </fieldset>
        {problems.length > 0 && availability ? (
          <ul className="muted small" data-testid="benchmark-problems">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : null}
        <div className="row">
          <button type="button" onClick={() => void start()} disabled={running !== null || problems.length > 0 || !availability}>
            Run workstation check
          </button>
          {running ? (
            <button ref={cancelRef} type="button" className="secondary" onClick={() => running.abort()}>
              Cancel
            </button>
          ) : null}
        </div>
      </Section>
      <Section step={3} title="Results">
        {progress ? (
          <>
            <ProgressBar label="Workstation check progress" done={progress.done} total={progress.total} testId="benchmark-progress" />
            <p className="busy" role="status" data-testid="benchmark-step">
              {progress.step}
            </p>
          </>
        ) : null}
        {rows.length > 0 ? <ResultsTable rows={rows} /> : !running ? <p className="muted">No measurements yet.</p> : null}
        {report ? (
          <>
            <Summary report={report} />
            <details>
              <summary>Results as JSON (to attach to a ticket)</summary>
              <textarea readOnly aria-label="Results (JSON)" rows={6} value={JSON.stringify(report, null, 2)} data-testid="benchmark-json" />
            </details>
          </>
        ) : null}
        {cancelled ? (
          <p className="notice warn" role="status">
            The check was cancelled; the rows above were measured before that.
          </p>
        ) : null}
        <ErrorText text={error} />
      </Section>
    </div>
  );
}
