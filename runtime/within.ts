/** `p`'s value, or undefined if it has not settled within `ms` (or failed): for waits that must not hold anything up. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  return Promise.race([p.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}
