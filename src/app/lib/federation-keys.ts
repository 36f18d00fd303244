// A federation's secret key material is two SEAL secret keys: the aggregation key (the federation's preset, e.g.
// agg-v1) and the inference key (inf-v1). The founder creates both; they travel together as one bundle
// (src/protocol/bundle.ts: part 0 aggregation, part 1 inference) through the key relay, and as a bundle of two
// passphrase-sealed key files (src/he/keyfile.ts, one per key) in an exported key file. The vault keeps them in two
// slots: `${slot}` and `${slot}:inf`.
import type { PresetId } from '../../he/params.ts';
import { ENVELOPE_MAGIC } from '../../protocol/envelope.ts';
import { BundleError, decodeBundle, encodeBundle } from '../../protocol/bundle.ts';
import { heWorker } from '../workers.ts';
import { loadSecretKey, storeSecretKey } from './keyvault.ts';

export const INFERENCE_PRESET = 'inf-v1' satisfies PresetId;

export interface FederationKeys {
  aggregation: Uint8Array;
  inference: Uint8Array;
}

const inferenceSlot = (slot: string) => `${slot}:inf`;

export async function createFederationKeys(presetId: PresetId, federationId: string): Promise<FederationKeys> {
  const he = heWorker();
  const [aggregation, inference] = await Promise.all([he.generateSecretKey(presetId, federationId), he.generateSecretKey(INFERENCE_PRESET, federationId)]);
  return { aggregation, inference };
}

export const encodeKeyBundle = (keys: FederationKeys): Uint8Array => encodeBundle([keys.aggregation, keys.inference]);

const startsWithEnvelopeMagic = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(0, 4)) === ENVELOPE_MAGIC;

/** The two parts of a key bundle; `what` names the bytes in the error ("the key received from Clinic A"). */
function twoParts(bytes: Uint8Array, what: string, olderHint: string): [Uint8Array, Uint8Array] {
  let parts: Uint8Array[];
  try {
    parts = decodeBundle(bytes);
  } catch (e) {
    if (e instanceof BundleError && e.code === 'bad-magic' && startsWithEnvelopeMagic(bytes)) {
      throw new Error(`${what} holds a single key, from a cipherpath version before encrypted inference; ${olderHint}`, { cause: e });
    }
    throw new Error(`${what} is not a cipherpath key bundle (${(e as Error).message})`, { cause: e });
  }
  if (parts.length !== 2) throw new Error(`${what} holds ${parts.length} key(s); a federation key bundle holds 2 (aggregation and inference)`);
  return parts as [Uint8Array, Uint8Array];
}

export function decodeKeyBundle(bytes: Uint8Array, what: string): FederationKeys {
  const [aggregation, inference] = twoParts(bytes, what, 'ask the key holder to reload cipherpath and approve this clinic again');
  return { aggregation, inference };
}

/** Key file: a bundle of the two keys, each sealed with the passphrase by src/he/keyfile.ts. */
export async function sealFederationKeyFile(keys: FederationKeys, passphrase: string): Promise<Uint8Array> {
  const he = heWorker();
  return encodeBundle([await he.sealKeyFile(keys.aggregation, passphrase), await he.sealKeyFile(keys.inference, passphrase)]);
}

export async function openFederationKeyFile(file: Uint8Array, passphrase: string, fileName: string): Promise<FederationKeys> {
  const [aggregationFile, inferenceFile] = twoParts(file, fileName, 'export a new key file from a key holder: it holds the aggregation and the inference key');
  const he = heWorker();
  return { aggregation: await he.openKeyFile(aggregationFile, passphrase), inference: await he.openKeyFile(inferenceFile, passphrase) };
}

export async function storeFederationKeys(slot: string, keys: FederationKeys): Promise<void> {
  await storeSecretKey(slot, keys.aggregation);
  await storeSecretKey(inferenceSlot(slot), keys.inference);
}

/** Both keys of a vault slot; `inference` is null when only an aggregation key from an older version is stored. */
export async function loadFederationKeys(slot: string): Promise<{ aggregation: Uint8Array; inference: Uint8Array | null } | null> {
  const aggregation = await loadSecretKey(slot);
  if (!aggregation) return null;
  return { aggregation, inference: (await loadSecretKey(inferenceSlot(slot))) ?? null };
}
