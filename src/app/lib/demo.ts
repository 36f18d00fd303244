// The three-clinic demo: three simulated clinics in this page, each with its own coordinator enrolment, relay
// identity and key-vault slot, take a federation through every real step over the real coordinator (demo mode):
// join, key creation and the key relay (commit-then-reveal, codes compared before release), token extraction, encryption, homomorphic aggregation, decryption,
// the comparison with the same computation unencrypted, and encrypted inference at the coordinator (clinic A
// publishes the model encrypted, clinic B classifies its tiles). Tiles are the bundled samples, dealt two per class
// to each clinic.
import { formatBytes } from '../../common/format-bytes.ts';
import type { LinearHead } from '../../he/head.ts';
import { tokenWidth } from '../../vit/config.ts';
import { ApiError, coordinatorApi } from '../api/coordinator.ts';
import type { Phase, RoundResult, StoredHead } from '../stores/results.ts';
import type { LiveContribution, LiveRound, LiveTile } from '../../fl/live-round.ts';
import type { RoundClient } from '../../fl/round-client.ts';
import { accuracyOn, type LabelledTokens, maxWeightDifference, predict, predictionFromLogits } from './head-predictions.ts';
import { roundClient } from './round-client.ts';
import { extractTokens } from './extraction.ts';
import { classifyEncrypted, type InferenceAccess, publishInferenceModel } from './encrypted-inference.ts';
import { createFederationKeys, dropKeys, type FederationKeys, storeFederationKeys } from './federation-keys.ts';
import { relayInPage } from './demo-relay.ts';
import { loadOrCreateIdentity } from './keyvault.ts';
import { loadSamples, type SampleTile } from './samples.ts';
import type { BackendName } from '../../protocol/vocabulary.ts';

export const DEMO_STEPS = [
  { id: 'federation', title: 'Open a federation', explain: 'The coordinator creates a federation for three clinics and hands out three one-time invite codes.' },
  { id: 'join', title: 'Three clinics join', explain: 'Each clinic redeems its invite code and registers a public key, each with its own key store in this browser.' },
  { id: 'key', title: 'Create and share the keys', explain: 'Clinic A creates the secret keys; B and C receive them wrapped for them alone, only after the relay codes on both sides match.' },
  { id: 'extract', title: 'Extract features', explain: 'A Vision Transformer turns each clinic’s six tiles into feature vectors, inside this browser.' },
  { id: 'encrypt', title: 'Encrypt and upload', explain: 'Each clinic adds up its vectors per class, encrypts the sums and uploads only the ciphertext.' },
  { id: 'aggregate', title: 'Add up at the coordinator', explain: 'The coordinator adds the three ciphertexts together without being able to read any of them.' },
  { id: 'decrypt', title: 'Decrypt the shared model', explain: 'Each clinic decrypts the sum with its own copy of the key and gets the same class averages: the model.' },
  { id: 'evaluate', title: 'Compare with no encryption', explain: 'The same computation on unencrypted data gives the same model, so encryption costs no accuracy.' },
  { id: 'inference', title: 'Encrypted inference', explain: 'Clinic A publishes the model encrypted; clinic B sends its tiles encrypted and gets back encrypted answers only it can read.' },
] as const;
export type DemoStepId = (typeof DEMO_STEPS)[number]['id'];

export interface DemoStepState {
  status: 'waiting' | 'running' | 'done' | 'skipped';
  detail: string;
  ms?: number;
}

export interface DemoSummary {
  federationId: string;
  seconds: number;
  accuracyEncrypted: number;
  accuracyUnencrypted: number;
  agreement: number;
  tiles: number;
  /** Clinic B's tiles classified at the coordinator, against the plaintext check. */
  inference: { agree: number; total: number; maxLogitDifference: number };
  /** Clinic B's enrolment, so the Inference page can keep using the demo federation's coordinator. */
  inferenceAccess: InferenceAccess;
  result: RoundResult;
  head: StoredHead;
}

export interface DemoCallbacks {
  step(id: DemoStepId, state: DemoStepState): void;
  progress(done: number, total: number, etaMs: number): void;
}

interface SimClinic {
  name: string;
  clinicId: string;
  token: string;
  slot: string;
  /** The demo federation's quorum, read at enrolment. */
  pinnedQuorum: number;
  tiles: SampleTile[];
}

const ROUND = 1;
const PRESET = 'agg-v1';
const CLINICS = ['Clinic A', 'Clinic B', 'Clinic C'];

async function timed<T>(id: DemoStepId, cb: DemoCallbacks, running: string, work: () => Promise<{ value: T; detail: string; status?: 'done' | 'skipped' }>): Promise<T> {
  cb.step(id, { status: 'running', detail: running });
  const t0 = performance.now();
  const { value, detail, status } = await work();
  cb.step(id, { status: status ?? 'done', detail, ms: performance.now() - t0 });
  return value;
}

function labelled(clinic: SimClinic, tokens: Map<string, Float32Array>): LabelledTokens {
  return { tokens: clinic.tiles.map((t) => tokens.get(t.sha256) as Float32Array), labels: clinic.tiles.map((t) => t.label) };
}

function liveTiles(clinic: SimClinic, tokens: Map<string, Float32Array>): LiveTile[] {
  return clinic.tiles.map((t) => ({ id: t.sha256, token: tokens.get(t.sha256) as Float32Array, label: t.label }));
}

export async function runDemo(forcedBackend: BackendName | undefined, cb: DemoCallbacks): Promise<DemoSummary> {
  // Every clinic's keys by vault slot, open in the HE worker while the demo runs; zero-filled there when it ends.
  const clinicKeys = new Map<string, FederationKeys>();
  try {
    return await demo(forcedBackend, cb, clinicKeys);
  } finally {
    await dropKeys([...clinicKeys.values()].flatMap((k) => [k.aggregation, k.inference]));
  }
}

async function demo(forcedBackend: BackendName | undefined, cb: DemoCallbacks, clinicKeys: Map<string, FederationKeys>): Promise<DemoSummary> {
  const started = performance.now();
  const phaseMs: Partial<Record<Phase, number>> = {};

  const { federationId, codes } = await timed('federation', cb, 'Asking the coordinator for a demo federation…', async () => {
    try {
      const value = await coordinatorApi.demoFederation();
      return { value, detail: `Federation ${value.federationId} with invite codes ${value.codes.join(', ')}.` };
    } catch (e) {
      if (e instanceof ApiError && e.code === 'demo-disabled') throw new Error('this coordinator runs with DEMO=off; restart it with DEMO=on (the default of npm start) to run the demo', { cause: e });
      throw e;
    }
  });

  const samples = await loadSamples();
  const clinics: SimClinic[] = await timed('join', cb, 'Enrolling three clinics…', async () => {
    const value = await Promise.all(
      CLINICS.map(async (name, i) => {
        const enrolled = await coordinatorApi.enrol(codes[i] ?? '', name);
        const identity = await loadOrCreateIdentity(enrolled.clinicId);
        await coordinatorApi.setPublicKey(enrolled.token, identity.publicKeyRaw);
        const { federation } = await coordinatorApi.me(enrolled.token);
        // Clinic i gets tiles 2i+1 and 2i+2 of every class.
        const tiles = samples.filter((s) => s.index === 2 * i + 1 || s.index === 2 * i + 2);
        return { name, clinicId: enrolled.clinicId, token: enrolled.token, slot: `demo:${federationId}:${enrolled.clinicId}`, pinnedQuorum: federation.minClinics, tiles };
      }),
    );
    return { value, detail: value.map((c) => `${c.name} (${c.clinicId}, ${c.tiles.length} tiles)`).join(', ') + '.' };
  });
  const [founder, ...joiners] = clinics as [SimClinic, ...SimClinic[]];

  await timed('key', cb, 'Clinic A creates the federation key…', async () => {
    const keys = await createFederationKeys(PRESET, federationId);
    clinicKeys.set(founder.slot, keys);
    await coordinatorApi.found(founder.token, federationId);
    await storeFederationKeys(founder.slot, keys);
    const codesSeen: string[] = [];
    for (const clinic of joiners) {
      const { received, code } = await relayInPage(federationId, founder, clinic, keys);
      clinicKeys.set(clinic.slot, received);
      await storeFederationKeys(clinic.slot, received);
      codesSeen.push(`${clinic.name} ${code}`);
    }
    return { value: null, detail: `Relay codes matched on both sides before any key was wrapped: ${codesSeen.join('; ')}. Each clinic's copies (aggregation and inference key) are sealed in its own key-vault slots.` };
  });

  const tokens = new Map<string, Float32Array>();
  let modelSha256 = '';
  let t0 = performance.now();
  await timed('extract', cb, 'Loading the model and extracting tokens…', async () => {
    const all = clinics.flatMap((c) => c.tiles);
    const { init, reused } = await extractTokens(
      all.map((t) => ({ id: t.sha256, load: async () => ({ rgba: t.rgba.slice(), width: t.width, height: t.height }) })),
      forcedBackend,
      { onProgress: (p) => cb.progress(p.done, p.total, p.etaMs), onToken: (id, token) => tokens.set(id, token) },
    );
    modelSha256 = init.modelSha256;
    const skipped = init.backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
    return { value: null, detail: `${all.length} tiles → ${all.length} tokens of ${tokenWidth(init.config)} numbers on ${init.backend.backend}${reused ? ` (${reused} from this browser's cache)` : ''}${skipped ? `; skipped ${skipped}` : ''}.` };
  });
  phaseMs.extract = performance.now() - t0;

  t0 = performance.now();
  // Each simulated clinic takes part through src/fl's live round over its own RoundClient, as the round store does
  // for a real one (loaded on demand: the strategies pull tfjs and SEAL's glue in).
  const { LiveRound: Live } = await import('../../fl/live-round.ts');
  const roundClients = clinics.map((clinic) => {
    const keys = clinicKeys.get(clinic.slot);
    if (!keys) throw new Error(`${clinic.name} holds no key`);
    return roundClient({ token: clinic.token, clinicId: clinic.clinicId, federationId, presetId: PRESET, pinnedQuorum: clinic.pinnedQuorum, aggregationKey: keys.aggregation.handle });
  });
  const rounds: LiveRound[] = roundClients.map((client) => new Live({ client, strategy: 'prototypes' }));
  const contributions: LiveContribution[] = [];
  await timed('encrypt', cb, 'Encrypting and uploading…', async () => {
    for (const [i, clinic] of clinics.entries()) contributions.push(await (rounds[i] as LiveRound).contribute(ROUND, liveTiles(clinic, tokens)));
    return { value: null, detail: `Each clinic sent ${contributions.map((c) => formatBytes(c.upload.bytes)).join(', ')} of ciphertext (${(contributions[0]?.values.length ?? 0).toLocaleString('en')} numbers each); no pixel and no plain token left the browser.` };
  });
  const uploadMs = contributions.reduce((ms, c) => ms + c.upload.ms, 0);
  phaseMs.upload = uploadMs / clinics.length;
  phaseMs.encrypt = (performance.now() - t0 - uploadMs) / clinics.length;

  t0 = performance.now();
  await timed('aggregate', cb, 'Waiting for the coordinator to add the ciphertexts…', async () => {
    const view = await (roundClients[0] as RoundClient).wait(ROUND, { signal: AbortSignal.timeout(60_000) });
    return { value: null, detail: `Round ${ROUND} closed: ${view.submitted.join(', ')} submitted; the coordinator produced ${view.ciphertextCount ?? '?'} summed ciphertext(s).` };
  });
  phaseMs.aggregate = performance.now() - t0;

  const length = contributions[0]?.values.length ?? 0;
  const dim = tokens.values().next().value?.length ?? 0;
  let downloadMs = 0;
  let decryptMs = 0;
  let aggregateBytes = 0;
  const heads: LinearHead[] = await timed('decrypt', cb, 'Each clinic downloads, verifies and decrypts the sum…', async () => {
    const value: LinearHead[] = [];
    for (const live of rounds) {
      const { aggregate, global } = await live.finish(ROUND, { length, dim });
      downloadMs += aggregate.downloadMs;
      decryptMs += aggregate.decryptMs;
      aggregateBytes = aggregate.bytes;
      if (!global) throw new Error('the prototypes round gave no model');
      value.push(global.head);
    }
    const spread = Math.max(...value.slice(1).map((h) => maxWeightDifference(h, value[0] as LinearHead)));
    return { value, detail: `All three clinics decrypted the same model (largest difference ${spread.toExponential(1)}), each after checking that the sum holds exactly the three clinics' contributions: ${3} class averages of ${dim} numbers.` };
  });
  phaseMs.download = downloadMs / clinics.length;
  phaseMs.decrypt = decryptMs / clinics.length;

  t0 = performance.now();
  const everything: LabelledTokens = { tokens: clinics.flatMap((c) => labelled(c, tokens).tokens), labels: clinics.flatMap((c) => c.tiles.map((t) => t.label)) };
  const encryptedHead = heads[0] as LinearHead;
  const evaluation = await timed('evaluate', cb, 'Running the same computation without encryption…', async () => {
    const { PlainChannel } = await import('../../fl/channels.ts');
    const plain = await new PlainChannel().sum(ROUND, new Map(contributions.map((c, i) => [i, c.values])));
    const plainHead = (rounds[0] as LiveRound).combine(plain.sum, dim) as LinearHead;
    const accuracyEncrypted = accuracyOn(encryptedHead, everything);
    const accuracyUnencrypted = accuracyOn(plainHead, everything);
    const agree = everything.tokens.filter((t) => predict(encryptedHead, t).label === predict(plainHead, t).label).length;
    const maxDiff = maxWeightDifference(encryptedHead, plainHead);
    return {
      value: { accuracyEncrypted, accuracyUnencrypted, agreement: agree / everything.tokens.length, plainBytes: plain.bytesUpPerClinic },
      detail: `Accuracy on the ${everything.tokens.length} demo tiles: ${(accuracyEncrypted * 100).toFixed(1)}% encrypted, ${(accuracyUnencrypted * 100).toFixed(1)}% unencrypted; the two models agree on ${agree} of ${everything.tokens.length} tiles (largest weight difference ${maxDiff.toExponential(1)}).`,
    };
  });
  phaseMs.evaluate = performance.now() - t0;

  const reader = joiners[0] as SimClinic;
  const inferenceAccess: InferenceAccess = { federationId, token: reader.token, clinicName: `${reader.name} (demo)`, keySlot: reader.slot };
  const inference = await timed('inference', cb, 'Clinic A publishes the model encrypted; clinic B classifies its tiles…', async () => {
    const published = await publishInferenceModel({ federationId, token: founder.token, clinicName: founder.name, keySlot: founder.slot }, encryptedHead, { protection: 'encrypted', mode: 'batched' });
    const readerTokens = labelled(reader, tokens).tokens;
    const answer = await classifyEncrypted(inferenceAccess, readerTokens, () => undefined);
    const readerHead = heads[1] as LinearHead;
    let agree = 0;
    let maxLogitDifference = 0;
    readerTokens.forEach((token, i) => {
      const logits = Array.from(answer.logits[i] ?? []);
      const local = predict(readerHead, token);
      if (predictionFromLogits(logits).label === local.label) agree++;
      logits.forEach((l, c) => (maxLogitDifference = Math.max(maxLogitDifference, Math.abs(l - (local.logits[c] ?? NaN)))));
    });
    const value = { agree, total: readerTokens.length, maxLogitDifference };
    return {
      value,
      detail: `Clinic A published the model encrypted (${formatBytes(published.bytes.galoisKeys)} of evaluation keys); clinic B sent ${readerTokens.length} encrypted tiles (${formatBytes(answer.bytesUp)}) and decrypted the answers: ${agree} of ${readerTokens.length} agree with the plaintext check (largest logit difference ${maxLogitDifference.toExponential(1)}).`,
    };
  });

  const result: RoundResult = {
    federationId,
    federationName: 'Three-clinic demo',
    source: 'demo',
    round: ROUND,
    strategy: 'prototypes',
    completedAt: Date.now(),
    accuracyEncrypted: evaluation.accuracyEncrypted,
    accuracyUnencrypted: evaluation.accuracyUnencrypted,
    accuracyNote: `Demo accuracy is measured on the ${everything.tokens.length} bundled tiles, which are also the training tiles (the demo has no held-out set), with a tiny random-weight ViT: compare the two domains, not the level.`,
    bytesUpPerClinic: contributions.reduce((bytes, c) => bytes + c.upload.bytes, 0) / contributions.length,
    bytesDownPerClinic: aggregateBytes,
    bytesPlainPerClinic: evaluation.plainBytes,
    phaseMs,
  };
  const head: StoredHead = {
    federationId,
    federationName: 'Three-clinic demo',
    round: ROUND,
    strategy: 'prototypes',
    modelSha256,
    classes: encryptedHead.classes,
    dim,
    weights: Array.from(encryptedHead.weights),
    biases: Array.from(encryptedHead.biases),
  };
  return { federationId, seconds: (performance.now() - started) / 1000, ...evaluation, tiles: everything.tokens.length, inference, inferenceAccess, result, head };
}
