// Test hook, never set in a deployment: FAULT_INJECT=<point> makes this coordinator process SIGKILL itself when it
// reaches that named step of a round, so the replica test (replicas.test.ts) can crash a replica at an exact point
// instead of racing a kill against the event loop. Unset (the default), crashPoint() does nothing. Points:
// - before-close: a round is due (quorum reached and every clinic in, or the deadline past), the compare-and-set
//   collecting → aggregating not yet run;
// - before-complete: the round is aggregating, this process holds it and has stored the sum's blob, the
//   compare-and-set aggregating → closed not yet run.
export const FAULT_POINTS = ['before-close', 'before-complete'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

function armedPoint(raw: string | undefined): FaultPoint | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!(FAULT_POINTS as readonly string[]).includes(raw)) throw new Error(`FAULT_INJECT (a test hook) must be one of ${FAULT_POINTS.join(', ')}, got ${raw}`);
  return raw as FaultPoint;
}

/** The point this process will kill itself at, if any (main.ts says so at start). Throws on an unknown name. */
export const ARMED_FAULT_POINT = armedPoint(process.env.FAULT_INJECT);

/** SIGKILLs this process, as a crash (no cleanup, no reply), when FAULT_INJECT names this point. */
export function crashPoint(point: FaultPoint): void {
  if (ARMED_FAULT_POINT === point) process.kill(process.pid, 'SIGKILL');
}
