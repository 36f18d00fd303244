// The federation's measured rounds as charts: accuracy per round (encrypted vs unencrypted domain), bytes per round
// and time per phase; and, separately, a loaded `npm run simulate -- --json` document.
import { PHASE_LABELS, PHASES, type RoundResult, type SimulationDoc } from '../stores/results.ts';
import { formatBytes } from '../../common/format-bytes.ts';
import { BarChart, formatMs, formatPercent, LineChart } from './Charts.tsx';

export function RoundCharts({ rounds }: { rounds: RoundResult[] }) {
  const sorted = [...rounds].sort((a, b) => a.round - b.round);
  const encrypted = sorted.filter((r) => r.accuracyEncrypted !== null).map((r) => ({ x: r.round, y: r.accuracyEncrypted as number }));
  const plain = sorted.filter((r) => r.accuracyUnencrypted !== null).map((r) => ({ x: r.round, y: r.accuracyUnencrypted as number }));
  const categories = sorted.map((r) => `round ${r.round}`);
  const notes = [...new Set(sorted.map((r) => r.accuracyNote))];
  return (
    <div className="charts">
      {encrypted.length || plain.length ? (
        <LineChart
          title="Accuracy per round"
          description={`Model accuracy after each round: encrypted domain ${encrypted.map((p) => formatPercent(p.y)).join(', ') || 'not measured'}; unencrypted domain ${plain.map((p) => formatPercent(p.y)).join(', ') || 'not measured'}.`}
          xLabel="round"
          yLabel="accuracy"
          yMax={1}
          format={formatPercent}
          series={[{ name: 'encrypted domain (CKKS)', points: encrypted }, ...(plain.length ? [{ name: 'unencrypted domain', points: plain, dashed: true }] : [])]}
        />
      ) : (
        <p className="muted">No accuracy yet: rounds of the sum strategy produce no classifier. Federations with the prototypes strategy report it.</p>
      )}
      {notes.map((n) => (
        <p key={n} className="muted small">
          {n}
        </p>
      ))}
      <BarChart
        title="Bytes per round and clinic"
        description={`Bytes each clinic uploaded and downloaded per round, and what the same values would take unencrypted. ${sorted.map((r) => `Round ${r.round}: ${formatBytes(r.bytesUpPerClinic)} up, ${formatBytes(r.bytesDownPerClinic)} down`).join('; ')}.`}
        categoryLabel="round"
        yLabel="bytes"
        categories={categories}
        format={formatBytes}
        series={[
          { name: 'uploaded (ciphertext)', values: sorted.map((r) => r.bytesUpPerClinic) },
          { name: 'downloaded (encrypted sum)', values: sorted.map((r) => r.bytesDownPerClinic) },
          { name: 'same values unencrypted', values: sorted.map((r) => r.bytesPlainPerClinic) },
        ]}
      />
      <BarChart
        title="Time per phase"
        description={`Milliseconds each phase of each round took in this browser. ${sorted.map((r) => `Round ${r.round}: ${PHASES.filter((p) => r.phaseMs[p] !== undefined).map((p) => `${PHASE_LABELS[p]} ${formatMs(r.phaseMs[p] as number)}`).join(', ')}`).join('; ')}.`}
        categoryLabel="phase"
        yLabel="time"
        categories={PHASES.map((p) => PHASE_LABELS[p])}
        format={formatMs}
        series={sorted.map((r) => ({ name: `round ${r.round}`, values: PHASES.map((p) => r.phaseMs[p] ?? null) }))}
      />
    </div>
  );
}

export function SimulationCharts({ doc, source }: { doc: SimulationDoc; source: string }) {
  const runs = doc.runs;
  const name = (r: SimulationDoc['runs'][number]) => `${r.strategy} · ${r.domain}${r.split ? ` · ${r.split}` : ''}`;
  const rounds = [...new Set(runs.flatMap((r) => r.rounds.map((x) => x.round)))].sort((a, b) => a - b);
  return (
    <div className="charts">
      <LineChart
        title={`Simulated accuracy per round (${source})`}
        description={runs.map((r) => `${name(r)}: final ${formatPercent(r.finalAccuracy)}`).join('; ')}
        xLabel="round"
        yLabel="accuracy"
        yMax={1}
        format={formatPercent}
        series={runs.map((r) => ({ name: name(r), points: r.rounds.map((x) => ({ x: x.round, y: x.accuracy })), dashed: r.domain === 'unencrypted' }))}
      />
      <BarChart
        title={`Simulated bytes uploaded per clinic (${source})`}
        description={runs.map((r) => `${name(r)}: ${r.rounds.map((x) => formatBytes(x.bytesUpPerClinic)).join(', ')}`).join('; ')}
        categoryLabel="round"
        yLabel="bytes"
        categories={rounds.map(String)}
        format={formatBytes}
        series={runs.map((r) => ({ name: name(r), values: rounds.map((k) => r.rounds.find((x) => x.round === k)?.bytesUpPerClinic ?? null) }))}
      />
    </div>
  );
}
