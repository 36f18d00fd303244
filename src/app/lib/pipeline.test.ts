// The tile pipeline's scheduling (pipeline.ts) with stages that only resolve when the test says so: overlap of
// preparing and running, the bound on batches waiting, strict order when ahead is 0, ordered finishing that overlaps
// the next run, and what an abort, a failing stage and a failing finish stop and keep.
import { describe, expect, it } from 'vitest';
import { runPipeline, type PipelineStages } from './pipeline.ts';

interface Gate {
  promise: Promise<void>;
  open(): void;
  fail(error: Error): void;
}
function gate(): Gate {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Stages that log what starts and ends and wait on one gate per stage and batch. */
function gatedStages(count: number) {
  const log: string[] = [];
  const gates = { prepare: Array.from({ length: count }, gate), run: Array.from({ length: count }, gate), finish: Array.from({ length: count }, gate) };
  const signals: AbortSignal[] = [];
  let waiting = 0;
  let maxWaiting = 0;
  const finished: number[] = [];
  const stages: PipelineStages<number, number, number> = {
    async prepare(batch, _index, signal) {
      signals.push(signal);
      log.push(`prepare ${batch}`);
      await gates.prepare[batch]?.promise;
      log.push(`prepared ${batch}`);
      waiting++;
      return batch * 10;
    },
    async run(input, batch) {
      waiting--;
      log.push(`run ${batch}`);
      maxWaiting = Math.max(maxWaiting, waiting);
      await gates.run[batch]?.promise;
      log.push(`ran ${batch}`);
      return input + 1;
    },
    async finish(result, batch) {
      log.push(`finish ${batch}`);
      await gates.finish[batch]?.promise;
      finished.push(result);
      log.push(`finished ${batch}`);
    },
  };
  return { log, gates, stages, signals, finished, maxWaiting: () => maxWaiting, waiting: () => waiting };
}

const openAll = (gates: Gate[]) => gates.forEach((g) => g.open());

describe('runPipeline', () => {
  it('prepares the next batches while one runs, at most `ahead` waiting', async () => {
    const t = gatedStages(6);
    openAll(t.gates.prepare);
    openAll(t.gates.finish);
    const done = runPipeline([0, 1, 2, 3, 4, 5], t.stages, { ahead: 2 });
    await settle();
    // Batch 0 runs; 1 and 2 are prepared meanwhile, 3 is not (that would be three waiting).
    expect(t.log).toContain('run 0');
    expect(t.log).toContain('prepared 2');
    expect(t.log).not.toContain('prepare 3');
    expect(t.waiting()).toBe(2);
    t.gates.run[0]?.open();
    await settle();
    expect(t.log).toContain('run 1');
    expect(t.log).toContain('prepared 3');
    expect(t.log).not.toContain('prepare 4');
    openAll(t.gates.run);
    await done;
    expect(t.finished).toEqual([1, 11, 21, 31, 41, 51]);
    expect(t.maxWaiting()).toBe(2);
  });

  it('runs strictly in series with ahead 0', async () => {
    const t = gatedStages(3);
    for (const g of Object.values(t.gates)) openAll(g);
    await runPipeline([0, 1, 2], t.stages, { ahead: 0 });
    expect(t.log).toEqual(['prepare 0', 'prepared 0', 'run 0', 'ran 0', 'finish 0', 'finished 0', 'prepare 1', 'prepared 1', 'run 1', 'ran 1', 'finish 1', 'finished 1', 'prepare 2', 'prepared 2', 'run 2', 'ran 2', 'finish 2', 'finished 2']);
  });

  it('finishes batches in order, each as soon as it ran, while the next one runs', async () => {
    const t = gatedStages(3);
    openAll(t.gates.prepare);
    const done = runPipeline([0, 1, 2], t.stages, { ahead: 1 });
    t.gates.run[0]?.open();
    await settle();
    expect(t.log).toContain('finish 0');
    expect(t.log).toContain('run 1'); // the next forward pass does not wait for the cache write
    t.gates.run[1]?.open();
    await settle();
    expect(t.log).not.toContain('finish 1'); // in order: 1 waits for 0's finishing
    openAll(t.gates.finish);
    t.gates.run[2]?.open();
    await done;
    expect(t.finished).toEqual([1, 11, 21]);
  });

  it('an abort stops both stages, cancels the batch being prepared and keeps what was finished', async () => {
    const t = gatedStages(6);
    openAll(t.gates.finish);
    const controller = new AbortController();
    t.gates.prepare[0]?.open();
    const done = runPipeline([0, 1, 2, 3, 4, 5], t.stages, { ahead: 2, signal: controller.signal });
    t.gates.run[0]?.open();
    await settle();
    // Batch 0 finished, batch 1 is being prepared (its gate is closed).
    expect(t.finished).toEqual([1]);
    controller.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.signals.every((s) => s.aborted)).toBe(true);
    openAll(t.gates.prepare);
    openAll(t.gates.run);
    await settle();
    expect(t.log.filter((l) => l.startsWith('run'))).toEqual(['run 0']);
    expect(t.log).not.toContain('prepare 3');
    expect(t.finished).toEqual([1]);
  });

  it('a batch that fails to prepare stops the pipeline with its error after the earlier batches finished', async () => {
    const t = gatedStages(4);
    openAll(t.gates.run);
    openAll(t.gates.finish);
    t.gates.prepare[0]?.open();
    t.gates.prepare[1]?.fail(new Error('tile 7 is damaged'));
    const done = runPipeline([0, 1, 2, 3], t.stages, { ahead: 1 });
    await expect(done).rejects.toThrow('tile 7 is damaged');
    expect(t.finished).toEqual([1]);
    expect(t.log.filter((l) => l.startsWith('run'))).toEqual(['run 0']);
  });

  it('a failed finish stops further runs and is what the pipeline rejects with', async () => {
    const t = gatedStages(4);
    openAll(t.gates.prepare);
    t.gates.finish[0]?.fail(new Error('the disk is full'));
    const done = runPipeline([0, 1, 2, 3], t.stages, { ahead: 1 });
    t.gates.run[0]?.open();
    await settle();
    openAll(t.gates.run);
    await expect(done).rejects.toThrow('the disk is full');
    expect(t.finished).toEqual([]);
    // Batch 1 was already running when batch 0's finish failed; nothing started after that.
    expect(t.log.filter((l) => l.startsWith('run'))).toEqual(['run 0', 'run 1']);
    expect(t.log.filter((l) => l.startsWith('finish '))).toEqual(['finish 0']);
  });

  it('refuses a negative or fractional ahead', async () => {
    const t = gatedStages(1);
    await expect(runPipeline([0], t.stages, { ahead: -1 })).rejects.toThrow('ahead must be a whole number');
    await expect(runPipeline([0], t.stages, { ahead: 1.5 })).rejects.toThrow('ahead must be a whole number');
  });
});
