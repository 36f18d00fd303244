// Admin page, the coordinator's background jobs: with replicas on Postgres, the jobs pg-boss gave up on after every
// retry (the dead-letter queue), each with its round, attempts and last error; embedded, a line saying there is no
// job queue, since the work runs in-process and is retried every second.
import type { DeadLetterView, JobsView } from '../../protocol/api.ts';
import { useAdmin } from '../stores/admin.ts';
import { ColumnHeads, Section } from './Section.tsx';

const JOB_TEXT: Record<DeadLetterView['job'], string> = { aggregate: 'aggregation', deadline: 'deadline close', retention: 'upload retention' };
const COLUMNS = ['Job', 'Federation', 'Round', 'Attempts', 'Last error', 'Given up'] as const;

function queueText(jobs: JobsView): string {
  if (jobs.queue === 'in-process') {
    return 'No job queue: this coordinator runs embedded (node:sqlite), so aggregation, deadlines and retention run in-process. A failed aggregation is tried again every second, and after a restart.';
  }
  return jobs.deadLetters.length === 0
    ? 'Job queue: pg-boss on the shared Postgres. No dead-lettered job: every job has succeeded or is still being retried.'
    : 'Job queue: pg-boss on the shared Postgres. These jobs failed every attempt. A round whose aggregation is listed stays “adding the ciphertexts”: once the cause is fixed, reset it under its federation’s rounds.';
}

function DeadLetters({ rows }: { rows: readonly DeadLetterView[] }) {
  return (
    <table className="results" data-testid="dead-letters">
      <caption>Dead-lettered jobs, newest first</caption>
      <ColumnHeads columns={COLUMNS} />
      <tbody>
        {rows.map((d) => (
          <tr key={d.id}>
            <th scope="row">{JOB_TEXT[d.job]}</th>
            <td>
              <code>{d.federationId}</code>
            </td>
            <td>{d.round}</td>
            <td>{d.attempts}</td>
            <td>
              <code className="detail">{d.lastError}</code>
            </td>
            <td>
              <time dateTime={d.deadLetteredAt}>{new Date(d.deadLetteredAt).toLocaleString()}</time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function JobsSection({ step }: { step: number }) {
  const jobs = useAdmin((s) => s.jobs);
  return (
    <Section step={step} title="Background jobs">
      {jobs ? (
        <p data-testid="job-queue" className={jobs.deadLetters.length ? 'notice warn' : undefined}>
          {queueText(jobs)}
        </p>
      ) : (
        <p className="busy">Reading the job queue…</p>
      )}
      {jobs?.deadLetters.length ? <DeadLetters rows={jobs.deadLetters} /> : null}
    </Section>
  );
}
