// The young generation's size for a long wait. V8 doubles it whenever the
// bytes that survived its collections since it last grew exceed its size; the
// count never decays, so a wait that reads pod events for minutes grows it to
// its maximum (128 MB with both halves, most of the peak RSS of a large wait)
// though little survives each collection. Its maximum is fixed when the
// process starts (a flag set now is not read again), but the growth factor is
// read at each growth: 1 keeps the young generation at its first size. Our
// process is `node dist/index.js`, started by the runner: no command-line flag
// of ours. bench/README.md ("Peak RSS") has the figures; heap.test.ts fails if
// V8 stops honouring the flag.
import { setFlagsFromString } from 'node:v8'

export const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1'

export function keepYoungGenerationSmall(): void {
  setFlagsFromString(YOUNG_GENERATION_FLAG)
}
