/**
 * The wire toolkit every protocol is written with: protocol IDs, JSON
 * frames and their schema checks, signed envelopes, and errors as they
 * cross the wire.
 */
export { ErrorTable, errorToWire } from './errors.ts'
export type { WireError } from './errors.ts'
export { decodeJson, encodeJson } from './json.ts'
export type { Validator } from './json.ts'
export * from './protocols.ts'
export { decodeSignedJson, openSignedJson, signJson, verifySigned } from './signed.ts'
export type { DecodeSignedOptions, Signed, SignedKind, UnverifiedSigned } from './signed.ts'
export {
  expectBase64, expectBoolean, expectHex, expectInt, expectList, expectLiteral, expectNumber, expectPeerId, expectRecord,
  expectSha256, expectString, expectStringList, isHex, isRecord, isSha256Hex, literalItem, MAX_PEER_ID_LENGTH, stringItem
} from './validators.ts'
export type { Fields, ItemCheck } from './validators.ts'
