// Settings and About: where the coordinator is, which model and backend are in use, versions, how much this browser
// stores, and a button that erases every local trace of cipherpath after a confirmation.
import { type ReactNode, useEffect, useId, useState, version as reactVersion } from 'react';
import { formatBytes } from '../../common/format-bytes.ts';
import { inspectWebGpu } from '../../vit/backend-probe.ts';
import { defaultWasmThreads, threadsLabel } from '../../vit/wasm-threads.ts';
import { RelayIdentities } from '../components/RelayIdentities.tsx';
import { ModelCatalogue } from '../components/ModelCatalogue.tsx';
import { ErrorText, Section } from '../components/Section.tsx';
import { eraseAllLocalData, reloadErased } from '../lib/erase.ts';
import { rememberModelSha256 } from '../lib/extraction.ts';
import { BUNDLED_MODEL_URL, checkModelUrl, currentModelChoice, MODEL_FOLDER_FILES, type ModelChoice, modelFolderFiles, saveModelChoice } from '../lib/model-choice.ts';
import { type ModelInfo, readModelInfo } from '../lib/model-info.ts';
import { useLocation } from '../router.tsx';
import { readUrlOptions } from '../lib/url-params.ts';
import { useTiles } from '../stores/tiles.ts';

interface GpuInfo {
  available: boolean;
  text: string;
}

async function gpuInfo(): Promise<GpuInfo> {
  const found = await inspectWebGpu();
  return { available: found.available, text: found.available ? `${found.device}${found.software ? ' (software fallback)' : ''}` : (found.reason ?? 'WebGPU is not available') };
}

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

type ChoiceKind = 'bundled' | 'url' | 'folder';

/** Which model extraction uses; a change is checked (manifest and config readable) before it is saved. */
function ModelChooser({ onModel, onError }: { onModel: (m: ModelInfo | null) => void; onError: (e: string | null) => void }) {
  const ids = useId();
  const [kind, setKind] = useState<ChoiceKind>('bundled');
  const [url, setUrl] = useState('/models/');
  const [picked, setPicked] = useState<File[]>([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void currentModelChoice()
      .then(async (choice) => {
        setKind(choice.kind === 'folder' ? 'folder' : choice.url === BUNDLED_MODEL_URL ? 'bundled' : 'url');
        if (choice.kind === 'url' && choice.url !== BUNDLED_MODEL_URL) setUrl(choice.url);
        onModel(await readModelInfo(choice));
      })
      .catch((e: unknown) => onError(`The model description could not be read: ${(e as Error).message}`));
  }, []);
  const apply = async () => {
    setBusy(true);
    onError(null);
    try {
      const choice: ModelChoice =
        kind === 'bundled'
          ? { kind: 'url', url: BUNDLED_MODEL_URL }
          : kind === 'url'
            ? { kind: 'url', url: checkModelUrl(url) }
            : { kind: 'folder', label: picked[0]?.webkitRelativePath.split('/')[0] || 'picked model', files: modelFolderFiles(picked) };
      // Read first (a folder whose manifest or config cannot be read is refused before anything is saved), show only once
      // saved: the page must never name a model that a reload or the next page would not use.
      const info = await readModelInfo(choice);
      await saveModelChoice(choice);
      onModel(info);
      rememberModelSha256(info.modelSha256);
      await useTiles.getState().switchModel(info.modelSha256);
    } catch (e) {
      onError(`That model cannot be used: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset className="model-choice">
      <legend>Model used for feature extraction</legend>
      <label>
        <input type="radio" name={`${ids}-kind`} checked={kind === 'bundled'} onChange={() => setKind('bundled')} /> The bundled demo model (tiny ViT)
      </label>
      <label>
        <input type="radio" name={`${ids}-kind`} checked={kind === 'url'} onChange={() => setKind('url')} /> A model folder on this server
      </label>
      {kind === 'url' ? (
        <div className="row">
          <label htmlFor={`${ids}-url`}>Model folder path</label>
          <input id={`${ids}-url`} value={url} onChange={(e) => setUrl(e.target.value)} size={32} placeholder="/models/vit-b16/" />
        </div>
      ) : null}
      <label>
        <input type="radio" name={`${ids}-kind`} checked={kind === 'folder'} onChange={() => setKind('folder')} /> A model folder on this computer
      </label>
      {kind === 'folder' ? (
        <div className="row">
          <label htmlFor={`${ids}-folder`}>Model folder</label>
          <input
            id={`${ids}-folder`}
            type="file"
            multiple
            {...({ webkitdirectory: '' } as Record<string, string>)}
            onChange={(e) => setPicked(Array.from(e.target.files ?? []))}
          />
        </div>
      ) : null}
      <p className="muted">
        A model folder holds {MODEL_FOLDER_FILES.join(', ')} (<code>npm run convert-weights</code> makes one from a Hugging Face checkpoint). Tokens are
        cached per model, so switching never mixes them.
      </p>
      <button type="button" onClick={() => void apply()} disabled={busy || (kind === 'folder' && picked.length === 0)}>
        Use this model
      </button>
    </fieldset>
  );
}

export function SettingsPage() {
  const { search } = useLocation();
  const forced = readUrlOptions(search).backend;
  const backend = useTiles((s) => s.backend);
  const [model, setModel] = useState<ModelInfo | null>(null);
  const [modelError, setModelError] = useState<string | null>(null);
  const [serverVersion, setServerVersion] = useState<string>('…');
  const [gpu, setGpu] = useState<GpuInfo | null>(null);
  const [storage, setStorage] = useState<{ usage: number; quota: number; persisted: boolean } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [erasing, setErasing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refreshStorage = () =>
    void Promise.all([navigator.storage.estimate(), navigator.storage.persisted()])
      .then(([e, persisted]) => setStorage({ usage: e.usage ?? 0, quota: e.quota ?? 0, persisted }))
      .catch((e: unknown) => setError(`Storage use cannot be read: ${(e as Error).message}`));
  useEffect(() => {
    fetch('/api/openapi.json')
      .then((r) => (r.ok ? (r.json() as Promise<{ info?: { version?: string } }>) : Promise.reject(new Error(`answered ${r.status}`))))
      .then((doc) => setServerVersion(doc.info?.version ?? 'unknown'), (e: unknown) => setServerVersion(`unreachable (${(e as Error).message})`));
    void gpuInfo().then(setGpu);
    refreshStorage();
  }, []);
  const erase = async () => {
    setErasing('Erasing…');
    setError(null);
    try {
      await eraseAllLocalData();
      setErasing('All local data was erased. Reloading…');
      setTimeout(() => reloadErased('/settings'), 600);
    } catch (e) {
      setErasing(null);
      setError(`Erasing failed: ${(e as Error).message}. Close other cipherpath tabs and try again.`);
    }
  };
  return (
    <div className="stack">
      <h1>Settings and about</h1>
      <Section step={1} title="Coordinator">
        <dl className="facts">
          <Row term="Address">
            <code data-testid="coordinator-url">{window.location.origin}</code> (the page and the API always come from the same server)
          </Row>
          <Row term="Coordinator version">{serverVersion}</Row>
        </dl>
      </Section>
      <Section step={2} title="Model">
        <ModelChooser onModel={setModel} onError={setModelError} />
        {model ? (
          <dl className="facts">
            <Row term="Model">
              <code data-testid="model-source">{model.source}</code> — ViT with {model.layers ?? '?'} layers, hidden size {model.hiddenSize ?? '?'}, <span data-testid="model-token-width">{model.tokenWidth ?? '?'}</span>-value tokens, {model.imageSize ?? '?'} px input, stored as {model.dtype}
            </Row>
            <Row term="Checksum (sha256)">
              <code className="hash" data-testid="model-sha256">
                {model.modelSha256}
              </code>
            </Row>
            <Row term="Files">{model.files.map((f) => `${f.name} (${formatBytes(f.bytes)})`).join(', ')}</Row>
            {model.memory ? (
              <Row term="Memory">
                <span data-testid="model-memory" className={model.memory.refusal ? 'notice error' : undefined} role={model.memory.refusal ? 'alert' : undefined}>
                  {model.memory.refusal ??
                    `needs about ${formatBytes(model.memory.estimate.totalBytes)} on WebAssembly (${formatBytes(model.memory.estimate.weightBytes)} of float32 weights, the rest to load and run)${model.memory.allowance ? `; this browser allows ${formatBytes(model.memory.allowance.bytes)} (${model.memory.allowance.source})` : ''}. The workstation check measures the real peak.`}
                </span>
              </Row>
            ) : null}
          </dl>
        ) : (
          <p className="muted">{modelError ? null : 'Reading the model manifest…'}</p>
        )}
        <ErrorText text={modelError} />
        <ModelCatalogue />
      </Section>
      <Section step={3} title="Device and backend">
        <dl className="facts">
          <Row term="ViT backend">
            <span data-testid="settings-backend">{backend ? `${backend.backend}${backend.skipped.length ? ` (skipped: ${backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})` : ''}` : 'not chosen yet — it is picked at the first extraction'}</span>
          </Row>
          <Row term="Backend choice">{forced ? `forced to ${forced} by the address (?backend=${forced})` : 'automatic: WebGPU, then WebGL, then WebAssembly, then plain JavaScript'}</Row>
          <Row term="WebGPU">{gpu ? gpu.text : 'checking…'}</Row>
          <Row term="CPU threads">{navigator.hardwareConcurrency}</Row>
          <Row term="Cross-origin isolated">{window.crossOriginIsolated ? 'yes (WebAssembly may use threads)' : 'no (WebAssembly runs on one thread)'}</Row>
          <Row term="WebAssembly threads">
            <span data-testid="settings-wasm-threads">{threadsLabel(defaultWasmThreads())}</span>
          </Row>
          <Row term="Browser">{navigator.userAgent}</Row>
        </dl>
      </Section>
      <Section step={4} title="Versions">
        <dl className="facts">
          <Row term="cipherpath coordinator">{serverVersion}</Row>
          <Row term="React">{reactVersion}</Row>
          <Row term="Encryption">Microsoft SEAL 4.1 via node-seal 7.0.0 (CKKS)</Row>
          <Row term="Machine learning">TensorFlow.js 4.22.0</Row>
        </dl>
      </Section>
      <RelayIdentities step={5} />
      <Section step={6} title="Storage in this browser">
        {storage ? (
          <p data-testid="storage-used">
            {formatBytes(storage.usage)} used of {formatBytes(storage.quota)} available to this site{storage.persisted ? '; the browser keeps it even when disk space runs low' : ''}.
          </p>
        ) : (
          <p className="muted">Measuring…</p>
        )}
        <p>This covers your tiles, cached tokens, the encrypted federation key and measured results.</p>
        {!confirming ? (
          <button type="button" className="danger" onClick={() => setConfirming(true)} disabled={erasing !== null}>
            Erase all local data…
          </button>
        ) : (
          <div className="confirm" role="group" aria-labelledby="erase-question">
            <p id="erase-question">
              <strong>Erase everything cipherpath stored in this browser?</strong> Tiles, tokens, results and the federation key are deleted. Export your key file first if
              no other clinic holds the key.
            </p>
            <div className="row">
              <button type="button" className="danger" onClick={() => void erase()} disabled={erasing !== null}>
                Yes, erase all local data
              </button>
              <button type="button" className="secondary" onClick={() => setConfirming(false)} disabled={erasing !== null}>
                Cancel
              </button>
            </div>
          </div>
        )}
        {erasing ? (
          <p role="status" className="busy">
            {erasing}
          </p>
        ) : null}
        <ErrorText text={error} />
      </Section>
    </div>
  );
}
