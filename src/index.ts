// The entry point the runner runs (dist/index.js, one bundle).
import { run } from './main.js'

try {
  await run()
} catch (err) {
  console.error(`::error::kube-job-wait failed unexpectedly: ${(err as Error)?.message ?? err}`)
  process.exitCode = 1
} finally {
  // Open sockets must not keep a finished (or cancelled) step alive.
  process.exit()
}
