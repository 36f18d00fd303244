// The Federation page's simulation loader reads what `npm run simulate -- --json` writes at either level: a slide
// document produced by the real slide simulation (small bags, in-process CKKS sum) passes parseSimulation with its
// rounds and its slide measures intact, and the old slide shape (rounds as a count) is refused.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SLIDE_SIMULATION, simulateSlides, slideSimulationDocument } from '../../fl/slide-simulation.ts';
import { DEFAULT_LOCAL_TRAINING } from '../../fl/head.ts';
import { parseSimulation } from './results.ts';

describe('parseSimulation', () => {
  it('reads a slide-level document from the real slide simulation', async () => {
    const report = await simulateSlides({
      ...DEFAULT_SLIDE_SIMULATION,
      clinics: 2,
      rounds: 2,
      trainPerClass: 10,
      testPerClass: 3,
      dim: 16,
      tiles: [4, 8],
      strategies: ['mean-pool', 'abmil'],
      pooled: ['fedavg-head', 'ridge'],
      domains: ['unencrypted', 'encrypted'],
      training: { ...DEFAULT_LOCAL_TRAINING, epochs: 1 },
      ridgeLambda: 1,
      aggregator: 'in-process',
    });
    const document = slideSimulationDocument(report, { dim: 16 });
    const parsed = parseSimulation(JSON.stringify(document), 'slides.json');
    expect(parsed.runs.map((r) => `${r.strategy}/${r.domain}`)).toEqual(report.runs.map((r) => `${r.label}/${r.domain}`));
    parsed.runs.forEach((run, i) => {
      const source = report.runs[i]!;
      // ridge is closed-form (one round); fedavg-head and abmil run both.
      expect(run.rounds.map((x) => x.round)).toEqual(source.label === 'mean-pool+ridge' ? [1] : [1, 2]);
      expect(run.rounds.map((x) => x.accuracy)).toEqual(source.rounds.map((x) => x.accuracy));
      expect(run.rounds.map((x) => x.bytesUpPerClinic)).toEqual(source.rounds.map((x) => x.bytesUpPerClinic));
      expect(run.finalAccuracy).toBe(source.finalAccuracy);
      expect((run as unknown as { auc: number }).auc).toBe(source.auc);
    });
    const encryptedAbmil = parsed.runs.find((r) => r.strategy === 'abmil' && r.domain === 'encrypted')!;
    expect(encryptedAbmil.rounds[0]!.bytesUpPerClinic).toBeGreaterThan(0);
    expect(() => parseSimulation(JSON.stringify({ runs: [{ ...document.runs[0], rounds: 2 }] }), 'old.json')).toThrow('old.json: runs[0] lacks strategy, domain or rounds');
  }, 300_000);
});
