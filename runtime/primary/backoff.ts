/**
 * Restart delay as a function of the attempt (as ioredis' retryStrategy):
 * exponential from `baseMs`, capped at `maxMs`. Attempt 1 waits baseMs.
 */
export function restartDelay(attempt: number, baseMs: number, maxMs: number): number {
  if (attempt <= 1) return Math.min(baseMs, maxMs);
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}
