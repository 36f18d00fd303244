// Privacy: what each party could rebuild of a tile. The full audit (attacks on plaintext gradients, decoders on
// tokens and ciphertexts, LPIPS) runs in Node with src/privacy (`npm run audit`, which writes public/audit/audit.json
// and its PNGs); this page shows that report when it is published, and runs the coordinator's-view check live on the
// bundled tiles: the ciphertext the coordinator receives, shown as an image, and the best reconstruction possible
// without the key (the mean tile, src/privacy's mean-image attack), each scored with src/privacy's metrics.
import { useEffect, useId, useState } from 'react';
import type { AuditReport } from '../../privacy/audit.ts';
import { ProgressBar } from '../components/Progress.tsx';
import { PixelCanvas } from '../components/PixelCanvas.tsx';
import { ColumnHeads, ErrorText, Section } from '../components/Section.tsx';
import { extractTokens } from '../lib/extraction.ts';
import { CLASS_LABELS, CLASS_NAMES } from '../../protocol/vocabulary.ts';
import { loadSamples, type SampleTile } from '../lib/samples.ts';
import { datasetMeanImage } from '../../privacy/mean-image-attack.ts';
import { rgbaFromRgb, rgbFromRgba, type RgbImage } from '../../privacy/image.ts';
import { imageMetrics, type ImageMetrics } from '../../privacy/metrics.ts';
import { getCachedTokens } from '../../vit/token-cache.ts';
import { heWorker } from '../workers.ts';

interface Check {
  tile: SampleTile;
  ciphertextBytes: number;
  ciphertextImage: RgbImage;
  meanImage: RgbImage;
  ciphertextMetrics: ImageMetrics;
  meanMetrics: ImageMetrics;
}

const PRIVACY_CHECK_FEDERATION = 'privacy-check';
const AUDIT_URL = '/audit/audit.json';

/** The published audit, null when none is published (404), or an error saying what is wrong with it. */
async function loadAudit(): Promise<AuditReport | null> {
  const r = await fetch(AUDIT_URL);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`${AUDIT_URL} answered ${r.status}`);
  // The SPA fallback answers unknown paths with index.html: that is "not published", not a broken report.
  if (!(r.headers.get('content-type') ?? '').includes('json')) return null;
  const report = (await r.json()) as Partial<AuditReport>;
  if (!Array.isArray(report.scenarios) || typeof report.generatedAt !== 'string' || !report.meanGuess) {
    throw new Error(`${AUDIT_URL} lacks generatedAt, scenarios or meanGuess; run npm run audit again`);
  }
  report.scenarios.forEach((sc, i) => {
    if (typeof sc.title !== 'string' || typeof sc.meaning !== 'string' || typeof sc.images?.original !== 'string' || typeof sc.images.reconstruction !== 'string') {
      throw new Error(`${AUDIT_URL}: scenarios[${i}] lacks a title, meaning or images`);
    }
  });
  return report as AuditReport;
}

const metric = (v: number | string, digits: number, unit = '') => (typeof v === 'number' ? `${v.toFixed(digits)}${unit}` : v === 'Infinity' ? '∞ (exact copy)' : v);
const imageUrl = (name: string) => `/audit/${encodeURIComponent(name)}`;

function AuditSection() {
  const [report, setReport] = useState<AuditReport | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    loadAudit().then(setReport, (e: unknown) => {
      setReport(null);
      setError(`The published audit could not be read: ${(e as Error).message}.`);
    });
  }, []);
  if (report === undefined) return <p className="busy">Looking for the published audit…</p>;
  if (!report) {
    return (
      <>
        <p data-testid="audit-state">
          The full audit — rebuilding a tile from plaintext gradients (dense first layer, and a convolutional network by gradient matching) and from tokens, against
          what the coordinator sees — runs in Node with <code>src/privacy</code>. No audit is published with this app yet: run <code>npm run audit</code> in the
          repository (it writes <code>public/audit/audit.json</code> and its images), rebuild, and reload this page. The check below runs the coordinator's-view part live.
        </p>
        <ErrorText text={error} />
      </>
    );
  }
  return (
    <>
      <p data-testid="audit-state">
        Audit of {new Date(report.generatedAt).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })}
        {report.quick ? ' (a quick smoke run: fewer attacker tiles and steps)' : ''}. Each row is one attacker and what it had; higher PSNR, SSIM and NMI and lower
        LPIPS mean a closer copy of the tile. Guessing the average tile, with no information at all, scores PSNR {metric(report.meanGuess.psnr, 1, ' dB')}, SSIM{' '}
        {metric(report.meanGuess.ssim, 3)}, NMI {metric(report.meanGuess.nmi, 3)}: a result near that leaks nothing useful.
      </p>
      <table className="results audit" data-testid="audit-table">
        <caption>Reconstruction attacks, scored against the original tiles</caption>
        <ColumnHeads columns={['Attack', 'Target', 'PSNR', 'SSIM', 'NMI', 'LPIPS']} />
        <tbody>
          {report.scenarios.map((sc) => (
            <tr key={sc.id}>
              <th scope="row">{sc.title}</th>
              <td>{sc.target}</td>
              <td>{metric(sc.psnr, 1, ' dB')}</td>
              <td>{metric(sc.ssim, 3)}</td>
              <td>{metric(sc.nmi, 3)}</td>
              <td>{metric(sc.lpips, 3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {report.lpipsNote ? <p className="muted small">{report.lpipsNote}</p> : null}
      <div className="audit-pairs" data-testid="audit-pairs">
        {report.scenarios.map((sc) => (
          <section key={sc.id} className="audit-pair" aria-label={sc.title}>
            <h3>{sc.title}</h3>
            <p>{sc.meaning}</p>
            <div className="side-by-side">
              <figure>
                <img src={imageUrl(sc.images.original)} alt={`Original tile attacked in “${sc.title}”`} />
                <figcaption>Original</figcaption>
              </figure>
              <figure>
                <img src={imageUrl(sc.images.reconstruction)} alt={`The attacker's reconstruction in “${sc.title}”`} />
                <figcaption>
                  Reconstruction: PSNR {metric(sc.psnr, 1, ' dB')}, SSIM {metric(sc.ssim, 3)}
                </figcaption>
              </figure>
            </div>
          </section>
        ))}
      </div>
    </>
  );
}

function Metrics({ m }: { m: ImageMetrics }) {
  return (
    <dl className="metrics">
      <dt>PSNR</dt>
      <dd>{Number.isFinite(m.psnr) ? `${m.psnr.toFixed(1)} dB` : '∞ (identical)'}</dd>
      <dt>SSIM</dt>
      <dd>{m.ssim.toFixed(3)}</dd>
      <dt>NMI</dt>
      <dd>{m.nmi.toFixed(3)}</dd>
    </dl>
  );
}

export function PrivacyPage() {
  const [choice, setChoice] = useState(0);
  const [check, setCheck] = useState<Check | null>(null);
  const [step, setStep] = useState<{ text: string; done: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const selectId = useId();
  const run = async () => {
    setError(null);
    setCheck(null);
    try {
      setStep({ text: 'Loading the bundled tiles…', done: 0 });
      const samples = await loadSamples();
      const tile = samples[choice];
      if (!tile) throw new Error(`there is no sample tile ${choice + 1}`);
      setStep({ text: 'Extracting the tile’s [CLS] token…', done: 1 });
      const { init } = await extractTokens([{ id: tile.sha256, load: async () => ({ ...tile, rgba: tile.rgba.slice() }) }], undefined);
      const token = await getCachedTokens(tile.sha256, init.modelSha256);
      if (!token) throw new Error('the token was not cached after extraction');
      setStep({ text: 'Encrypting it as a clinic would (a throwaway key)…', done: 2 });
      const he = heWorker();
      const key = await he.generateKey('agg-v1', PRIVACY_CHECK_FEDERATION);
      const [ciphertext] = await he.encryptTokenBatch(key.handle, [token]).finally(() => he.dropKey(key.handle));
      if (!ciphertext) throw new Error('the HE worker returned no ciphertext');
      setStep({ text: 'Scoring the reconstructions…', done: 3 });
      const original = rgbFromRgba(tile.width, tile.height, tile.rgba);
      const n = tile.width * tile.height * 3;
      // The ciphertext's last bytes (its payload), as many as the tile has values, read as pixels: all the coordinator could "look at".
      const ciphertextImage: RgbImage = { width: tile.width, height: tile.height, channels: 3, data: Uint8Array.from({ length: n }, (_, i) => ciphertext[ciphertext.length - n + i] ?? 0) };
      const others = samples.filter((s) => s !== tile && s.width === tile.width && s.height === tile.height).map((s) => rgbFromRgba(s.width, s.height, s.rgba));
      const meanImage = datasetMeanImage(others);
      setCheck({ tile, ciphertextBytes: ciphertext.length, ciphertextImage, meanImage, ciphertextMetrics: imageMetrics(original, ciphertextImage), meanMetrics: imageMetrics(original, meanImage) });
      setStep(null);
    } catch (e) {
      setStep(null);
      setError(`The check failed: ${(e as Error).message}. Reload the page and try again.`);
    }
  };
  return (
    <div className="stack">
      <h1>Privacy</h1>
      <Section step={1} title="Full audit">
        <AuditSection />
      </Section>
      <Section step={2} title="What the coordinator could rebuild">
        <p>
          The coordinator only ever receives CKKS ciphertexts of [CLS] tokens. Without the secret key they carry nothing about the tile, so the best it can do is guess the
          average tile. The three images below are compared with the original using PSNR, SSIM and NMI (higher means closer).
        </p>
        <div className="row">
          <label htmlFor={selectId}>Sample tile</label>
          <select id={selectId} value={choice} onChange={(e) => setChoice(Number(e.target.value))}>
            {Array.from({ length: 18 }, (_, k) => (
              <option key={k} value={k}>
                {CLASS_LABELS[Math.floor(k / 6)]}_{(k % 6) + 1}
              </option>
            ))}
          </select>
          <button type="button" disabled={step !== null} onClick={() => void run()}>
            Run the coordinator's-view check
          </button>
        </div>
        {step ? (
          <>
            <ProgressBar label="Privacy check progress" done={step.done} total={4} />
            <p className="busy" role="status">
              {step.text}
            </p>
          </>
        ) : null}
        {check ? (
          <div className="side-by-side" data-testid="privacy-images">
            <figure>
              <PixelCanvas width={check.tile.width} height={check.tile.height} rgba={check.tile.rgba} label={`Original tile ${check.tile.path}`} />
              <figcaption>
                Original ({CLASS_NAMES[check.tile.label]}); never leaves the browser
              </figcaption>
            </figure>
            <figure>
              <PixelCanvas width={check.tile.width} height={check.tile.height} rgba={rgbaFromRgb(check.ciphertextImage)} label="The ciphertext's bytes drawn as pixels" />
              <figcaption>
                What the coordinator receives: {check.ciphertextBytes.toLocaleString('en')} bytes of ciphertext, drawn as pixels
                <Metrics m={check.ciphertextMetrics} />
              </figcaption>
            </figure>
            <figure>
              <PixelCanvas width={check.tile.width} height={check.tile.height} rgba={rgbaFromRgb(check.meanImage)} label="The average of the other sample tiles" />
              <figcaption>
                Its best guess without the key: the average tile
                <Metrics m={check.meanMetrics} />
              </figcaption>
            </figure>
          </div>
        ) : null}
        <ErrorText text={error} />
      </Section>
    </div>
  );
}
