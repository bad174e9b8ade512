/** What widgets' nodes and their relays say to each other. */
export { MAX_WIDGET_FRAME, validateWidgetReport } from './widget-wire.ts'
export type { WidgetReport } from './widget-wire.ts'
