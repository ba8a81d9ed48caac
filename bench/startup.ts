// Start-up alone, without a cluster: spawn → first API request for the
// action's bundle (cold and warm compile cache), `kubectl wait` and `node -e`,
// against a local HTTPS server (lib/startup.ts, which figure 4 of
// `npm run bench` runs too).
//
//   node bench/startup.ts [--runs 10] [--dist dist] [--no-kubectl] [--floors] [--node-arg=--cpu-prof]
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT } from '../__tests__/support/run-dist.ts'
import { resolveKubectl } from './lib/cluster.ts'
import { measureStartup } from './lib/startup.ts'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    dist: { type: 'string', default: path.join(ROOT, 'dist') },
    'no-kubectl': { type: 'boolean', default: false },
    /** also the floors of the HTTP clients: undici's Agent (its public entry) and node:http2, one GET each */
    floors: { type: 'boolean', default: false },
    /** e.g. --node-arg=--cpu-prof to see where the time goes */
    'node-arg': { type: 'string', multiple: true, default: [] }
  }
})
const RUNS = Number(args.runs)
const DIST = path.resolve(args.dist, 'index.js')
// BENCH_KUBECTL, else kubectl on PATH (the plain kubectl.1.NN instead of a Google Cloud SDK dispatcher, as npm run bench)
const kubectl = args['no-kubectl'] ? undefined : resolveKubectl().path

// The HTTP clients alone, each making one GET over TLS with h2 offered: what a Node client pays before its first request.
const undici = JSON.stringify(path.join(ROOT, 'node_modules', 'undici'))
const FLOORS = {
  "node -e: undici's Agent (allowH2), one GET": [
    `const { Agent } = require(${undici})`,
    `const u = new URL(__SERVER__)`,
    `new Agent({ allowH2: true, connect: { rejectUnauthorized: false } }).request({ origin: u.origin, path: '/version', method: 'GET' }).catch(() => {})`
  ].join('; '),
  'node -e: node:http2, one GET': [
    `const s = require('node:http2').connect(__SERVER__, { rejectUnauthorized: false })`,
    `s.on('error', () => {})`,
    `s.request({ ':path': '/version' }).on('error', () => {}).resume()`
  ].join('; ')
}

const { results, cacheFiles, floors } = await measureStartup({
  runs: RUNS,
  entry: DIST,
  kubectl,
  nodeArgs: args['node-arg'],
  floors: args.floors ? FLOORS : undefined
})

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}
const bundle = path.join(path.dirname(DIST), 'action', 'index.js')
const bytes = fs.existsSync(bundle) ? fs.statSync(bundle).size : fs.statSync(DIST).size
console.log(`dist: ${path.relative(process.cwd(), DIST) || DIST}; bundle ${bytes} bytes; compile cache entries (warm): ${cacheFiles}`)
console.log(`spawn → first API request, ${RUNS} runs each (ms): p50 / min / max`)
for (const [name, xs] of Object.entries({ ...results, ...floors })) {
  if (!xs.length) continue
  console.log(
    `  ${name.padEnd(44)} ${pct(xs, 50).toFixed(0).padStart(5)} ${Math.min(...xs)
      .toFixed(0)
      .padStart(5)} ${Math.max(...xs)
      .toFixed(0)
      .padStart(5)}`
  )
}
console.log(
  `load average: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`
)
console.log(JSON.stringify({ dist: DIST, bytes, runs: RUNS, results, floors }))
