/** Frame sizes and limits of the storage protocol (its ID is in shared/wire/protocols.ts). */

/** Control frames are JSON; tokens and paths fit easily. */
export const MAX_CONTROL_FRAME = 32 * 1024

/** Bytes per data frame unless the client asks otherwise. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024
export const MIN_CHUNK_SIZE = 16 * 1024
export const MAX_CHUNK_SIZE = 1024 * 1024

/** Data frame: kind(1) ‖ offset(8) ‖ sha256(32) ‖ bytes. */
export const DATA_HEADER_LENGTH = 1 + 8 + 32

/** Largest frame either side accepts, checked from the length prefix before buffering. */
export const MAX_FRAME = DATA_HEADER_LENGTH + MAX_CHUNK_SIZE

export const FRAME_CONTROL = 0
export const FRAME_DATA = 1

/** Longest object path (UTF-16 units) and path segment. */
export const MAX_PATH_LENGTH = 1024
export const MAX_SEGMENT_LENGTH = 255

/** Largest object one upload may declare (the relay's quotas usually bite first). */
export const MAX_OBJECT_SIZE = 2 ** 50
