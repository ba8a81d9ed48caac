// The entry point the runner runs (dist/index.js, one bundle).
import { keepYoungGenerationSmall } from './heap.js'
import { run } from './github/main.js'

keepYoungGenerationSmall()

try {
  // Outputs and summary are written when run() returns: the exit needs nothing more.
  await run({}, { exiting: true })
} catch (err) {
  console.error(`::error::kube-job-wait failed unexpectedly: ${(err as Error)?.message ?? err}`)
  process.exitCode = 1
} finally {
  // Open sockets must not keep a finished (or cancelled) step alive.
  process.exit()
}
