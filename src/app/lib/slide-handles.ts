// Reopening a slide after a reload. Where Chromium offers File System Access, the slide is picked with
// showOpenFilePicker and its handle kept in IndexedDB (lib/slide-db.ts): after a reload one click asks for read
// permission again and reopens the same file. Elsewhere the user picks the file again and the fingerprint matches it
// to the tokens already stored.
import { countSlideTokens, rememberedSlides, rememberSlide, type StoredSlide } from './slide-db.ts';
import { SLIDE_ACCEPT } from './slide-files.ts';

interface PermissionedHandle extends FileSystemFileHandle {
  queryPermission?(options: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(options: { mode: 'read' }): Promise<PermissionState>;
}

interface PickerWindow {
  showOpenFilePicker?(options: { multiple: boolean; types: { description: string; accept: Record<string, string[]> }[] }): Promise<FileSystemFileHandle[]>;
}

export const canKeepFileHandles = (): boolean => typeof (window as PickerWindow).showOpenFilePicker === 'function';

/** Asks for a slide with the File System Access picker; null when the user closed it. */
export async function pickSlideHandle(): Promise<FileSystemFileHandle | null> {
  const picker = (window as PickerWindow).showOpenFilePicker;
  if (!picker) throw new Error('this browser cannot keep file handles');
  const extensions = SLIDE_ACCEPT.split(',');
  try {
    const [handle] = await picker.call(window, { multiple: false, types: [{ description: 'Whole-slide images', accept: { 'image/tiff': extensions } }] });
    return handle ?? null;
  } catch (e) {
    if ((e as Error).name === 'AbortError') return null;
    throw e;
  }
}

/** The file behind a kept handle, asking for read permission again (browsers forget it on reload). */
export async function fileFromHandle(handle: FileSystemFileHandle): Promise<File> {
  const h = handle as PermissionedHandle;
  if ((await h.queryPermission?.({ mode: 'read' })) !== 'granted' && (await h.requestPermission?.({ mode: 'read' })) === 'denied') {
    throw new Error(`reading ${handle.name} was not allowed: pick the file again`);
  }
  return handle.getFile();
}

export interface ResumableSlide extends StoredSlide {
  tokens: number;
}

/** The most recent slide with tokens stored in this browser, to offer reopening it; null if none. */
export async function lastResumableSlide(): Promise<ResumableSlide | null> {
  for (const slide of await rememberedSlides()) {
    const tokens = await countSlideTokens(slide.fingerprint);
    if (tokens > 0) return { ...slide, tokens };
  }
  return null;
}

export const rememberOpenedSlide = (fingerprint: string, name: string, handle: FileSystemFileHandle | undefined): Promise<StoredSlide> =>
  rememberSlide({ fingerprint, name, savedAt: Date.now(), ...(handle ? { handle } : {}) });
