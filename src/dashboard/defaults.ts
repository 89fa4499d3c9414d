/** Where the dashboard listens unless told otherwise; light to import, for the command's help. */
export const DEFAULT_DASHBOARD_PORT = 4777;
