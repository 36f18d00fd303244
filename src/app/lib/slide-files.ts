// Which dropped or picked files are whole-slide images (opened in the viewer, read on demand, never imported whole)
// and which are tiles (decoded and kept in the tile library). Scanner formats go to the slide reader by name, so
// the ones it does not read (NDPI, DICOM, JPEG 2000, MIRAX...) get its precise refusal; a TIFF is a slide when it is
// tiled or a BigTIFF, which only the first directory says (read with two small slices, never the whole file).

const SLIDE_EXTENSIONS = new Set(['svs', 'ndpi', 'dcm', 'jp2', 'j2k', 'jpx', 'mrxs', 'scn', 'bif', 'vms', 'vmu', 'czi', 'isyntax', 'qptiff']);
const TIFF_EXTENSIONS = new Set(['tif', 'tiff']);
const TILE_WIDTH_TAG = 322;

/** What the slide input accepts (the tile formats are accepted by the tile input). */
export const SLIDE_ACCEPT = [...SLIDE_EXTENSIONS, ...TIFF_EXTENSIONS].map((e) => `.${e}`).join(',');

const extensionOf = (name: string): string => name.toLowerCase().split('.').pop() ?? '';

async function bytes(blob: Blob, start: number, end: number): Promise<DataView> {
  return new DataView(await blob.slice(start, end).arrayBuffer());
}

/** True when the TIFF's first directory holds a TileWidth tag, or the file is a BigTIFF (tiles never are). */
export async function isTiledOrBigTiff(blob: Blob): Promise<boolean> {
  const header = await bytes(blob, 0, 8);
  if (header.byteLength < 8) return false;
  const order = header.getUint16(0, false);
  if (order !== 0x4949 && order !== 0x4d4d) return false;
  const little = order === 0x4949;
  const version = header.getUint16(2, little);
  if (version === 43) return true;
  if (version !== 42) return false;
  const offset = header.getUint32(4, little);
  const count = (await bytes(blob, offset, offset + 2)).getUint16(0, little);
  const entries = await bytes(blob, offset + 2, offset + 2 + 12 * Math.min(count, 4096));
  for (let i = 0; i + 12 <= entries.byteLength; i += 12) if (entries.getUint16(i, little) === TILE_WIDTH_TAG) return true;
  return false;
}

export async function isSlideFile(name: string, blob: Blob): Promise<boolean> {
  const extension = extensionOf(name);
  if (SLIDE_EXTENSIONS.has(extension)) return true;
  if (!TIFF_EXTENSIONS.has(extension)) return false;
  return isTiledOrBigTiff(blob).catch(() => false);
}
