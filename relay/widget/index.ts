/** The relay's side of the widget: the board of widgets' reports and its HTTP route. */
export { widgetBoard, WidgetBoard } from './widget-board.ts'
export type { WidgetBoardComponents, WidgetBoardInit, WidgetStats } from './widget-board.ts'
export { widgetRoutes } from './widget-routes.ts'
