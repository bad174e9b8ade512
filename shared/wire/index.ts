/** The wire toolkit: errors as they cross the wire. */
export { ErrorTable, errorToWire } from './errors.ts'
export type { WireError } from './errors.ts'
