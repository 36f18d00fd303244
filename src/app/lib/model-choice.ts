// Which ViT the app extracts with: the bundled tiny model, a model folder on this server (public/models/<name>/ or
// any same-origin path), or a folder the user picks (kept in the Cache API so a reload does not ask again). The
// token cache is keyed by the model's identity, so switching models never mixes tokens.
import { formatBytes } from '../../common/format-bytes.ts';

export const BUNDLED_MODEL_URL = '/models/tiny/';
/** Values per token of the bundled model (hidden 192, [CLS] pooling; model-choice.test.ts reads its config). */
export const BUNDLED_TOKEN_WIDTH = 192;
export const MODEL_FOLDER_FILES = ['manifest.json', 'config.json', 'preprocessor_config.json', 'model.safetensors'] as const;
/** ViT-B/16 in fp32 is 343 MB; anything far beyond that is not a ViT this app can run in a browser tab. */
export const MAX_MODEL_FOLDER_BYTES = 1024 * 1024 * 1024;

export type ModelChoice = { kind: 'url'; url: string } | { kind: 'folder'; label: string; files: Record<string, Uint8Array> };

const CHOICE_KEY = 'cipherpath-model-choice';
const FOLDER_CACHE = 'cipherpath-model-folder';

/** A same-origin folder path such as /models/vit-b16/; anything else is refused with the reason. */
export function checkModelUrl(raw: string): string {
  const path = raw.trim();
  if (!path.startsWith('/') || path.startsWith('//')) throw new Error(`"${path.slice(0, 80)}" is not a path on this server; write it like /models/vit-b16/`);
  if (path.split('/').includes('..')) throw new Error('a model path may not contain ".."');
  if (!/^[A-Za-z0-9/_.-]+$/.test(path)) throw new Error('a model path may contain only letters, digits, "/", "_", "-" and "."');
  return path.endsWith('/') ? path : `${path}/`;
}

export async function readModelFolderFiles(files: readonly File[]): Promise<Record<string, Uint8Array>> {
  const byName = new Map(files.map((f) => [f.name, f]));
  const missing = MODEL_FOLDER_FILES.filter((name) => !byName.has(name));
  if (missing.length > 0) throw new Error(`the picked folder has no ${missing.join(', ')}; a model folder holds ${MODEL_FOLDER_FILES.join(', ')}`);
  const total = MODEL_FOLDER_FILES.reduce((sum, name) => sum + (byName.get(name) as File).size, 0);
  if (total > MAX_MODEL_FOLDER_BYTES) throw new Error(`the picked model is ${formatBytes(total)}; at most ${formatBytes(MAX_MODEL_FOLDER_BYTES)}`);
  const entries = await Promise.all(MODEL_FOLDER_FILES.map(async (name) => [name, new Uint8Array(await (byName.get(name) as File).arrayBuffer())] as const));
  return Object.fromEntries(entries);
}

export async function saveModelChoice(choice: ModelChoice): Promise<void> {
  await caches.delete(FOLDER_CACHE);
  if (choice.kind === 'folder') {
    const cache = await caches.open(FOLDER_CACHE);
    await Promise.all(Object.entries(choice.files).map(([name, bytes]) => cache.put(`/model-folder/${name}`, new Response(bytes as BodyInit))));
    localStorage.setItem(CHOICE_KEY, JSON.stringify({ kind: 'folder', label: choice.label }));
  } else {
    localStorage.setItem(CHOICE_KEY, JSON.stringify({ kind: 'url', url: choice.url }));
  }
}

/** The saved choice; the bundled model when none was saved or the saved folder is gone. */
export async function currentModelChoice(): Promise<ModelChoice> {
  const bundled: ModelChoice = { kind: 'url', url: BUNDLED_MODEL_URL };
  let saved: { kind?: string; url?: string; label?: string };
  try {
    saved = JSON.parse(localStorage.getItem(CHOICE_KEY) ?? 'null') ?? {};
  } catch {
    return bundled;
  }
  if (saved.kind === 'url' && typeof saved.url === 'string') return { kind: 'url', url: checkModelUrl(saved.url) };
  if (saved.kind === 'folder' && typeof saved.label === 'string') {
    const cache = await caches.open(FOLDER_CACHE);
    const files: Record<string, Uint8Array> = {};
    for (const name of MODEL_FOLDER_FILES) {
      const response = await cache.match(`/model-folder/${name}`);
      if (!response) return bundled;
      files[name] = new Uint8Array(await response.arrayBuffer());
    }
    return { kind: 'folder', label: saved.label, files };
  }
  return bundled;
}

/** A key that changes whenever the model would (used to reload the ViT worker). */
export function modelChoiceKey(choice: ModelChoice): string {
  return choice.kind === 'url' ? `url:${choice.url}` : `folder:${choice.label}:${MODEL_FOLDER_FILES.map((n) => choice.files[n]?.byteLength).join(',')}`;
}

/** Reads one file of the chosen model folder. */
export function modelFileReader(choice: ModelChoice): (name: string) => Promise<Uint8Array> {
  if (choice.kind === 'folder') {
    return async (name) => {
      const bytes = choice.files[name];
      if (!bytes) throw new Error(`the picked model folder has no ${name}`);
      return bytes;
    };
  }
  return async (name) => {
    const response = await fetch(`${choice.url}${name}`);
    if (!response.ok) throw new Error(`${choice.url}${name} answered ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
}

/** Forgets a picked folder (the erase-all button calls this too). */
export async function forgetModelChoice(): Promise<void> {
  localStorage.removeItem(CHOICE_KEY);
  await caches.delete(FOLDER_CACHE);
}
