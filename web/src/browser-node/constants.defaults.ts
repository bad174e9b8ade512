/** How long one ask of the status address may take before it counts as failed, ms. */
export const LOCATE_TIMEOUT_MS = 10_000

/** The first wait after a failed ask of the status address, ms; it doubles from there. */
export const LOCATE_INITIAL_DELAY_MS = 1_000

/** The longest wait between asks of the status address, ms: a relay that comes back is found within it. */
export const LOCATE_MAX_DELAY_MS = 30_000

/** Where a page asks for its relay's addresses when nobody said: the relay that served it. */
export const STATUS_PATH = '/status'
