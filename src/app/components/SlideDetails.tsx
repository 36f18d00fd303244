// What the reader found in the slide file (vendor, size, µm/px, objective power, levels, associated images), the
// questions for what the file does not state (µm per pixel, objective power: asked, never guessed), and the label and
// macro images, which may show patient identifiers: they are decoded and shown only when the user asks, and like
// everything from the file they never leave this browser.
import { ColumnHeads } from './Section.tsx';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { formatBytes } from '../../common/format-bytes.ts';
import type { RgbaRegion, SlideInfo } from '../../slide/slide.ts';
import { slidePool } from '../workers.ts';

const MPP_SOURCES = { 'aperio-description': 'from the Aperio description', 'tiff-resolution': 'from the TIFF resolution tags' } as const;

function NumberQuestion({ label, help, min, max, onAnswer }: { label: string; help: string; min: number; max: number; onAnswer: (value: number) => void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const value = Number(text);
    if (!(text.trim() !== '' && Number.isFinite(value) && value >= min && value <= max)) {
      setError(`Enter a number from ${min} to ${max}.`);
      return;
    }
    setError(null);
    onAnswer(value);
  };
  return (
    <form className="notice warn question" onSubmit={submit} noValidate>
      <p>{help}</p>
      <div className="row">
        <label htmlFor={id}>{label}</label>
        <input id={id} type="number" inputMode="decimal" min={min} max={max} step="any" value={text} onChange={(e) => setText(e.target.value)} aria-invalid={error !== null} required />
        <button type="submit">Use this value</button>
      </div>
      {error ? (
        <p className="notice error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

function AssociatedImage({ name }: { name: string }) {
  const [image, setImage] = useState<RgbaRegion | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = ref.current?.getContext('2d');
    if (image && context) context.putImageData(new ImageData(image.rgba as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
  }, [image]);
  if (!image) {
    return (
      <>
        <button type="button" className="secondary" onClick={() => slidePool().associated(name).then(setImage, (e: unknown) => setError((e as Error).message))}>
          Show {name}
        </button>
        {error ? <span className="notice error">{error}</span> : null}
      </>
    );
  }
  return (
    <figure className="associated">
      <canvas ref={ref} width={image.width} height={image.height} role="img" aria-label={`${name} image of the slide`} data-testid={`associated-${name}`} />
      <figcaption>
        {name}, {image.width} × {image.height} px{' '}
        <button type="button" className="secondary" onClick={() => setImage(null)}>
          Hide {name}
        </button>
      </figcaption>
    </figure>
  );
}

export interface SlideDetailsProps {
  info: SlideInfo;
  fingerprint: string | null;
  mppEntered: number | null;
  objectivePowerEntered: number | null;
  onMpp: (mpp: number) => void;
  onObjectivePower: (power: number) => void;
}

export function SlideDetails({ info, fingerprint, mppEntered, objectivePowerEntered, onMpp, onObjectivePower }: SlideDetailsProps) {
  const privateImages = info.associated.filter((a) => a.name === 'label' || a.name === 'macro');
  const questions = [
    !info.mpp && mppEntered === null
      ? {
          key: 'mpp',
          label: 'µm per pixel at level 0',
          help: "This slide does not state its resolution, and it is never guessed. Enter it from the scanner's report (0.25 for a 40× scan, 0.5 for 20×): the scale bar and the tile grid need it.",
          min: 0.05,
          max: 20,
          onAnswer: onMpp,
        }
      : null,
    info.objectivePower === null && objectivePowerEntered === null
      ? {
          key: 'objective',
          label: 'Objective power of level 0',
          help: 'This slide does not state the objective power it was scanned at. Enter it (e.g. 40 or 20) to see the magnification on screen.',
          min: 1,
          max: 200,
          onAnswer: onObjectivePower,
        }
      : null,
  ].filter((question) => question !== null);
  return (
    <div className="slide-details" data-testid="slide-details">
      <p>
        <strong>{info.file}</strong>: {info.vendor === 'aperio' ? 'Aperio SVS' : 'generic pyramidal TIFF'}, {info.width.toLocaleString('en')} × {info.height.toLocaleString('en')} px,{' '}
        {formatBytes(info.byteLength)}.
      </p>
      <p data-testid="slide-mpp">
        Resolution:{' '}
        {info.mpp
          ? `${info.mpp.x} × ${info.mpp.y} µm per pixel (${info.mppSource ? MPP_SOURCES[info.mppSource] : 'from the file'})`
          : mppEntered !== null
            ? `${mppEntered} µm per pixel (entered by you; the file does not state it)`
            : 'not stated in the file'}
        . Objective power:{' '}
        {info.objectivePower !== null ? `${info.objectivePower}× (from the file)` : objectivePowerEntered !== null ? `${objectivePowerEntered}× (entered by you)` : 'not stated in the file'}.
        {fingerprint ? (
          <>
            {' '}
            Slide identity <code title={fingerprint}>{fingerprint.slice(0, 16)}</code>.
          </>
        ) : null}
      </p>
      {questions.map(({ key, ...question }) => (
        <NumberQuestion key={key} {...question} />
      ))}
      <table className="levels" data-testid="slide-levels">
        <caption className="visually-hidden">Pyramid levels</caption>
        <ColumnHeads columns={['Level', 'Width × height (px)', 'Downsample', 'Tile']} />
        <tbody>
          {info.levels.map((level, i) => (
            <tr key={i}>
              <td>{i}</td>
              <td>
                {level.width} × {level.height}
              </td>
              <td>{+level.downsample.toFixed(3)}</td>
              <td>
                {level.tileWidth} × {level.tileHeight}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {privateImages.length ? (
        <div data-testid="associated-images">
          <p className="small muted">The label and macro images may show patient identifiers: they are shown only when you ask, and never leave this browser.</p>
          <div className="row">
            {privateImages.map((a) => (
              <AssociatedImage key={a.name} name={a.name} />
            ))}
          </div>
        </div>
      ) : null}
    </div>
  );
}
