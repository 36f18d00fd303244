// src/fl's RoundPoller of each federation this page follows, bound to the SPA's API client: the round status line,
// the timeline and a participation's wait all join it, so a round is polled once however many parts of the page
// follow it. It needs only the clinic's token, not the federation key.
import { RoundPoller } from '../../fl/round-poller.ts';
import { coordinatorApi } from '../api/coordinator.ts';

const pollers = new Map<string, RoundPoller>();

export function roundPoller(token: string, federationId: string): RoundPoller {
  const key = `${federationId}#${token}`;
  let poller = pollers.get(key);
  if (!poller) {
    poller = new RoundPoller((round, signal) => coordinatorApi.round(token, federationId, round, signal));
    pollers.set(key, poller);
  }
  return poller;
}
