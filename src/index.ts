// The action's entry point: the runner runs dist/index.js, built from here.
import { run } from './main.js'

run()
  .catch((err: unknown) => {
    console.error(`::error::kube-job-wait failed unexpectedly: ${(err as Error)?.message ?? err}`)
    process.exitCode = 1
  })
  .finally(() => {
    // Open sockets must not keep a finished (or cancelled) step alive.
    process.exit()
  })
