// The bundled model's token width, which the Admin page offers as the default a federation declares, is the width
// the bundled model folder really gives.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseVitConfig, tokenWidth } from '../../vit/config.ts';
import { BUNDLED_MODEL_URL, BUNDLED_TOKEN_WIDTH } from './model-choice.ts';

it('declares the width the bundled model folder gives', () => {
  const folder = join(import.meta.dirname, '..', '..', '..', 'public', BUNDLED_MODEL_URL);
  const config = parseVitConfig(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')));
  expect(tokenWidth(config)).toBe(BUNDLED_TOKEN_WIDTH);
});
