// The entry point the runner runs (dist/index.js). It is small on purpose:
// Node's compile cache (in the machine's temp folder, which a self-hosted
// runner keeps between jobs) is turned on before the
// action's 5 MB bundle is loaded, so that a self-hosted runner compiles it
// once, not on every step.
import * as module from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'

try {
  module.enableCompileCache?.(path.join(os.tmpdir(), 'kube-job-wait-compile-cache'))
} catch {
  // an unwritable folder only costs start-up time
}

// Bundled separately (npm run bundle): not followed by the bundler.
const action = './action/index.js'
const { main } = (await import(/* webpackIgnore: true */ action)) as { main: () => Promise<void> }
await main()
