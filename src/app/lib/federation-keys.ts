// A federation's secret key material is two SEAL secret keys: the aggregation key (the federation's preset, e.g.
// agg-v1) and the inference key (inf-v1). The founder creates both; they travel together as one bundle
// (src/protocol/bundle.ts: part 0 aggregation, part 1 inference) through the key relay, and as a bundle of two
// passphrase-sealed key files (src/he/keyfile.ts, one per key) in an exported key file. The vault keeps them in two
// slots: `${slot}` and `${slot}:inf`.
//
// This page never holds the keys' bytes: they live in the HE worker's key slots (src/he/key-slots.ts) and are
// named here by handle. Every way in or out runs the cryptography in the worker: creation, key files (PBKDF2 +
// AES-GCM), the vault (AES-GCM under its non-extractable WebCrypto key) and the relay (AES-GCM under the relay's
// non-extractable key, src/custody/keywrap.ts's sealer and opener).
import type { KeyInfo } from '../../he/key-slots.ts';
import type { PresetId } from '../../he/params.ts';
import { ENVELOPE_MAGIC } from '../../protocol/envelope.ts';
import { BundleError, decodeBundle, encodeBundle } from '../../protocol/bundle.ts';
import type { OpenUnder, SealUnder } from '../../custody/keywrap.ts';
import { heWorker } from '../workers.ts';
import { hasSecretKey, loadSecretKey, storeSecretKey } from './keyvault.ts';

export const INFERENCE_PRESET = 'inf-v1' satisfies PresetId;

export interface FederationKeys {
  aggregation: KeyInfo;
  inference: KeyInfo;
}

const inferenceSlot = (slot: string) => `${slot}:inf`;
const OLDER_RELAY_HINT = 'ask the key holder to reload cipherpath and approve this clinic again';

export async function createFederationKeys(presetId: PresetId, federationId: string): Promise<FederationKeys> {
  const he = heWorker();
  const [aggregation, inference] = await Promise.all([he.generateKey(presetId, federationId), he.generateKey(INFERENCE_PRESET, federationId)]);
  return { aggregation, inference };
}

/** Zero-fills the keys' slots in the worker (their handles are dead afterwards). */
export async function dropKeys(keys: readonly (KeyInfo | null | undefined)[]): Promise<void> {
  const he = heWorker();
  await Promise.all(keys.filter((k): k is KeyInfo => !!k).map((k) => he.dropKey(k.handle)));
}

const startsWithEnvelopeMagic = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(0, 4)) === ENVELOPE_MAGIC;

const singleKeyMessage = (what: string, olderHint: string) => `${what} holds a single key, from a cipherpath version before encrypted inference; ${olderHint}`;
const partCountMessage = (what: string, count: number) => `${what} holds ${count} key(s); a federation key bundle holds 2 (aggregation and inference)`;

/** The two parts of a key bundle; `what` names the bytes in the error ("the key received from Clinic A"). */
function twoParts(bytes: Uint8Array, what: string, olderHint: string): [Uint8Array, Uint8Array] {
  let parts: Uint8Array[];
  try {
    parts = decodeBundle(bytes);
  } catch (e) {
    if (e instanceof BundleError && e.code === 'bad-magic' && startsWithEnvelopeMagic(bytes)) throw new Error(singleKeyMessage(what, olderHint), { cause: e });
    throw new Error(`${what} is not a cipherpath key bundle (${(e as Error).message})`, { cause: e });
  }
  if (parts.length !== 2) throw new Error(partCountMessage(what, parts.length));
  return parts as [Uint8Array, Uint8Array];
}

/** The relay's sealer for `keys`: the worker encrypts the bundle [aggregation, inference] under the relay key. */
export function relaySealer(keys: FederationKeys): SealUnder {
  return (aesKey, iv, additionalData) => heWorker().sealKeys([keys.aggregation.handle, keys.inference.handle], aesKey, iv, additionalData);
}

/** The relay's opener: the worker opens the bundle into two new slots; `what` names the sender in errors. */
export function relayOpener(what: string): OpenUnder<FederationKeys> {
  return async (aesKey, iv, additionalData, sealed) => {
    let opened: KeyInfo[] | null;
    try {
      // Copies of the views, so only these bytes (not the whole wrapped message) are cloned into the worker.
      opened = await heWorker().openSealedKeys(aesKey, iv.slice(), sealed.slice(), additionalData);
    } catch (e) {
      throw new Error(`${what} could not be opened: ${(e as Error).message}`, { cause: e });
    }
    if (opened === null) return null;
    const [aggregation, inference] = opened;
    if (opened.length !== 2 || !aggregation || !inference) {
      await dropKeys(opened);
      throw new Error(opened.length === 1 ? singleKeyMessage(what, OLDER_RELAY_HINT) : partCountMessage(what, opened.length));
    }
    return { aggregation, inference };
  };
}

/** Key file: a bundle of the two keys, each sealed with the passphrase by src/he/keyfile.ts in the worker. */
export async function sealFederationKeyFile(keys: FederationKeys, passphrase: string): Promise<Uint8Array> {
  const he = heWorker();
  return encodeBundle([await he.sealKeyFile(keys.aggregation.handle, passphrase), await he.sealKeyFile(keys.inference.handle, passphrase)]);
}

export async function openFederationKeyFile(file: Uint8Array, passphrase: string, fileName: string): Promise<FederationKeys> {
  const [aggregationFile, inferenceFile] = twoParts(file, fileName, 'export a new key file from a key holder: it holds the aggregation and the inference key');
  const he = heWorker();
  const aggregation = await he.openKeyFile(aggregationFile, passphrase);
  try {
    return { aggregation, inference: await he.openKeyFile(inferenceFile, passphrase) };
  } catch (e) {
    await dropKeys([aggregation]);
    throw e;
  }
}

export async function storeFederationKeys(slot: string, keys: FederationKeys): Promise<void> {
  await storeSecretKey(slot, keys.aggregation.handle);
  await storeSecretKey(inferenceSlot(slot), keys.inference.handle);
}

/** Both keys of a vault slot, opened into the worker; `inference` is null when only an aggregation key from an older version is stored. */
export async function loadFederationKeys(slot: string): Promise<{ aggregation: KeyInfo; inference: KeyInfo | null } | null> {
  const aggregation = await loadSecretKey(slot);
  if (!aggregation) return null;
  return { aggregation, inference: (await loadSecretKey(inferenceSlot(slot))) ?? null };
}

/** The inference key of a vault slot, opened into the worker; or what is missing: every key, or (an older version's vault) the inference key. */
export async function loadInferenceKey(slot: string): Promise<KeyInfo | { missing: 'keys' | 'inference' }> {
  const key = await loadSecretKey(inferenceSlot(slot));
  if (key) return key;
  return { missing: (await hasSecretKey(slot)) ? 'inference' : 'keys' };
}
