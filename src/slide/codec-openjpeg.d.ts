// @cornerstonejs/codec-openjpeg ships no types: the part of its decoder build (OpenJPEG in WebAssembly) jpeg2000.ts uses.
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  export interface J2KDecoder {
    getEncodedBuffer(length: number): Uint8Array;
    decode(): void;
    getDecodedBuffer(): Uint8Array;
    getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
    delete(): void;
  }
  export interface OpenJpegModule {
    J2KDecoder: new () => J2KDecoder;
  }
  const factory: (options?: { locateFile?: (path: string, prefix: string) => string; print?: (line: string) => void; printErr?: (line: string) => void }) => Promise<OpenJpegModule>;
  export default factory;
}
