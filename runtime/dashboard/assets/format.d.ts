// Types of format.js for the unit test (the page loads the .js as it is).
type Figure = number | null | undefined;
export function count(n: Figure): string;
export function bytes(n: Figure): string;
export function duration(ms: Figure): string;
export function latency(ms: Figure): string;
export function percent(x: Figure): string;
export function clock(t: number): string;
