// Which ViT the app extracts with: the bundled tiny model, a model folder on this server (public/models/<name>/ or
// any same-origin path), or a folder the user picks (kept in the Cache API so a reload does not ask again). The
// token cache is keyed by the model's identity, so switching models never mixes tokens.
import { formatBytes } from '../../common/format-bytes.ts';

export const BUNDLED_MODEL_URL = '/models/tiny/';
/** Values per token of the bundled model (hidden 192, [CLS] pooling; model-choice.test.ts reads its config). */
export const BUNDLED_TOKEN_WIDTH = 192;
export const MODEL_FOLDER_FILES = ['manifest.json', 'config.json', 'preprocessor_config.json', 'model.safetensors'] as const;
/**
 * ViT-L/16 is 607 MB in fp16 and 1.2 GB in fp32; the worker streams model.safetensors and checks the memory the model
 * needs from its header, so this only keeps the Cache API copy of a picked folder within reason.
 */
export const MAX_MODEL_FOLDER_BYTES = 2 * 1024 * 1024 * 1024;

/** A picked folder keeps its files as Blobs (the Files, or the Cache API's copies): read as streams, never whole. */
export type ModelChoice = { kind: 'url'; url: string } | { kind: 'folder'; label: string; files: Record<string, Blob> };

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

/** The model folder's files among the picked ones (not read: the worker streams them). */
export function modelFolderFiles(files: readonly File[]): Record<string, Blob> {
  const byName = new Map(files.map((f) => [f.name, f]));
  const missing = MODEL_FOLDER_FILES.filter((name) => !byName.has(name));
  if (missing.length > 0) throw new Error(`the picked folder has no ${missing.join(', ')}; a model folder holds ${MODEL_FOLDER_FILES.join(', ')}`);
  const total = MODEL_FOLDER_FILES.reduce((sum, name) => sum + (byName.get(name) as File).size, 0);
  if (total > MAX_MODEL_FOLDER_BYTES) throw new Error(`the picked model is ${formatBytes(total)}; at most ${formatBytes(MAX_MODEL_FOLDER_BYTES)}`);
  return Object.fromEntries(MODEL_FOLDER_FILES.map((name) => [name, byName.get(name) as File]));
}

export async function saveModelChoice(choice: ModelChoice): Promise<void> {
  await caches.delete(FOLDER_CACHE);
  if (choice.kind === 'folder') {
    const cache = await caches.open(FOLDER_CACHE);
    await Promise.all(Object.entries(choice.files).map(([name, file]) => cache.put(`/model-folder/${name}`, new Response(file))));
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
    const files: Record<string, Blob> = {};
    for (const name of MODEL_FOLDER_FILES) {
      const response = await cache.match(`/model-folder/${name}`);
      if (!response) return bundled;
      files[name] = await response.blob(); // Chromium backs a cached body's Blob by its disk entry
    }
    return { kind: 'folder', label: saved.label, files };
  }
  return bundled;
}

/** A key that changes whenever the model would (used to reload the ViT worker). */
export function modelChoiceKey(choice: ModelChoice): string {
  return choice.kind === 'url' ? `url:${choice.url}` : `folder:${choice.label}:${MODEL_FOLDER_FILES.map((n) => choice.files[n]?.size).join(',')}`;
}

/** Reads one file of the chosen model folder. */
export function modelFileReader(choice: ModelChoice): (name: string) => Promise<Uint8Array> {
  if (choice.kind === 'folder') {
    return async (name) => {
      const file = choice.files[name];
      if (!file) throw new Error(`the picked model folder has no ${name}`);
      return new Uint8Array(await file.arrayBuffer());
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
