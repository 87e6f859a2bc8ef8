// Loads test/vectors/esp/<name>.json (tsc does not copy JSON into dist/); each file names its source.
import { loadVectors } from '../crypto/load-vectors.js'

export function loadEspVectors<T>(name: string): T & { source: string } { return loadVectors<T>('esp', name) }
