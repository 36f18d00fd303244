// Aperio JPEG 2000 tiles (TIFF compression 33003: YCbCr components, 33005: RGB), decoded by OpenJPEG built to
// WebAssembly (@cornerstonejs/codec-openjpeg), in Node and in the browser alike. Aperio stores bare codestreams and
// no colour transform inside them for 33003, so, as OpenSlide does, the YCbCr components are turned into RGB here
// (libjpeg's integer tables, ycbcr.ts); 33005 tiles are RGB already.
import openJpegFactory, { type OpenJpegModule } from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import { toHex } from '../common/hex.ts';
import { rgbFromJpegYcbcr } from './ycbcr.ts';

export const APERIO_J2K_YCBCR = 33003;
export const APERIO_J2K_RGB = 33005;

let openJpeg: Promise<OpenJpegModule> | undefined;

/**
 * The decoder module, started once. In the browser the bundler's URL of `openjpegwasm_decode.wasm` is passed as
 * `wasmUrl`; in Node the module finds the file beside its script.
 */
function decoderModule(wasmUrl?: string): Promise<OpenJpegModule> {
  // OpenJPEG's per-tile [INFO] lines go nowhere; errors surface as exceptions from decode().
  openJpeg ??= openJpegFactory({ ...(wasmUrl ? { locateFile: () => wasmUrl } : {}), print: () => {}, printErr: () => {} });
  return openJpeg;
}

export interface DecodedJpeg2000 {
  width: number;
  height: number;
  /** Interleaved 8-bit RGB. */
  rgb: Uint8Array;
}

/** RGB pixels of one tile's codestream; `compression` says what its three components are. */
export async function decodeAperioJpeg2000(codestream: Uint8Array, compression: typeof APERIO_J2K_YCBCR | typeof APERIO_J2K_RGB, wasmUrl?: string): Promise<DecodedJpeg2000> {
  // A codestream starts with SOC then SIZ (FF 4F FF 51); OpenJPEG reports garbage only as an empty frame.
  if (codestream[0] !== 0xff || codestream[1] !== 0x4f || codestream[2] !== 0xff || codestream[3] !== 0x51) {
    throw new Error(`not a JPEG 2000 codestream (it starts with bytes ${toHex(codestream.subarray(0, 4))}, not ff4fff51)`);
  }
  const module = await decoderModule(wasmUrl);
  const decoder = new module.J2KDecoder();
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream);
    try {
      decoder.decode();
    } catch (error) {
      throw new Error(`OpenJPEG could not decode the JPEG 2000 codestream (${codestream.length} bytes): ${typeof error === 'number' ? `error ${error}` : String(error)}`, { cause: error });
    }
    const { width, height, bitsPerSample, componentCount, isSigned } = decoder.getFrameInfo();
    if (width === 0 || height === 0) throw new Error(`OpenJPEG could not decode the JPEG 2000 codestream (${codestream.length} bytes)`);
    if (componentCount !== 3 || bitsPerSample !== 8 || isSigned) {
      throw new Error(`a JPEG 2000 tile of ${componentCount} component(s) at ${bitsPerSample} bits${isSigned ? ', signed' : ''}; Aperio tiles have 3 unsigned 8-bit components`);
    }
    // The decoded buffer is a view into the WebAssembly heap: copy it out before the decoder is deleted.
    const components = decoder.getDecodedBuffer().slice(0, width * height * 3);
    return { width, height, rgb: compression === APERIO_J2K_YCBCR ? rgbFromJpegYcbcr(components, width, height, 1, 1) : components };
  } finally {
    decoder.delete();
  }
}
