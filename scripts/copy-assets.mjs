// The build's second step: tsc compiles runtime/ to dist/runtime/ but copies no other file;
// the dashboard's page (runtime/dashboard/assets) must reach the package too.
import fs from 'node:fs';

fs.cpSync(new URL('../runtime/dashboard/assets/', import.meta.url), new URL('../dist/runtime/dashboard/assets/', import.meta.url), { recursive: true });
