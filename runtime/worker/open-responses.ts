/**
 * The responses a worker has not finished yet, each with when its request
 * started: a drain marks them Connection: close, and each one's end feeds
 * the duration histogram.
 *
 * This runs twice per request, so it is an array with swap-remove and two
 * symbol-keyed fields on the response (its slot, its start), not a Map
 * keyed by the response. A Map needs the key's identity hash, which V8
 * creates on first use for every new response, and with the insert and the
 * delete that cost about 200 ns per request in a micro-benchmark, about
 * 2.5 % of a hello-world keep-alive request here (the largest part of the
 * per-request accounting). The two fields are added to every tracked
 * response in the same order, as node itself adds its own after
 * construction, so node's code sees one shape.
 *
 *   list: [ resA, resB, resC ]     remove(resA): resC moves to slot 0
 *           0     1     2                       list: [ resC, resB ]
 */
import type http from 'node:http';

const kSlot = Symbol('shoal.slot');
const kStart = Symbol('shoal.start');

interface Tracked { [kSlot]?: number; [kStart]?: number }

export class OpenResponses {
  readonly #list: http.ServerResponse[] = [];

  get size(): number { return this.#list.length; }

  /** A response whose request started at `t0` (performance.now()). */
  add(res: http.ServerResponse, t0: number): void {
    const t = res as http.ServerResponse & Tracked;
    t[kSlot] = this.#list.length;
    t[kStart] = t0;
    this.#list.push(res);
  }

  /** Forgets a response; returns when its request started, or undefined if it was not here. */
  remove(res: http.ServerResponse): number | undefined {
    const t = res as http.ServerResponse & Tracked;
    const i = t[kSlot];
    // A stale slot (the response was removed before) holds another response or nothing.
    if (i === undefined || this.#list[i] !== res) return undefined;
    const last = this.#list.pop()!;
    if (last !== res) {
      this.#list[i] = last;
      (last as http.ServerResponse & Tracked)[kSlot] = i;
    }
    return t[kStart];
  }

  [Symbol.iterator](): IterableIterator<http.ServerResponse> {
    return this.#list.values();
  }
}
